"""The working calendar and deadline arithmetic (处置时限).

A day is a working day when a ``CalendarDay`` row says so, else when it is Monday–Friday.
The rows come from the official arrangement published each year by the State Council's
General Office (via the ``chinesecalendar`` package, or entered by hand in the admin). See
``docs/calendar.md`` for each unit's definition with examples.

Two ways to call it:

- the module functions (``deadline_compute``, ``is_working_day``…) check the calendar
  tables' fingerprint (two small aggregate queries) on every call and rebuild the process's
  snapshot when it changed, so an edit made by any process is seen at once;
- for bulk work (the task generator's ~1.5 M deadlines) take one snapshot with
  ``calendar_current()`` and call its methods, or pass it as ``calendar=``: no query at all,
  a few microseconds per deadline.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import threading
import warnings
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.choices import TimeLimitUnit
from gridgov.core.errors import ValidationFailed
from gridgov.core.validators import YEAR_MAX, YEAR_MIN, year_in_range

logger = logging.getLogger(__name__)

__all__ = [
    "DEADLINE_HORIZON_DAYS",
    "CalendarYearUnknownWarning",
    "WorkingCalendar",
    "calendar_cache_clear",
    "calendar_current",
    "calendar_warnings_reset",
    "deadline_compute",
    "deadline_set_by_hand_check",
    "format_time_limit",
    "is_working_day",
    "next_working_day",
    "parse_time_limit",
    "parse_working_hours",
    "unknown_years_message",
    "working_days_between",
    "working_time_between",
]

Amount = int | Decimal
DAY_UNITS = frozenset({TimeLimitUnit.WORK_DAY, TimeLimitUnit.NATURAL_DAY})
CALENDAR_UNITS = frozenset({TimeLimitUnit.WORK_DAY, TimeLimitUnit.WORK_HOUR})
_MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
_ONE_MICROSECOND = dt.timedelta(microseconds=1)
_UTC = dt.UTC


class CalendarYearUnknownWarning(UserWarning):
    """A deadline touched a year the working calendar has no official data for.

    For such a year Monday–Friday count as working days (plus any day already entered by
    hand). Emitted once per year per process (one warning lists all the years a
    computation newly met, e.g. "2027–2031"), together with a WARNING log line on the
    ``gridgov.core.calendar`` logger.
    """


# --- Parsing ------------------------------------------------------------------------------

_PERIOD_RE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_TIME_LIMIT_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z_]+?)s?\s*")


def parse_working_hours(spec: Sequence[str]) -> tuple[tuple[dt.timedelta, dt.timedelta], ...]:
    """Parse working periods like ``["08:30-12:00", "13:30-17:30"]``.

    Returns the periods sorted, as (start, end) offsets from midnight (local wall-clock
    time). ``24:00`` is allowed as an end. Raises ``ImproperlyConfigured`` (naming
    ``GRIDGOV_WORKING_HOURS``) for a malformed, empty, reversed or overlapping period.
    """
    periods: list[tuple[dt.timedelta, dt.timedelta]] = []
    for item in spec:
        match = _PERIOD_RE.fullmatch(str(item))
        if match is None:
            raise ImproperlyConfigured(
                f"GRIDGOV_WORKING_HOURS: {item!r} is not a period like '08:30-12:00'."
            )
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
            raise ImproperlyConfigured(f"GRIDGOV_WORKING_HOURS: {item!r} is not a valid time.")
        start, end = dt.timedelta(hours=h1, minutes=m1), dt.timedelta(hours=h2, minutes=m2)
        if end <= start:
            raise ImproperlyConfigured(f"GRIDGOV_WORKING_HOURS: {item!r} ends before it starts.")
        periods.append((start, end))
    if not periods:
        raise ImproperlyConfigured("GRIDGOV_WORKING_HOURS: at least one period is needed.")
    periods.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(periods):
        if s2 < e1:
            raise ImproperlyConfigured(f"GRIDGOV_WORKING_HOURS: periods overlap: {spec!r}.")
    return tuple(periods)


def _coerce_unit(unit: TimeLimitUnit | str) -> TimeLimitUnit:
    try:
        return TimeLimitUnit(unit)
    except ValueError:
        raise ValidationFailed(
            _("Unknown time-limit unit %(unit)r; use one of: %(units)s.")
            % {"unit": unit, "units": ", ".join(TimeLimitUnit.values)},
            details={"unit": str(unit)},
        ) from None


def _coerce_amount(amount: Any, unit: TimeLimitUnit) -> Amount:
    """Check a time limit's amount: positive; a whole number for day units."""
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal | float):
        raise ValidationFailed(
            _("The amount %(amount)r is not a number.") % {"amount": amount},
            details={"amount": repr(amount)},
        )
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    if not value.is_finite() or value <= 0:
        raise ValidationFailed(
            _("The amount must be a positive number, not %(amount)s.") % {"amount": amount},
            details={"amount": str(amount)},
        )
    if value == value.to_integral_value():
        return int(value)
    if unit in DAY_UNITS:
        raise ValidationFailed(
            _("%(unit)s needs a whole number of days, not %(amount)s.")
            % {"unit": unit.value, "amount": amount},
            details={"amount": str(amount), "unit": unit.value},
        )
    return value


