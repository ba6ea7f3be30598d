"""The calendar data: migration, package sync, services, and agreement with the package."""

from __future__ import annotations

import datetime as dt
import random

import chinese_calendar
import pytest

from gridgov.core import services
from gridgov.core.calendar import WorkingCalendar, calendar_current
from gridgov.core.calendar_package import package_days, package_years
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.core.models import CalendarDay, CalendarSource, CalendarYear

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_the_migration_loads_every_year_the_package_knows() -> None:
    years = list(CalendarYear.objects.values_list("year", flat=True))
    assert years == package_years() == list(range(2004, 2027))
    assert set(CalendarYear.objects.values_list("source", flat=True)) == {"package"}
    spring = CalendarDay.objects.get(date=dt.date(2026, 2, 16))
    assert (spring.is_working_day, spring.name, spring.source) == (False, "春节", "package")
    assert str(spring) == "2026-02-16 day off (春节)"


def test_only_exceptions_to_monday_friday_are_stored() -> None:
    for row in CalendarDay.objects.all():
        assert row.is_working_day == (row.date.weekday() >= 5), row


def test_every_day_2004_2026_agrees_with_the_package() -> None:
    calendar = calendar_current()
    day = dt.date(2004, 1, 1)
    while day.year <= 2026:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def _reference_work_day(start: dt.datetime, n: int) -> dt.datetime:
    """Walk day by day on the package itself (independent of our code)."""
    day, count = start.date(), 0
    while count < n:
        day += dt.timedelta(days=1)
        count += chinese_calendar.is_workday(day)
    return dt.datetime.combine(day, dt.time(17, 30), SHANGHAI)


def _reference_work_hour(start: dt.datetime, minutes: int) -> dt.datetime:
    """Walk minute by minute through working periods on the package itself (for checking)."""
    periods = [(dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30))]
    moment = start
    while True:
        inside = chinese_calendar.is_workday(moment.date()) and any(
            begin <= moment.time() < end for begin, end in periods
        )
        if inside:
            minutes -= 1
            moment += dt.timedelta(minutes=1)
            if minutes == 0:
                return moment
            continue
        later = [begin for begin, _end in periods if begin > moment.time()]
        if later and chinese_calendar.is_workday(moment.date()):
            moment = dt.datetime.combine(moment.date(), later[0], SHANGHAI)
        else:
            moment = dt.datetime.combine(moment.date() + dt.timedelta(days=1), dt.time(), SHANGHAI)


def test_work_days_match_a_day_by_day_walk_on_the_package() -> None:
    calendar = calendar_current()
    rng = random.Random(20260213)
    for _ in range(300):
        start = dt.datetime(2004, 1, 1, tzinfo=SHANGHAI) + dt.timedelta(
            minutes=rng.randrange(0, 22 * 365 * 24 * 60)
        )
        n = rng.choice([1, 2, 3, 5, 10, 30, 100])
        assert calendar.deadline(start, n, "work_day") == _reference_work_day(start, n), (start, n)


