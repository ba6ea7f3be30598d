"""``gridgov stats``: the standard figures of an area for a period.

gridgov stats [--area CODE] [--from DATE] [--to DATE] [--json]

The same numbers as the dashboard (``analytics.selectors.task_figures``). The period is
the local days ``--from``–``--to``, both included; by default the last 7 days (today
excluded). See docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt
import json
from argparse import ArgumentParser
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.analytics.selectors import default_period, figures_as_json, task_figures
from gridgov.areas.selectors import area_get_by_code
from gridgov.core.errors import GridgovError

#: The keys of ``--json``, exactly these (issue 5, "The figures").
JSON_KEYS = (
    "issued",
    "due",
    "closed",
    "closed_on_time",
    "closure_rate",
    "on_time_rate",
    "rework_rate",
    "extension_rate",
    "overdue_open",
    "by_category",
    "by_source",
    "by_area",
)


def _date(option: str, text: str | None) -> dt.date | None:
    """Parse a YYYY-MM-DD option in ``handle`` (so bad input exits 1 with ``CommandError``)."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("%(option)s: %(text)r is not a date like 2025-06-01.")
            % {"option": option, "text": text}
        ) from None


def stats_json(figures: dict[str, Any]) -> dict[str, Any]:
    """Return the ``--json`` document of ``figures`` (the keys of ``JSON_KEYS``)."""
    data = figures_as_json(figures)
    return {key: data[key] for key in JSON_KEYS}


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


class Command(BaseCommand):
    help = (
        "Print the standard figures (issued, due, closed, closure and on-time rates, rework "
        "and extension rates, overdue now, by source, category and area) for an area and "
        "period; default the last 7 days."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--area", metavar="CODE", help="an area code (default: every area)")
        parser.add_argument(
            "--from", dest="start", metavar="DATE",
            help="first day (YYYY-MM-DD, local time; default 7 days ago)",
        )  # fmt: skip
        parser.add_argument(
            "--to", dest="end", metavar="DATE",
            help="last day, included (YYYY-MM-DD; default yesterday)",
        )  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = default_period(timezone.localdate())
        start = _date("--from", options["start"]) or start
        end = _date("--to", options["end"]) or end
        try:
            area = area_get_by_code(code=options["area"]) if options["area"] else None
            figures = task_figures(area=area, start=start, end=end)
        except GridgovError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(stats_json(figures), ensure_ascii=False, indent=2))
            return
        self._print(figures, area_label=str(area) if area else _("every area"))

    def _print(self, f: dict[str, Any], *, area_label: str) -> None:
        out = self.stdout.write
        out(f"{area_label}  {f['start']} – {f['end']}")
        rows = [
            (_("Issued"), f["issued"]),
            (_("Due"), f["due"]),
            (_("Closed"), f["closed"]),
            (_("Closed on time"), f["closed_on_time"]),
            (_("Closure rate"), _pct(f["closure_rate"])),
            (_("On-time closure rate"), _pct(f["on_time_rate"])),
            (_("Rework rate"), _pct(f["rework_rate"])),
            (_("Extension rate"), _pct(f["extension_rate"])),
            (_("Overdue now"), f["overdue_open"]),
        ]
        for label, value in rows:
            out(f"  {label}: {value}")
        for title, key, rows_ in (
            (_("By source"), "source", f["by_source"]),
            (_("By category"), "category", f["by_category"]),
        ):
            out(title)
            for row in rows_:
                out(
                    f"  {row[key]} {row['name']}: {row['issued']} / {row['due']} / "
                    f"{row['closed']} · {_pct(row['closure_rate'])}"
                )
        if f["by_area"]:
            out(_("By area"))
            for row in f["by_area"]:
                out(
                    f"  {row['code']} {row['name']}: {_pct(row['closure_rate'])} "
                    f"{_pct(row['on_time_rate'])} {_pct(row['rework_rate'])} · "
                    f"{row['score'] if row['score'] is not None else '—'} {row['grade'] or ''}"
                )
