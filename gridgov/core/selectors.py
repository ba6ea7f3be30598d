"""Reads of the core app: the working calendar's rows and their version."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from gridgov.core.models import CalendarDay, CalendarYear


def _fingerprint_sql() -> str:
    quote = connection.ops.quote_name

    def part(model: type[CalendarDay] | type[CalendarYear], extra: str) -> str:
        columns = f"COUNT(*), {extra}, MAX({quote('id')}), MAX({quote('updated_at')})"
        return f"SELECT {columns} FROM {quote(model._meta.db_table)}"  # noqa: S608

    days = part(CalendarDay, f"SUM(CASE WHEN {quote('is_working_day')} THEN 1 ELSE 0 END)")
    years = part(CalendarYear, f"SUM({quote('year')})")
    return f"SELECT * FROM ({days}) AS d CROSS JOIN ({years}) AS y"  # noqa: S608


def calendar_version() -> tuple[Any, ...]:
    """Return a cheap fingerprint of the calendar tables (one query, ≈ 0.1 ms).

    The fingerprint is, for ``CalendarDay``, (row count, working-day row count, highest id,
    latest ``updated_at``) and, for ``CalendarYear``, (row count, sum of years, highest id,
    latest ``updated_at``). An insert changes the count, a delete the count, an edit the
    latest time; a bulk ``update()`` (which skips ``auto_now``) is still seen when it flips
    a day's status or changes a year. Used by ``gridgov.core.calendar`` to notice edits made
    by any process.
    """
    # Hand-written because the ORM's aggregate() costs ≈ 1 ms here (compiling two queries
    # and converting values), ten times the query itself, and this runs on every
    # module-level deadline_compute(). Only table and column names are interpolated.
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        row = cursor.fetchone()
    return tuple(row)


def calendar_exceptions() -> dict[dt.date, bool]:
    """Return every calendar row as ``{date: is_working_day}``."""
    return dict(CalendarDay.objects.values_list("date", "is_working_day"))


def calendar_known_years() -> frozenset[int]:
    """Return the years that have a ``CalendarYear`` row."""
    return frozenset(CalendarYear.objects.values_list("year", flat=True))


def calendar_day_list(*, year: int) -> QuerySet[CalendarDay]:
    """Return the calendar rows of ``year`` in date order."""
    return CalendarDay.objects.filter(
        date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31)
    ).order_by("date")