def parse_time_limit(text: str) -> tuple[Amount, TimeLimitUnit]:
    """Parse a time limit written as ``"N UNIT"``, e.g. ``"3 work_day"`` or ``"1.5 work_hour"``.

    Returns ``(amount, unit)``: ``amount`` an ``int`` (or a ``Decimal`` for a fractional
    number of hours), ``unit`` a ``TimeLimitUnit``. A trailing plural ``s`` is accepted
    (``"2 work_days"``). Raises ``ValidationFailed`` naming the text for anything else: an
    unknown unit, zero or a negative amount, a fraction of a day.
    """
    if not isinstance(text, str):
        raise ValidationFailed(
            _("A time limit must be text like '3 work_day', not %(value)r.") % {"value": text}
        )
    match = _TIME_LIMIT_RE.fullmatch(text)
    if match is None:
        raise ValidationFailed(
            _("Cannot read the time limit %(text)r; write it like '3 work_day' (units: %(units)s).")
            % {"text": text, "units": ", ".join(TimeLimitUnit.values)},
            details={"time_limit": text},
        )
    number, unit_text = match.groups()
    unit = _coerce_unit(unit_text.lower())
    amount: Amount = Decimal(number) if "." in number else int(number)
    return _coerce_amount(amount, unit), unit


def format_time_limit(amount: Amount, unit: TimeLimitUnit | str) -> str:
    """Write a time limit the way ``parse_time_limit`` reads it, e.g. ``"3 work_day"``."""
    unit = _coerce_unit(unit)
    return f"{_coerce_amount(amount, unit)} {unit.value}"


def _hours(value: Amount) -> dt.timedelta:
    micro = (Decimal(value) * _MICROSECONDS_PER_HOUR).to_integral_value(rounding=ROUND_HALF_UP)
    return dt.timedelta(microseconds=int(micro))


# --- Unknown-year warnings ------------------------------------------------------------------

_warned_years: set[int] = set()


def _warn_unknown_years(years: Iterable[int]) -> None:
    fresh = sorted(set(years) - _warned_years)
    if not fresh:
        return
    _warned_years.update(fresh)
    message = unknown_years_message(fresh)
    logger.warning(message)
    warnings.warn(message, CalendarYearUnknownWarning, stacklevel=4)


def _year_spans(years: Sequence[int]) -> str:
    spans: list[list[int]] = []
    for year in sorted(years):
        if spans and year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def unknown_years_message(years: Sequence[int]) -> str:
    """Return the text warning that ``years`` (e.g. ``[2027]``) are not in the calendar."""
    return _(
        "The working calendar has no official holidays for %(years)s: counting Monday to "
        "Friday as working days. Enter the year in the admin (calendar years and days) or "
        "run 'gridgov calendar sync' with a newer chinesecalendar package."
    ) % {"years": _year_spans(years)}


