"""``gridgov sweep [--now ISO] [--json]``: run the SLA sweep once and print what it did."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import GridgovError
from gridgov.tasks.sweep import sweep_run


def _parse_now(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("--now %(value)r is not an ISO 8601 date and time (e.g. 2026-02-24T18:00+08:00).")
            % {"value": text}
        ) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # local time (settings.TIME_ZONE)
    return value


class Command(BaseCommand):
    help = _(
        "Mark overdue tasks and escalate them (reminder, grid leader, supervision), once. "
        "The worker runs this every minute."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            help=_("Act as of this time (ISO 8601; without an offset: local time)."),
        )
        parser.add_argument("--json", action="store_true", help=_("Print the report as JSON."))

    def handle(self, *args: Any, **options: Any) -> None:
        now = _parse_now(options["now"]) if options["now"] else None
        try:
            report = sweep_run(now=now)
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        levels = report.escalated
        self.stdout.write(
            _(
                "Sweep as of %(now)s: %(overdue)d newly overdue; escalated: %(l1)d reminded, "
                "%(l2)d to grid leaders, %(l3)d under supervision; %(resolved)d supervision "
                "records resolved; %(notes)d notifications queued (%(seconds).2f s)."
            )
            % {
                "now": timezone.localtime(report.now).isoformat(timespec="seconds"),
                "overdue": report.overdue,
                "l1": levels[1],
                "l2": levels[2],
                "l3": levels[3],
                "resolved": report.supervision_resolved,
                "notes": report.notifications,
                "seconds": report.seconds,
            }
        )