def test_work_hours_match_a_minute_by_minute_walk_on_the_package() -> None:
    calendar = calendar_current()
    rng = random.Random(7)
    for _ in range(120):
        start = dt.datetime(2024, 1, 1, tzinfo=SHANGHAI) + dt.timedelta(
            minutes=rng.randrange(0, 2 * 365 * 24 * 60)
        )
        minutes = rng.choice([1, 30, 90, 210, 240, 450, 451, 900, 2400])
        got = calendar.deadline(start, minutes / 60 if minutes % 60 else minutes // 60, "work_hour")
        assert got == _reference_work_hour(start, minutes), (start, minutes)


# --- Sync -------------------------------------------------------------------------------------


def test_sync_is_idempotent() -> None:
    result = services.calendar_sync_from_package()
    assert (result.days_created, result.days_updated, result.days_deleted) == (0, 0, 0)
    assert result.days_unchanged == CalendarDay.objects.count() == 557
    assert result.years_created == 0


def test_sync_restores_package_rows_and_removes_stale_ones() -> None:
    CalendarDay.objects.filter(date=dt.date(2026, 10, 1)).delete()
    CalendarDay.objects.filter(date=dt.date(2026, 10, 2)).update(name="wrong", is_working_day=True)
    CalendarDay.objects.create(date=dt.date(2026, 3, 3), is_working_day=False, source="package")
    CalendarYear.objects.filter(year=2026).delete()
    result = services.calendar_sync_from_package(years=[2026])
    assert (result.days_created, result.days_updated, result.days_deleted) == (1, 1, 1)
    assert result.years_created == 1
    rows = {row.date: (row.is_working_day, row.name) for row in CalendarDay.objects.all()}
    assert rows[dt.date(2026, 10, 1)] == rows[dt.date(2026, 10, 2)] == (False, "国庆节")
    assert dt.date(2026, 3, 3) not in rows
    assert CalendarYear.objects.get(year=2026).source == CalendarSource.PACKAGE


def test_sync_never_overwrites_manual_rows() -> None:
    # An official decided 1 Oct 2026 is worked (say, a duty roster) and added a local day off.
    services.calendar_day_set(date=dt.date(2026, 10, 1), is_working_day=True, name="值班")
    services.calendar_day_set(date=dt.date(2026, 3, 3), is_working_day=False, name="本地")
    result = services.calendar_sync_from_package(years=[2026])
    assert result.manual_kept == 2
    assert result.days_updated == result.days_deleted == 0
    assert CalendarDay.objects.get(date=dt.date(2026, 10, 1)).is_working_day
    assert CalendarDay.objects.get(date=dt.date(2026, 3, 3)).source == CalendarSource.MANUAL


def test_sync_rejects_a_year_the_package_does_not_know() -> None:
    with pytest.raises(ValidationFailed, match="2027") as info:
        services.calendar_sync_from_package(years=[2026, 2027])
    assert info.value.details == {"years": [2027]}


def test_package_days_returns_nothing_for_an_unknown_year() -> None:
    assert package_days(2027) == []


# --- Services -----------------------------------------------------------------------------------


def test_calendar_day_set_updates_in_place_and_marks_manual() -> None:
    row = services.calendar_day_set(date=dt.date(2026, 2, 16), is_working_day=False, name="春节")
    assert row.source == CalendarSource.MANUAL
    assert CalendarDay.objects.filter(date=dt.date(2026, 2, 16)).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"date": dt.date(1800, 1, 1), "is_working_day": False}, "1900"),
        ({"date": "2027-01-01", "is_working_day": False}, "not a date"),
        ({"date": dt.date(2027, 1, 1), "is_working_day": False, "name": "x" * 101}, "100"),
    ],
)
def test_calendar_day_set_validates(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationFailed, match=fragment):
        services.calendar_day_set(**kwargs)  # type: ignore[arg-type]


def test_calendar_day_delete_and_year_forget() -> None:
    assert services.calendar_day_delete(dates=[dt.date(2026, 2, 16), dt.date(2026, 2, 17)]) == 2
    with pytest.raises(NotFound, match="2026-03-03"):
        services.calendar_day_delete(dates=[dt.date(2026, 3, 3)])
    assert services.calendar_year_forget(years=[2026]) == 1
    calendar = calendar_current()
    assert calendar.is_working_day(dt.date(2026, 2, 16), warn=False)  # a Monday again
    assert 2026 not in calendar.known_years


def test_calendar_year_mark_known_validates_the_year() -> None:
    with pytest.raises(ValidationFailed, match="between 1900 and 9999"):
        services.calendar_year_mark_known(year=20270)


def test_a_snapshot_can_be_built_without_the_database() -> None:
    calendar = WorkingCalendar(
        exceptions={dt.date(2030, 1, 1): False},
        known_years=[2029, 2030],
        working_hours=["09:00-17:00"],
        time_zone="Asia/Shanghai",
    )
    start = dt.datetime(2029, 12, 31, 16, tzinfo=SHANGHAI)
    assert calendar.deadline(start, 2, "work_hour").isoformat() == "2030-01-02T10:00:00+08:00"
