"""``gridgov generate``: routine tasks from the catalogue's recurring rules.

gridgov generate --from 2025-06-01 --until 2025-07-01 [--rule CODE …] [--area CODE] [--json]

Every active recurring rule × every target it selects × every occurrence in
``[--from, --until)`` (local dates; ``--until`` is excluded) becomes one dispatched task.
Reruns create only what is missing. The window is at most ``WINDOW_DAYS_MAX`` (366) days
and lies in the years ``YEAR_MIN…YEAR_MAX``: generation is the routine ahead of time, and a
window of decades would commit millions of tasks batch by batch before anyone could stop it.
See docs/tasks.md, "Routine generation".
"""

from __future__ import annotations

import datetime as dt
import json
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from gridgov.areas.selectors import area_get_by_code
from gridgov.core.errors import GridgovError
from gridgov.core.validators import YEAR_MAX, YEAR_MIN, year_in_range
from gridgov.tasks.generation import BATCH_SIZE, GenerationSummary, generation_run

#: The longest window one run may generate, in days (a leap year; ``simulate`` has the same
#: bound). Longer horizons are several runs, each of them checked by a person.
WINDOW_DAYS_MAX = 366


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(
            _("%(text)r is not a date like 2025-06-01.") % {"text": text}
        ) from None


class Command(BaseCommand):
    help = (
        "Generate the routine tasks of every active recurring rule for the days from "
        "--from up to (not including) --until. Idempotent: reruns create only what is missing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--from", dest="start", type=_date, metavar="DATE",
            help="first day of the window (YYYY-MM-DD, local time; default today)",
        )  # fmt: skip
        end = parser.add_mutually_exclusive_group(required=True)
        end.add_argument(
            "--until", dest="end", type=_date, metavar="DATE",
            help="day after the window (YYYY-MM-DD, excluded)",
        )  # fmt: skip
        end.add_argument(
            "--days", type=int, metavar="N",
            help=f"the window is N days from --from (1–{WINDOW_DAYS_MAX})",
        )  # fmt: skip
        parser.add_argument(
            "--rule", dest="rules", action="extend", nargs="+", metavar="CODE",
            help="only these rules (6-digit codes; default: every active recurring rule)",
        )  # fmt: skip
        parser.add_argument(
            "--area", metavar="CODE", help="only targets inside this area (an area code)"
        )
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE,
            help=f"tasks per transaction (default {BATCH_SIZE})",
        )  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        bar: tqdm[Any] | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="task", desc="generate", disable=None)
            bar.update(done - bar.n)

        if options["start"] is None:
            options["start"] = timezone.localdate()
        self._window(options)
        try:
            area = area_get_by_code(code=options["area"]) if options["area"] else None
            summary = generation_run(
                start=options["start"],
                end=options["end"],
                rule_codes=options["rules"],
                area=area,
                batch_size=options["batch_size"],
                progress=progress,
            )
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        finally:
            if bar is not None:
                bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
        else:
            self._print(summary)

    def _window(self, options: dict[str, Any]) -> None:
        """Set ``options["end"]`` from ``--days`` and check the window: raise
        ``CommandError`` when ``--days`` is outside ``1…WINDOW_DAYS_MAX``, when the window is
        longer than ``WINDOW_DAYS_MAX`` days, or when a day of it is outside the years
        ``YEAR_MIN…YEAR_MAX`` (``gridgov.core.validators``). An empty window is left to
        ``generation_run``, which refuses it."""
        start: dt.date = options["start"]
        days: int | None = options["days"]
        self._year("--from", start)
        if days is not None:
            if not 1 <= days <= WINDOW_DAYS_MAX:
                raise CommandError(
                    _("--days must be between 1 and %(max)d (got %(days)d).")
                    % {"max": WINDOW_DAYS_MAX, "days": days}
                )
            # No overflow: start is at most YEAR_MAX-12-31, and YEAR_MAX + 1 is a valid year.
            options["end"] = start + dt.timedelta(days=days)
        end: dt.date = options["end"]
        if end > start:
            self._year("--until", end - dt.timedelta(days=1))
        if (end - start).days > WINDOW_DAYS_MAX:
            raise CommandError(
                _("The window is %(days)d days long; one run generates at most %(max)d days "
                  "(routine tasks ahead of time). Generate a long horizon in several runs.")
                % {"days": (end - start).days, "max": WINDOW_DAYS_MAX}
            )  # fmt: skip

    @staticmethod
    def _year(name: str, day: dt.date) -> None:
        if not year_in_range(day):
            raise CommandError(
                _("%(name)s: the window must lie in the years %(min)d to %(max)d "
                  "(got %(day)s).")
                % {"name": name, "min": YEAR_MIN, "max": YEAR_MAX, "day": day.isoformat()}
            )  # fmt: skip

    def _print(self, summary: GenerationSummary) -> None:
        self.stdout.write(
            _("Window %(start)s – %(end)s: %(created)d created, %(skipped)d already there, "
              "%(retired)d for retired areas left out.")
            % {
                "start": summary.start.isoformat(),
                "end": summary.end.isoformat(),
                "created": summary.created,
                "skipped": summary.skipped,
                "retired": summary.retired,
            }
        )  # fmt: skip
        for code, counts in sorted(summary.per_rule.items()):
            if counts.created or counts.skipped or counts.retired:
                self.stdout.write(
                    f"  {code}  {counts.created:>9} {_('created')}  "
                    f"{counts.skipped:>9} {_('already there')}"
                    + (f"  {counts.retired:>6} {_('retired')}" if counts.retired else "")
                )
