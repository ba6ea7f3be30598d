"""Deadline arithmetic on the official calendar loaded by the data migration."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal

import pytest

from gridgov.core.calendar import (
    CalendarYearUnknownWarning,
    calendar_current,
    deadline_compute,
    format_time_limit,
    is_working_day,
    next_working_day,
    parse_time_limit,
    working_days_between,
    working_time_between,
)
from gridgov.core.choices import TimeLimitUnit
from gridgov.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def deadline(start: str, limit: str) -> str:
    amount, unit = parse_time_limit(limit)
    return deadline_compute(start=at(start), amount=amount, unit=unit).isoformat()


# --- The examples of the issue --------------------------------------------------------------


def test_it_counts_three_working_days_over_the_spring_festival() -> None:
    # Sat 14 Feb 2026 is worked in exchange; 15–23 Feb are the Spring Festival holiday.
    assert deadline("2026-02-13T10:00+08:00", "3 work_day") == "2026-02-25T17:30:00+08:00"


def test_it_counts_working_hours_into_a_working_saturday() -> None:
    # 16:00–17:30 on Friday (1.5 h), then 08:30–11:00 on the working Saturday (2.5 h).
    assert deadline("2026-02-13T16:00+08:00", "4 work_hour") == "2026-02-14T11:00:00+08:00"


# --- National Day 2026 (package: 1–7 Oct off, Sun 20 Sep and Sat 10 Oct worked) --------------


def test_it_knows_the_national_day_arrangement_2026() -> None:
    assert is_working_day(dt.date(2026, 9, 20))  # Sunday worked
    assert not is_working_day(dt.date(2026, 9, 25))  # Friday, Mid-autumn festival
    assert all(not is_working_day(dt.date(2026, 10, day)) for day in range(1, 8))
    assert is_working_day(dt.date(2026, 10, 10))  # Saturday worked
    assert not is_working_day(dt.date(2026, 10, 11))  # an ordinary Sunday


def test_it_jumps_over_national_day_in_working_days() -> None:
    # Wed 30 Sep → Thu 8 Oct (1), Fri 9 Oct (2), Sat 10 Oct worked (3).
    assert deadline("2026-09-30T09:00+08:00", "3 work_day") == "2026-10-10T17:30:00+08:00"
    # Sat 19 Sep (day off) → Sun 20 Sep worked (1), Mon 21 Sep (2).
    assert deadline("2026-09-19T09:00+08:00", "2 work_day") == "2026-09-21T17:30:00+08:00"


def test_it_jumps_over_national_day_in_working_hours() -> None:
    # 17:00–17:30 on Wed 30 Sep, then 8 Oct: 08:30–12:00 and 13:30–14:30.
    assert deadline("2026-09-30T17:00+08:00", "5 work_hour") == "2026-10-08T14:30:00+08:00"


# --- Natural days and urgent hours: elapsed time, calendar ignored ----------------------------


def test_it_adds_natural_days_round_the_clock_in_shanghai() -> None:
    assert deadline("2026-02-13T10:00+08:00", "3 natural_day") == "2026-02-16T10:00:00+08:00"
    # Across the end of March (when DST zones shift) Shanghai keeps +08:00.
    assert deadline("2026-03-27T09:15+08:00", "5 natural_day") == "2026-04-01T09:15:00+08:00"


def test_it_returns_the_configured_zone_for_a_utc_start() -> None:
    assert deadline("2026-03-07T01:15Z", "1 natural_day") == "2026-03-08T09:15:00+08:00"


def test_natural_days_are_elapsed_time_where_clocks_change(settings: pytest.FixtureRequest) -> None:
    settings.TIME_ZONE = "Europe/Berlin"  # type: ignore[attr-defined]
    # Berlin moves to CEST on 29 March 2026: 24 elapsed hours later reads 11:00.
    assert deadline("2026-03-28T10:00+01:00", "1 natural_day") == "2026-03-29T11:00:00+02:00"


def test_it_adds_urgent_hours_through_nights_and_holidays() -> None:
    assert deadline("2026-02-14T22:00+08:00", "4 urgent_hour") == "2026-02-15T02:00:00+08:00"
    assert deadline("2026-10-01T08:00+08:00", "0.5 urgent_hour") == "2026-10-01T08:30:00+08:00"
    assert deadline("2026-10-01T08:00+08:00", "48 urgent_hour") == "2026-10-03T08:00:00+08:00"


# --- Edge cases of the working units ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        # Before the first period: counting starts at 08:30.
        ("2026-03-10T07:00+08:00", "2 work_hour", "2026-03-10T10:30:00+08:00"),
        # Inside the lunch break: counting starts at 13:30.
        ("2026-03-10T12:30+08:00", "2 work_hour", "2026-03-10T15:30:00+08:00"),
        # After the last period: the next working day at 08:30.
        ("2026-03-10T19:00+08:00", "2 work_hour", "2026-03-11T10:30:00+08:00"),
        # Straddling lunch: 11:00–12:00 then 13:30–14:30.
        ("2026-03-10T11:00+08:00", "2 work_hour", "2026-03-10T14:30:00+08:00"),
        # Landing exactly on a period's end keeps that end (12:00, not 13:30).
        ("2026-03-10T08:30+08:00", "3.5 work_hour", "2026-03-10T12:00:00+08:00"),
        # A whole working day of hours from 08:30 ends at 17:30 the same day.
        ("2026-03-10T08:30+08:00", "7.5 work_hour", "2026-03-10T17:30:00+08:00"),
        # A start on a holiday counts from the next working day (Spring Festival 2026).
        ("2026-02-17T10:00+08:00", "1 work_hour", "2026-02-24T09:30:00+08:00"),
        ("2026-02-17T10:00+08:00", "1 work_day", "2026-02-24T17:30:00+08:00"),
        # A start on an ordinary Saturday.
        ("2026-03-14T10:00+08:00", "1 work_day", "2026-03-16T17:30:00+08:00"),
        # The start day never counts for work_day, even at 07:00 on a working day.
        ("2026-03-10T07:00+08:00", "1 work_day", "2026-03-11T17:30:00+08:00"),
        # Fractions of an hour.
        ("2026-03-10T09:00+08:00", "0.25 work_hour", "2026-03-10T09:15:00+08:00"),
        # A start given in another zone is converted first (01:00 UTC = 09:00 Shanghai).
        ("2026-03-10T01:00+00:00", "1 work_hour", "2026-03-10T10:00:00+08:00"),
        # Many days: the 250th working day after 2 Jan 2025 (chinese_calendar.get_workdays
        # agrees), across New Year's Day 2026 (1–2 Jan off, Sun 4 Jan worked).
        ("2025-01-02T10:00+08:00", "250 work_day", "2026-01-06T17:30:00+08:00"),
    ],
)
def test_it_handles_the_edges_of_working_time(start: str, limit: str, expected: str) -> None:
    assert deadline(start, limit) == expected


def test_it_accepts_decimal_and_float_hours_and_enum_or_text_units() -> None:
    start = at("2026-03-10T09:00+08:00")
    by_decimal = deadline_compute(start=start, amount=Decimal("1.5"), unit=TimeLimitUnit.WORK_HOUR)
    by_float = deadline_compute(start=start, amount=1.5, unit="work_hour")
    assert by_decimal == by_float == at("2026-03-10T10:30+08:00")


@pytest.mark.parametrize(
    ("amount", "unit", "fragment"),
    [
        (0, "work_day", "positive"),
        (-2, "work_hour", "positive"),
        (Decimal("1.5"), "work_day", "whole number"),
        (2.5, "natural_day", "whole number"),
        (True, "work_day", "not a number"),
        ("3", "work_day", "not a number"),
        (float("nan"), "urgent_hour", "positive"),
        (3, "fortnight", "Unknown time-limit unit"),
        (10_000_000, "work_day", "too long"),
    ],
)
def test_it_rejects_bad_amounts_and_units(amount: object, unit: str, fragment: str) -> None:
    with pytest.raises(ValidationFailed, match=fragment):
        deadline_compute(start=at("2026-03-10T09:00+08:00"), amount=amount, unit=unit)  # type: ignore[arg-type]


def test_it_rejects_a_naive_start() -> None:
    with pytest.raises(ValidationFailed, match="no time zone") as info:
        deadline_compute(start=dt.datetime(2026, 3, 10, 9), amount=1, unit="work_day")  # noqa: DTZ001
    assert info.value.code == "validation_failed"


def test_it_rejects_a_date_as_start() -> None:
    with pytest.raises(ValidationFailed, match="date and time"):
        deadline_compute(start=dt.date(2026, 3, 10), amount=1, unit="work_day")  # type: ignore[arg-type]


def test_it_reads_configured_working_hours(settings: pytest.FixtureRequest) -> None:
    settings.GRIDGOV_WORKING_HOURS = ["09:00-12:00", "14:00-18:00"]  # type: ignore[attr-defined]
    assert deadline("2026-03-10T10:00+08:00", "3 work_hour") == "2026-03-10T15:00:00+08:00"
    assert deadline("2026-03-10T10:00+08:00", "1 work_day") == "2026-03-11T18:00:00+08:00"


# --- Day helpers -------------------------------------------------------------------------------


def test_next_working_day_and_working_days_between_are_inverse() -> None:
    assert next_working_day(dt.date(2026, 2, 13)) == dt.date(2026, 2, 14)
    assert next_working_day(dt.date(2026, 2, 14)) == dt.date(2026, 2, 24)
    assert next_working_day(dt.date(2026, 2, 13), 3) == dt.date(2026, 2, 25)
    assert working_days_between(dt.date(2026, 2, 13), dt.date(2026, 2, 25)) == 3
    assert working_days_between(dt.date(2026, 2, 25), dt.date(2026, 2, 13)) == -3
    # 2025: 261 weekdays − 18 holiday weekdays + 5 weekend days worked = 248.
    assert working_days_between(dt.date(2024, 12, 31), dt.date(2025, 12, 31)) == 248
    with pytest.raises(ValidationFailed):
        next_working_day(dt.date(2026, 2, 13), 0)


def test_working_time_between_inverts_work_hour() -> None:
    start = at("2026-02-13T16:00+08:00")
    end = deadline_compute(start=start, amount=4, unit="work_hour")
    assert working_time_between(start, end) == dt.timedelta(hours=4)
    assert working_time_between(end, start) == dt.timedelta()
    # A whole Spring Festival week contributes nothing.
    assert working_time_between(at("2026-02-15T00:00+08:00"), at("2026-02-24T00:00+08:00")) == (
        dt.timedelta()
    )


# --- Parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 work_day", (3, TimeLimitUnit.WORK_DAY)),
        ("  2 work_days ", (2, TimeLimitUnit.WORK_DAY)),
        ("1.5 work_hour", (Decimal("1.5"), TimeLimitUnit.WORK_HOUR)),
        ("24 URGENT_HOUR", (24, TimeLimitUnit.URGENT_HOUR)),
        ("7natural_day", (7, TimeLimitUnit.NATURAL_DAY)),
        ("2.0 work_day", (2, TimeLimitUnit.WORK_DAY)),
    ],
)
def test_it_parses_time_limits(text: str, expected: tuple[object, TimeLimitUnit]) -> None:
    assert parse_time_limit(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Cannot read"),
        ("work_day", "Cannot read"),
        ("3", "Cannot read"),
        ("-3 work_day", "Cannot read"),
        ("3 weeks", "Unknown time-limit unit"),
        ("0 work_hour", "positive"),
        ("1.5 natural_day", "whole number"),
    ],
)
def test_it_explains_unreadable_time_limits(text: str, fragment: str) -> None:
    with pytest.raises(ValidationFailed, match=fragment):
        parse_time_limit(text)


def test_format_time_limit_round_trips() -> None:
    assert format_time_limit(Decimal("1.50"), "work_hour") == "1.50 work_hour"
    assert parse_time_limit(format_time_limit(3, TimeLimitUnit.WORK_DAY)) == (3, "work_day")


# --- Scale: bulk snapshot, no queries, cost independent of N -----------------------------------


def test_a_snapshot_computes_without_queries(django_assert_num_queries: object) -> None:
    calendar = calendar_current()
    start = at("2026-01-05T09:00+08:00")
    with django_assert_num_queries(0):  # type: ignore[operator]
        results = [
            deadline_compute(start=start, amount=n, unit="work_day", calendar=calendar)
            for n in range(1, 200)
        ]
    assert results == sorted(results)
    assert results[0] == at("2026-01-06T17:30+08:00")


def test_the_module_functions_cost_one_query_per_call(
    django_assert_num_queries: object,
) -> None:
    calendar_current()  # warm
    with django_assert_num_queries(1):  # type: ignore[operator]
        deadline_compute(start=at("2026-01-05T09:00+08:00"), amount=1, unit="work_day")


def test_very_large_amounts_stay_consistent() -> None:
    calendar = calendar_current()
    start = at("2026-01-05T09:00+08:00")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalendarYearUnknownWarning)
        far = calendar.deadline(start, 1_000_000, "work_day")
        hours = calendar.deadline(start, 8_000_000, "work_hour")
        assert calendar.working_days_between(start.date(), far.date()) == 1_000_000
        assert calendar.working_time_between(start, hours) == dt.timedelta(hours=8_000_000)
    assert far.year > 5800


def test_one_warning_covers_all_the_unknown_years_a_computation_meets() -> None:
    start = at("2026-06-01T09:00+08:00")
    with pytest.warns(CalendarYearUnknownWarning, match="2027–2030") as record:
        deadline_compute(start=start, amount=1000, unit="work_day")
    assert len(record) == 1
