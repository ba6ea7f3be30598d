"""``gridgov deadline START "N UNIT" [--json]``: print the deadline of a time limit."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gridgov.core.calendar import calendar_current, parse_time_limit, unknown_years_message
from gridgov.core.errors import GridgovError, ValidationFailed
from gridgov.core.validators import YEAR_MAX, YEAR_MIN, year_in_range


def _parse_start(text: str) -> dt.datetime:
    """The start as a datetime; ``ValidationFailed`` when unreadable or when its year lies
    outside ``core.validators.YEAR_MIN…YEAR_MAX`` (so the message names the start, not
    the time limit, when the deadline would pass year 9999)."""
    try:
        start = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            _("Cannot read the start %(text)r; write it like 2026-02-13T10:00+08:00.")
            % {"text": text}
        ) from None
    if not year_in_range(start):
        raise ValidationFailed(
            _("The start %(start)s is out of range: its year must be between %(min)d and "
              "%(max)d.")
            % {"start": start.isoformat(), "min": YEAR_MIN, "max": YEAR_MAX}
        )  # fmt: skip
    return start


class Command(BaseCommand):
    help = (
        "Print the deadline of a time limit, e.g. gridgov deadline 2026-02-13T10:00+08:00 "
        '"3 work_day" → 2026-02-25T17:30:00+08:00. Units: urgent_hour, work_hour, '
        "work_day, natural_day."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("start", help="ISO 8601 date and time with an offset.")
        parser.add_argument("time_limit", help='"N UNIT", e.g. "3 work_day" or "1.5 work_hour".')
        parser.add_argument(
            "--json",
            action="store_true",
            help='Print {"start", "amount", "unit", "deadline", "warnings"}.',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start = _parse_start(options["start"])
            amount, unit = parse_time_limit(options["time_limit"])
            calendar = calendar_current()
            deadline = calendar.deadline(start, amount, unit, warn=False)
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        messages = []
        if unit in ("work_day", "work_hour"):
            local_start = start.astimezone(calendar.time_zone)
            years = calendar.unknown_years(local_start.date(), deadline.date())
            messages = [unknown_years_message(years)] if years else []
        if options["json"]:
            payload = {
                "start": start.astimezone(calendar.time_zone).isoformat(),
                "amount": float(amount) if isinstance(amount, Decimal) else amount,
                "unit": unit.value,
                "deadline": deadline.isoformat(),
                "warnings": messages,
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
            return
        self.stdout.write(deadline.isoformat())
        for message in messages:
            self.stderr.write(f"warning: {message}")