def calendar_warnings_reset() -> None:
    """Forget which unknown years this process has warned about (for tests)."""
    _warned_years.clear()


# --- The snapshot -----------------------------------------------------------------------------


def _weekday(ordinal: int) -> int:
    # date(1, 1, 1) has ordinal 1 and is a Monday.
    return (ordinal - 1) % 7


def _monfri_upto(ordinal: int) -> int:
    """Number of Monday–Friday days with an ordinal in [1, ordinal]."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def _monfri_nth(count: int) -> int:
    """Ordinal of the ``count``-th Monday–Friday day counted from ordinal 1 (count ≥ 1)."""
    weeks, rest = divmod(count, 5)
    return (weeks - 1) * 7 + 5 if rest == 0 else weeks * 7 + rest


class WorkingCalendar:
    """An immutable snapshot of the working calendar: exceptions, known years, hours, zone.

    Build one with ``calendar_current()`` (from the database) or directly (tests, bulk
    jobs with their own data). All methods are pure and query-free; day arithmetic jumps
    over weeks with closed formulas and binary searches in the sorted exceptions, so the
    cost does not grow with the amount.
    """

    __slots__ = (
        "_day_end",
        "_day_length",
        "_exceptions",
        "_extra_working",
        "_holidays",
        "key",
        "known_years",
        "periods",
        "time_zone",
    )

    def __init__(
        self,
        *,
        exceptions: Mapping[dt.date, bool],
        known_years: Iterable[int],
        working_hours: Sequence[str] | None = None,
        time_zone: str | dt.tzinfo | None = None,
        key: Any = None,
    ) -> None:
        hours = settings.GRIDGOV_WORKING_HOURS if working_hours is None else working_hours
        zone = settings.TIME_ZONE if time_zone is None else time_zone
        if isinstance(zone, str):
            try:
                zone = ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ImproperlyConfigured(f"Unknown time zone {zone!r}.") from exc
        self.time_zone: dt.tzinfo = zone
        self.periods = parse_working_hours(hours)
        self._day_length = sum((end - start for start, end in self.periods), dt.timedelta())
        self._day_end = self.periods[-1][1]
        self.known_years = frozenset(known_years)
        self._exceptions = {day.toordinal(): bool(flag) for day, flag in exceptions.items()}
        # Only rows that change the Monday–Friday count matter for day arithmetic.
        self._holidays = sorted(
            o for o, working in self._exceptions.items() if not working and _weekday(o) < 5
        )
        self._extra_working = sorted(
            o for o, working in self._exceptions.items() if working and _weekday(o) >= 5
        )
        self.key = key

    # -- day arithmetic on ordinals --

    def _is_working(self, ordinal: int) -> bool:
        flag = self._exceptions.get(ordinal)
        return _weekday(ordinal) < 5 if flag is None else flag

    def _working_upto(self, ordinal: int) -> int:
        """Number of working days with an ordinal in [1, ordinal]."""
        return (
            _monfri_upto(ordinal)
            - bisect_right(self._holidays, ordinal)
            + bisect_right(self._extra_working, ordinal)
        )

    def _nth_after(self, ordinal: int, n: int) -> int:
        """Ordinal of the ``n``-th working day strictly after ``ordinal`` (n ≥ 1)."""
        base = self._working_upto(ordinal)
        origin, need = ordinal, n
        while True:
            # Assume no exceptions ahead, then account for those actually met.
            candidate = _monfri_nth(_monfri_upto(origin) + need)
            got = self._working_upto(candidate) - self._working_upto(origin)
            if got >= need:
                break
            origin, need = candidate, need - got
        excess = self._working_upto(candidate) - base - n
        while True:
            if self._is_working(candidate):
                if excess == 0:
                    return candidate
                excess -= 1
            candidate -= 1

    def _at(self, ordinal: int, offset: dt.timedelta) -> dt.datetime:
        midnight = dt.datetime.combine(dt.date.fromordinal(ordinal), dt.time(), self.time_zone)
        return midnight + offset  # wall-clock arithmetic: working hours are local times

    def _localize(self, value: Any, name: str = "start") -> dt.datetime:
        if not isinstance(value, dt.datetime):
            raise ValidationFailed(
                _("%(name)s must be a date and time, not %(value)r.")
                % {"name": name, "value": value}
            )
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationFailed(
                _("%(name)s %(value)s has no time zone; give an offset like +08:00.")
                % {"name": name, "value": value.isoformat()},
                details={name: value.isoformat()},
            )
        return value.astimezone(self.time_zone)

    @staticmethod
    def _offset(local: dt.datetime) -> dt.timedelta:
        return dt.timedelta(
            hours=local.hour,
            minutes=local.minute,
            seconds=local.second,
            microseconds=local.microsecond,
        )

    def _worked_before(self, ordinal: int, offset: dt.timedelta) -> dt.timedelta:
        """Working time from the calendar's origin up to ``offset`` into day ``ordinal``."""
        total = (self._working_upto(ordinal - 1)) * self._day_length
        if self._is_working(ordinal):
            for start, end in self.periods:
                if offset <= start:
                    break
                total += min(offset, end) - start
        return total

    def _add_work_time(self, local: dt.datetime, remaining: dt.timedelta) -> dt.datetime:
        ordinal, offset = local.toordinal(), self._offset(local)
        if self._is_working(ordinal):
            for start, end in self.periods:
                if end <= offset:
                    continue
                begin = max(start, offset)
                if remaining <= end - begin:
                    return self._at(ordinal, begin + remaining)
                remaining -= end - begin
        # Skip the whole working days the remainder covers, then finish inside one day.
        full_days = (remaining - _ONE_MICROSECOND) // self._day_length
        ordinal = self._nth_after(ordinal, full_days + 1)
        remaining -= full_days * self._day_length
        for start, end in self.periods:
            if remaining <= end - start:
                return self._at(ordinal, start + remaining)
            remaining -= end - start
        raise AssertionError("unreachable: the remainder fits in one working day")

    # -- warnings --

    def unknown_years(self, first: dt.date, last: dt.date) -> list[int]:
        """Return the years from ``first`` to ``last`` (inclusive) without official data."""
        low, high = sorted((first.year, last.year))
        return [year for year in range(low, high + 1) if year not in self.known_years]

    def _warn(self, first: dt.date, last: dt.date) -> None:
        low, high = sorted((first.year, last.year))
        if low == high and low in self.known_years:
            return
        _warn_unknown_years(self.unknown_years(first, last))

    # -- public API --

    def is_working_day(self, day: dt.date, *, warn: bool = True) -> bool:
        """Return whether ``day`` is a working day (a row's status, else Monday–Friday)."""
        if warn and day.year not in self.known_years:
            _warn_unknown_years([day.year])
        return self._is_working(day.toordinal())

    def next_working_day(self, day: dt.date, n: int = 1, *, warn: bool = True) -> dt.date:
        """Return the ``n``-th working day strictly after ``day`` (``n`` ≥ 1)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValidationFailed(_("n must be a whole number ≥ 1, not %(n)r.") % {"n": n})
        try:
            result = dt.date.fromordinal(self._nth_after(day.toordinal(), n))
        except (OverflowError, ValueError):
            raise ValidationFailed(_("%(n)s working days is too far ahead.") % {"n": n}) from None
        if warn:
            self._warn(day, result)
        return result

    def working_days_between(self, start: dt.date, end: dt.date, *, warn: bool = True) -> int:
        """Return the number of working days ``d`` with ``start < d ≤ end`` (negative if reversed).

        So ``working_days_between(d, next_working_day(d, n)) == n``.
        """
        if warn:
            self._warn(start, end)
        return self._working_upto(end.toordinal()) - self._working_upto(start.toordinal())

    def working_time_between(
        self, start: dt.datetime, end: dt.datetime, *, warn: bool = True
    ) -> dt.timedelta:
        """Return the working time inside [start, end): working periods on working days only.

        Aware datetimes in, a ``timedelta`` out (zero when ``end ≤ start``). The inverse of
        the ``work_hour`` unit: ``working_time_between(s, deadline_compute(start=s,
        amount=N, unit="work_hour")) == N hours``.
        """
        begin, finish = self._localize(start, "start"), self._localize(end, "end")
        if finish <= begin:
            return dt.timedelta()
        if warn:
            self._warn(begin.date(), finish.date())
        return self._worked_before(finish.toordinal(), self._offset(finish)) - self._worked_before(
            begin.toordinal(), self._offset(begin)
        )

    def deadline(
        self,
        start: dt.datetime,
        amount: Amount | float,
        unit: TimeLimitUnit | str,
        *,
        warn: bool = True,
    ) -> dt.datetime:
        """Return the deadline of a time limit of ``amount`` ``unit`` starting at ``start``.

        See ``deadline_compute`` for the definitions; ``warn=False`` skips the
        unknown-year warning (callers that report ``unknown_years`` themselves).
        """
        local = self._localize(start)
        unit = _coerce_unit(unit)
        value = _coerce_amount(amount, unit)
        try:
            if unit == TimeLimitUnit.URGENT_HOUR:
                result = (local.astimezone(_UTC) + _hours(value)).astimezone(self.time_zone)
            elif unit == TimeLimitUnit.NATURAL_DAY:
                elapsed = dt.timedelta(days=int(value))
                result = (local.astimezone(_UTC) + elapsed).astimezone(self.time_zone)
            elif unit == TimeLimitUnit.WORK_DAY:
                day = self._nth_after(local.toordinal(), int(value))
                result = self._at(day, self._day_end)
            else:
                result = self._add_work_time(local, _hours(value))
        except (OverflowError, ValueError):
            raise ValidationFailed(
                _("A time limit of %(amount)s %(unit)s is too long.")
                % {"amount": value, "unit": unit.value},
                details={"amount": str(value), "unit": unit.value},
            ) from None
        if warn and unit in CALENDAR_UNITS:
            self._warn(local.date(), result.date())
        return result


# --- The process cache ------------------------------------------------------------------------

_snapshot: WorkingCalendar | None = None
_build_lock = threading.Lock()


def calendar_current() -> WorkingCalendar:
    """Return this process's calendar snapshot, rebuilt if the tables or settings changed.

    Costs two small aggregate queries (the fingerprint of ``calendar_version``); the
    rebuild (≈ 400 rows) happens only after an edit. Keep the returned snapshot for a batch
    of computations to pay the queries once.
    """
    global _snapshot
    from gridgov.core.selectors import calendar_exceptions, calendar_known_years, calendar_version

    key = (
        calendar_version(),
        settings.TIME_ZONE,
        tuple(settings.GRIDGOV_WORKING_HOURS),
    )
    snapshot = _snapshot
    if snapshot is not None and snapshot.key == key:
        return snapshot
    with _build_lock:
        snapshot = WorkingCalendar(
            exceptions=calendar_exceptions(),
            known_years=calendar_known_years(),
            key=key,
        )
        _snapshot = snapshot
    return snapshot


def calendar_cache_clear() -> None:
    """Drop this process's snapshot; the next call rebuilds it from the database."""
    global _snapshot
    _snapshot = None


