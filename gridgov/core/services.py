"""Writes of the core app: the working calendar's days and years.

Every write drops this process's calendar snapshot (other processes notice through the
tables' fingerprint, see ``gridgov.core.calendar``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from gridgov.core import calendar_package
from gridgov.core.calendar import calendar_cache_clear
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.core.models import CalendarDay, CalendarSource, CalendarYear


def _invalidate() -> None:
    calendar_cache_clear()
    transaction.on_commit(calendar_cache_clear)


def _check_year(year: int) -> None:
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
        raise ValidationFailed(
            _("%(year)r is not a year between 1900 and 9999.") % {"year": year},
            details={"year": str(year)},
        )


@transaction.atomic
def calendar_day_set(
    *,
    date: dt.date,
    is_working_day: bool,
    name: str = "",
    source: CalendarSource = CalendarSource.MANUAL,
) -> CalendarDay:
    """Create or update the calendar row of ``date``.

    Inputs: the date, whether people work on it, the holiday's name (e.g. 春节), and where
    the row comes from (``manual`` for anything an official enters). Returns the saved
    row. Raises ``ValidationFailed`` for a date outside 1900–9999 or a name over 100
    characters. A row restating the ordinary status (a holiday on a Sunday) is accepted.
    """
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise ValidationFailed(_("%(value)r is not a date.") % {"value": date})
    _check_year(date.year)
    if len(name) > 100:
        raise ValidationFailed(
            _("The name %(name)r is longer than 100 characters.") % {"name": name}
        )
    day, _created = CalendarDay.objects.update_or_create(
        date=date,
        defaults={"is_working_day": bool(is_working_day), "name": name, "source": source},
    )
    _invalidate()
    return day


@transaction.atomic
def calendar_day_delete(*, dates: Iterable[dt.date]) -> int:
    """Delete the calendar rows of ``dates``; return how many were deleted.

    The dates fall back to the Monday–Friday rule. Raises ``NotFound`` when none of them
    has a row.
    """
    dates = list(dates)
    deleted, _detail = CalendarDay.objects.filter(date__in=dates).delete()
    if dates and not deleted:
        raise NotFound(
            _("No calendar row for %(dates)s.") % {"dates": ", ".join(d.isoformat() for d in dates)}
        )
    _invalidate()
    return deleted


@transaction.atomic
def calendar_year_mark_known(
    *, year: int, note: str = "", source: CalendarSource = CalendarSource.MANUAL
) -> CalendarYear:
    """Record that ``year``'s official holidays are all entered (stops the fallback warning).

    Returns the ``CalendarYear`` row (created, or updated with the new note and source).
    Raises ``ValidationFailed`` for a year outside 1900–9999.
    """
    _check_year(year)
    row, _created = CalendarYear.objects.update_or_create(
        year=year, defaults={"note": note[:200], "source": source}
    )
    _invalidate()
    return row


@transaction.atomic
def calendar_year_forget(*, years: Iterable[int]) -> int:
    """Mark ``years`` unknown again (their day rows stay); return how many were removed."""
    deleted, _detail = CalendarYear.objects.filter(year__in=list(years)).delete()
    _invalidate()
    return deleted


@dataclass
class CalendarSyncResult:
    """What ``calendar_sync_from_package`` did, per count of rows."""

    package_version: str
    years: list[int] = field(default_factory=list)
    days_created: int = 0
    days_updated: int = 0
    days_unchanged: int = 0
    days_deleted: int = 0
    manual_kept: int = 0
    years_created: int = 0


@transaction.atomic
def calendar_sync_from_package(*, years: Iterable[int] | None = None) -> CalendarSyncResult:
    """Reload the official calendar from the installed ``chinesecalendar`` package.

    Inputs: the years to load (default: every year the package knows, 2004–2026 for
    1.11). For each year: package rows are created, updated to the package's values, or
    deleted when the package no longer lists them; rows with ``source = manual`` are never
    touched (counted in ``manual_kept``); the year is marked known (an existing manual
    ``CalendarYear`` keeps its source and note). Idempotent: a second run changes nothing.
    Raises ``ValidationFailed`` for a year the package does not know.
    """
    known = calendar_package.package_years()
    wanted = sorted(set(known if years is None else years))
    unknown = [year for year in wanted if year not in known]
    if unknown:
        raise ValidationFailed(
            _(
                "The chinesecalendar package %(version)s knows %(first)s–%(last)s only, not "
                "%(years)s; enter those years in the admin or upgrade the package."
            )
            % {
                "version": calendar_package.package_version(),
                "first": known[0],
                "last": known[-1],
                "years": ", ".join(str(year) for year in unknown),
            },
            details={"years": unknown},
        )
    result = CalendarSyncResult(package_version=calendar_package.package_version(), years=wanted)
    for year in wanted:
        official = {day.date: day for day in calendar_package.package_days(year)}
        existing = {
            row.date: row
            for row in CalendarDay.objects.filter(
                date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31)
            )
        }
        to_create: list[CalendarDay] = []
        for date, day in official.items():
            row = existing.get(date)
            if row is None:
                to_create.append(
                    CalendarDay(
                        date=date,
                        is_working_day=day.is_working_day,
                        name=day.name,
                        source=CalendarSource.PACKAGE,
                    )
                )
            elif row.source == CalendarSource.MANUAL:
                result.manual_kept += 1
            elif row.is_working_day != day.is_working_day or row.name != day.name:
                row.is_working_day, row.name = day.is_working_day, day.name
                row.save(update_fields=["is_working_day", "name", "updated_at"])
                result.days_updated += 1
            else:
                result.days_unchanged += 1
        CalendarDay.objects.bulk_create(to_create)
        result.days_created += len(to_create)
        stale = [
            row.pk
            for date, row in existing.items()
            if date not in official and row.source == CalendarSource.PACKAGE
        ]
        if stale:
            result.days_deleted += CalendarDay.objects.filter(pk__in=stale).delete()[0]
        result.manual_kept += sum(
            1
            for date, row in existing.items()
            if date not in official and row.source == CalendarSource.MANUAL
        )
        _row, created = CalendarYear.objects.get_or_create(
            year=year,
            defaults={
                "source": CalendarSource.PACKAGE,
                "note": f"chinesecalendar {result.package_version}",
            },
        )
        result.years_created += int(created)
    _invalidate()
    return result
