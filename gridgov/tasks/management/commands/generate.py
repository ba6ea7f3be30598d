"""``gridgov generate``: routine tasks from the catalogue's recurring rules.

gridgov generate --from 2025-06-01 --until 2025-07-01 [--rule CODE …] [--area CODE] [--json]

Every active recurring rule × every target it selects × every occurrence in
``[--from, --until)`` (local dates; ``--until`` is excluded) becomes one dispatched task.
Reruns create only what is missing. See docs/tasks.md, "Routine generation".
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
from gridgov.tasks.generation import BATCH_SIZE, GenerationSummary, generation_run


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
        end.add_argument("--days", type=int, metavar="N", help="the window is N days from --from")
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
        if options["days"] is not None:
            if options["days"] < 1:
                raise CommandError(_("--days must be at least 1"))
            options["end"] = options["start"] + dt.timedelta(days=options["days"])
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