def is_working_day(day: dt.date) -> bool:
    """Return whether ``day`` is a working day on the official calendar.

    A ``CalendarDay`` row decides; otherwise Monday–Friday work, Saturday and Sunday do not.
    Warns (``CalendarYearUnknownWarning``) for a year without a ``CalendarYear`` row.
    """
    return calendar_current().is_working_day(day)


def next_working_day(day: dt.date, n: int = 1) -> dt.date:
    """Return the ``n``-th working day strictly after ``day`` (n ≥ 1; ``ValidationFailed`` else)."""
    return calendar_current().next_working_day(day, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Return the number of working days ``d`` with ``start < d ≤ end``."""
    return calendar_current().working_days_between(start, end)


def working_time_between(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Return the working time (working periods of working days) inside [start, end)."""
    return calendar_current().working_time_between(start, end)


def deadline_compute(
    *,
    start: dt.datetime,
    amount: Amount | float,
    unit: TimeLimitUnit | str,
    calendar: WorkingCalendar | None = None,
) -> dt.datetime:
    """Compute the deadline of a time limit (处置时限) that starts at ``start``.

    Inputs: ``start`` an aware datetime; ``amount`` > 0 (a whole number for the day units,
    ``int``/``Decimal``/``float`` hours for the hour units); ``unit`` a ``TimeLimitUnit``
    or its value. ``calendar`` a snapshot from ``calendar_current()`` to skip the per-call
    fingerprint query in bulk work.

    Output: an aware datetime in ``settings.TIME_ZONE``:

    - ``urgent_hour``: start + N hours of elapsed time, round the clock;
    - ``natural_day``: start + N × 24 hours of elapsed time;
    - ``work_hour``: N hours counted only inside ``GRIDGOV_WORKING_HOURS`` (default
      08:30–12:00 and 13:30–17:30) on working days; a deadline that lands exactly on the
      end of a period is that end (12:00, not 13:30);
    - ``work_day``: the end of the last working period (17:30) of the N-th working day
      after the start day (the start day never counts, whatever the time).

    Working days follow the State Council's yearly holiday notice (chinesecalendar
    package, or rows entered in the admin). Raises ``ValidationFailed`` for a naive
    ``start``, an unknown unit, an amount ≤ 0, a fractional day count or a deadline past
    year 9999. Warns ``CalendarYearUnknownWarning`` (once per year per process) when a
    working-time unit crosses a year without official data.
    """
    cal = calendar if calendar is not None else calendar_current()
    return cal.deadline(start, amount, unit)


# --- Deadlines set by hand ---------------------------------------------------------------------

#: How far ahead of now a deadline typed in by a person may lie, in days: a directive's or
#: a batch of assignment slips' deadline. The work they carry is this year's work (a month,
#: a campaign, at most a year-end goal), so a year and a day — 366 days — covers every real
#: case; a later date is a typing mistake (9999-12-31) that would leave tasks never due.
DEADLINE_HORIZON_DAYS = 366


def _minutes(moment: dt.datetime) -> str:
    """``YYYY-MM-DD HH:MM`` of ``moment`` as it is (four-digit years, also year 1)."""
    return f"{moment.year:04d}-{moment:%m-%d %H:%M}"


def deadline_set_by_hand_check(
    deadline: dt.datetime, *, now: dt.datetime, name: str = "deadline"
) -> None:
    """Check a deadline a person typed in (a directive's, a campaign's).

    Inputs: ``deadline`` and ``now`` aware datetimes; ``name`` the field, for ``details``.
    Rule: ``now < deadline <= now + DEADLINE_HORIZON_DAYS`` days, and the deadline's local
    year within ``core.validators.YEAR_MIN…YEAR_MAX``. Raises ``ValidationFailed``
    (``details={name: deadline}``) otherwise; returns ``None``.
    """
    details = {name: deadline.isoformat()}
    # For people: the local date and time as they typed it ("2026-12-01 17:30").
    shown = _minutes(deadline)
    if not year_in_range(deadline):
        raise ValidationFailed(
            _("The deadline %(deadline)s is outside the years %(min)d to %(max)d.")
            % {"deadline": shown, "min": YEAR_MIN, "max": YEAR_MAX},
            details=details,
        )
    shown = _minutes(timezone.localtime(deadline))
    if deadline <= now:
        raise ValidationFailed(
            _("The deadline %(deadline)s is not in the future.") % {"deadline": shown},
            details=details,
        )
    if deadline - now > dt.timedelta(days=DEADLINE_HORIZON_DAYS):
        raise ValidationFailed(
            _("The deadline %(deadline)s is more than %(days)d days ahead; set one within a "
              "year.")
            % {"deadline": shown, "days": DEADLINE_HORIZON_DAYS},
            details=details,
        )  # fmt: skip
