"""``gridgov calendar sync [--year Y …]`` and ``gridgov calendar show YEAR``."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from gridgov.core import selectors, services
from gridgov.core.errors import GridgovError
from gridgov.core.models import CalendarYear


class Command(BaseCommand):
    help = (
        "Working calendar. 'sync' reloads the official holidays from the chinesecalendar "
        "package (rows entered by hand are kept); 'show YEAR' lists a year's exceptions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sync = sub.add_parser("sync", help="Reload holidays from the chinesecalendar package.")
        sync.add_argument(
            "--year",
            dest="years",
            type=int,
            action="append",
            metavar="YEAR",
            help="Only this year (repeatable); default: every year the package knows.",
        )
        sync.add_argument("--json", action="store_true", help="Print the counts as JSON.")
        show = sub.add_parser("show", help="List a year's holidays and working weekend days.")
        show.add_argument("year", type=int)
        show.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "sync":
                self._sync(options)
            else:
                self._show(options)
        except GridgovError as exc:
            raise CommandError(exc.message) from exc

    def _sync(self, options: dict[str, Any]) -> None:
        result = services.calendar_sync_from_package(years=options["years"])
        if options["json"]:
            self.stdout.write(json.dumps(result.__dict__, ensure_ascii=False))
            return
        self.stdout.write(
            _(
                "chinesecalendar %(version)s: years %(first)s–%(last)s; days created "
                "%(created)d, updated %(updated)d, unchanged %(unchanged)d, deleted "
                "%(deleted)d, kept (entered by hand) %(kept)d; years added %(years)d."
            )
            % {
                "version": result.package_version,
                "first": result.years[0],
                "last": result.years[-1],
                "created": result.days_created,
                "updated": result.days_updated,
                "unchanged": result.days_unchanged,
                "deleted": result.days_deleted,
                "kept": result.manual_kept,
                "years": result.years_created,
            }
        )

    def _show(self, options: dict[str, Any]) -> None:
        year = options["year"]
        known = CalendarYear.objects.filter(year=year).first()
        rows = list(selectors.calendar_day_list(year=year))
        if options["json"]:
            payload = {
                "year": year,
                "known": known is not None,
                "source": known.source if known else None,
                "days": [
                    {
                        "date": row.date.isoformat(),
                        "is_working_day": row.is_working_day,
                        "name": row.name,
                        "source": row.source,
                    }
                    for row in rows
                ],
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
            return
        status = (
            _("known (%(source)s)") % {"source": known.source}
            if known
            else _("UNKNOWN: Monday–Friday fallback")
        )
        self.stdout.write(
            _("%(year)s: %(status)s, %(n)d exception(s)")
            % {"year": year, "status": status, "n": len(rows)}
        )
        for row in rows:
            kind = _("working day") if row.is_working_day else _("day off")
            self.stdout.write(
                f"  {row.date.isoformat()} {WEEKDAYS[row.date.weekday()]} {kind} {row.name} "
                f"[{row.source}]"
            )
