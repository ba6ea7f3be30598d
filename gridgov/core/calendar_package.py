"""Read the official holiday arrangement out of the ``chinesecalendar`` package.

Pure functions, no models: the data migration and ``gridgov calendar sync`` both use them.
The package (import name ``chinese_calendar``) transcribes the State Council's yearly notice
on holiday arrangements (国务院办公厅关于部分节假日安排的通知); it lists every day off of a
holiday (weekends included) and every weekend day worked in exchange (调休上班).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar
from chinese_calendar.constants import Holiday, holidays, workdays


@dataclass(frozen=True, slots=True)
class PackageDay:
    """One exception to Monday–Friday as the package states it."""

    date: dt.date
    is_working_day: bool
    name: str


def package_version() -> str:
    """Return the installed ``chinesecalendar`` version, e.g. ``"1.11.0"``."""
    return str(getattr(chinese_calendar, "__version__", "unknown"))


def package_years() -> list[int]:
    """Return the years the installed package knows, in order (e.g. 2004…2026)."""
    first = min(holidays).year
    last = max(holidays).year
    return list(range(first, last + 1))


def _chinese_name(english: str) -> str:
    try:
        return str(Holiday(english).chinese)
    except ValueError:
        return english


def package_days(year: int) -> list[PackageDay]:
    """Return the exceptions to Monday–Friday of ``year``, sorted by date.

    Only days whose status differs from the ordinary week are returned: holidays on a
    weekday (``is_working_day=False``) and weekend days worked in exchange
    (``is_working_day=True``). Names are the Chinese holiday names (春节, 国庆节…). A year the
    package does not know returns ``[]``.
    """
    days: list[PackageDay] = []
    for date, english in holidays.items():
        if date.year == year and date.weekday() < 5 and date not in workdays:
            days.append(PackageDay(date, False, _chinese_name(english)))
    for date, english in workdays.items():
        if date.year == year and date.weekday() >= 5:
            days.append(PackageDay(date, True, _chinese_name(english)))
    days.sort(key=lambda day: day.date)
    return days
