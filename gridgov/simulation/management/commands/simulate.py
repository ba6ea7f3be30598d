"""``gridgov simulate --days N [--start DATE] [--seed S] [--area CODE] [--json]``: run the
street's last days on a simulated clock through the real services, then print the
headline figures (the same as ``gridgov stats`` for the simulated period).

"What if" knobs: ``--workers-factor`` (share of grid workers at work), ``--capacity``
(tasks per holder per working day), ``--event-rate-factor``. See docs/simulation.md.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from tqdm import tqdm

from gridgov.analytics.selectors import figures_as_json
from gridgov.areas.selectors import area_get_by_code
from gridgov.core.errors import GridgovError
from gridgov.simulation.rates import DEFAULT_CAPACITY, Knobs
from gridgov.simulation.services import SimulationReport, simulation_run

#: The headline figures, in the order they are printed and keyed in ``--json``.
HEADLINE = (
    "issued",
    "due",
    "closed",
    "closed_on_time",
    "closure_rate",
    "on_time_rate",
    "rework_rate",
    "overdue_open",
)
#: The keys of ``--json``.
JSON_KEYS = (
    "start",
    "end",
    "area",
    "seed",
    "knobs",
    "days_simulated",
    "days_skipped",
    "seconds",
    "counts",
    "problems",
    "figures",
)


def report_json(report: SimulationReport) -> dict[str, Any]:
    """The ``--json`` document of a run (keys ``JSON_KEYS``; figures: ``HEADLINE`` plus
    ``by_source`` and ``by_category``, JSON types)."""
    figures = figures_as_json(report.figures)
    return {
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "area": report.area,
        "seed": report.seed,
        "knobs": {
            "workers_factor": report.knobs.workers_factor,
            "capacity": report.knobs.capacity,
            "event_rate_factor": report.knobs.event_rate_factor,
        },
        "days_simulated": len(report.simulated),
        "days_skipped": len(report.skipped),
        "seconds": round(report.seconds, 2),
        "counts": dict(sorted(report.counts.items())),
        "problems": report.problems,
        "figures": {key: figures[key] for key in (*HEADLINE, "by_source", "by_category")},
    }


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("--start %(text)r is not a date like 2026-10-01.") % {"text": text}
        ) from None


#: The names of ``SimulationReport.counts`` as the summary prints them (``--json`` keeps
#: the keys).
ACTION_LABELS = {
    "reports_created": gettext_lazy("reports created"),
    "routine_generated": gettext_lazy("routine tasks generated"),
    "registered": gettext_lazy("registered"),
    "rejected": gettext_lazy("rejected"),
    "dispatched": gettext_lazy("dispatched"),
    "transferred": gettext_lazy("transferred"),
    "accepted": gettext_lazy("accepted"),
    "handled": gettext_lazy("feedback submitted"),
    "verified_pass": gettext_lazy("verified and closed"),
    "verified_fail": gettext_lazy("returned for rework"),
    "extension_requested": gettext_lazy("extensions requested"),
    "extension_approved": gettext_lazy("extensions approved"),
    "extension_refused": gettext_lazy("extensions refused"),
    "sweeps": gettext_lazy("sweeps"),
    "marked_overdue": gettext_lazy("marked overdue"),
    "refused": gettext_lazy("refused by the services"),
}


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


class Command(BaseCommand):
    help = (
        "Simulate the street's last days through the real services (reports, dispatch, grid "
        "workers, verification, the routine and the sweep) and print the headline figures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, required=True, help="how many days (1–366)")
        parser.add_argument(
            "--start", metavar="DATE",
            help="first day, YYYY-MM-DD (default: DAYS days ago, so the run ends yesterday)",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument("--area", metavar="CODE", help="limit the simulation to this area")
        parser.add_argument(
            "--workers-factor", type=float, default=1.0,
            help="share of grid workers at work, above 0 and at most 1 (default 1)",
        )  # fmt: skip
        parser.add_argument(
            "--capacity", type=int, default=DEFAULT_CAPACITY,
            help=f"tasks a holder finishes per working day (default {DEFAULT_CAPACITY})",
        )  # fmt: skip
        parser.add_argument(
            "--event-rate-factor", type=float, default=1.0,
            help="multiply every report rate by this (default 1)",
        )  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        start = _date(options["start"]) if options["start"] else None
        knobs = Knobs(
            workers_factor=options["workers_factor"],
            capacity=options["capacity"],
            event_rate_factor=options["event_rate_factor"],
        )
        bar = tqdm(
            total=max(0, options["days"]),
            unit=pgettext("progress bar unit", "day"),
            desc="simulate",
            file=sys.stderr,
        )

        def progress(day: dt.date, simulated: bool) -> None:
            bar.set_postfix_str(f"{day.isoformat()}{'' if simulated else ' ' + _('(done before)')}")
            bar.update(1)

        try:
            area = area_get_by_code(code=options["area"]) if options["area"] else None
            report = simulation_run(
                days=options["days"], start=start, seed=options["seed"], area=area, knobs=knobs,
                progress=progress,
            )  # fmt: skip
        except GridgovError as error:
            raise CommandError(error.message) from None
        finally:
            bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(report_json(report), ensure_ascii=False, indent=2))
            return
        self._print(report)

    def _print(self, report: SimulationReport) -> None:
        out = self.stdout.write
        f = report.figures
        out(
            _(
                "Simulated %(done)d day(s) of %(start)s – %(end)s (%(skipped)d already "
                "simulated) in %(seconds).1f s."
            )
            % {
                "done": len(report.simulated), "skipped": len(report.skipped),
                "start": report.start.isoformat(), "end": report.end.isoformat(),
                "seconds": report.seconds,
            }
        )  # fmt: skip
        labels = {
            "issued": _("Issued"),
            "due": _("Due"),
            "closed": _("Closed"),
            "closed_on_time": _("Closed on time"),
            "closure_rate": _("Closure rate"),
            "on_time_rate": _("On-time closure rate"),
            "rework_rate": _("Rework rate"),
            "overdue_open": _("Overdue now"),
        }
        for key in HEADLINE:
            value = f[key]
            out(f"  {labels[key]}: {_pct(value) if key.endswith('_rate') else value}")
        actions = ", ".join(
            f"{ACTION_LABELS.get(name, name)} {n}" for name, n in sorted(report.counts.items())
        )
        out(_("Actions: %(actions)s") % {"actions": actions or "—"})
        if report.problems:
            out(_("Refused (first %(n)d):") % {"n": len(report.problems)})
            for problem in report.problems:
                out(f"  {problem}")
