"""A year the package does not know (2027): Monday–Friday with a warning, then admin data."""

from __future__ import annotations

import datetime as dt
import logging
import warnings

import pytest
from django.test import Client
from django.urls import reverse

from gridgov.core import services
from gridgov.core.calendar import (
    CalendarYearUnknownWarning,
    calendar_current,
    deadline_compute,
    is_working_day,
)
from gridgov.core.models import CalendarDay, CalendarSource, CalendarYear

pytestmark = pytest.mark.django_db

# Spring Festival 2027 falls on Saturday 6 February; the State Council's 2027 notice is not
# in chinesecalendar 1.11. Wednesday 10 February is the day an official enters here.
START = dt.datetime.fromisoformat("2027-02-08T10:00+08:00")  # a Monday


def test_an_unknown_year_falls_back_to_monday_to_friday_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="gridgov.core.calendar"),
        pytest.warns(CalendarYearUnknownWarning, match="2027"),
    ):
        result = deadline_compute(start=START, amount=3, unit="work_day")
    assert result.isoformat() == "2027-02-11T17:30:00+08:00"  # Tue, Wed, Thu
    assert [r.getMessage() for r in caplog.records if "2027" in r.getMessage()]
    assert caplog.records[0].name == "gridgov.core.calendar"


def test_it_warns_once_per_year_per_process(caplog: pytest.LogCaptureFixture) -> None:
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        for hours in range(1, 20):
            deadline_compute(start=START, amount=hours, unit="work_hour")
        is_working_day(dt.date(2027, 5, 3))
        # Crossing into 2028 warns for 2028 only.
        deadline_compute(start=START, amount=300, unit="work_day")
    years = [str(w.message).split(" for ")[1][:4] for w in caught]
    assert years == ["2027", "2028"]
    assert all(issubclass(w.category, CalendarYearUnknownWarning) for w in caught)
    assert len([r for r in caplog.records if r.name == "gridgov.core.calendar"]) == 2


def test_natural_units_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deadline_compute(start=START, amount=3, unit="natural_day")
        deadline_compute(start=START, amount=3, unit="urgent_hour")


def test_a_known_year_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deadline_compute(start=START.replace(year=2026), amount=3, unit="work_day")


def test_an_admin_entered_2027_holiday_is_honoured_and_the_cache_notices(
    admin_client: Client,
) -> None:
    with pytest.warns(CalendarYearUnknownWarning):
        before = deadline_compute(start=START, amount=3, unit="work_day")
    assert before.date() == dt.date(2027, 2, 11)
    snapshot = calendar_current()

    response = admin_client.post(
        reverse("admin:core_calendarday_add"),
        {"date": "2027-02-10", "name": "春节"},  # is_working_day unticked
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = CalendarDay.objects.get(date=dt.date(2027, 2, 10))
    assert (row.is_working_day, row.source) == (False, CalendarSource.MANUAL)

    assert calendar_current() is not snapshot
    assert not is_working_day(dt.date(2027, 2, 10))
    after = deadline_compute(start=START, amount=3, unit="work_day")
    assert after.date() == dt.date(2027, 2, 12)  # Tue 9, (Wed 10 off), Thu 11, Fri 12

    # Marking the year known in the admin silences the warning.
    response = admin_client.post(
        reverse("admin:core_calendaryear_add"), {"year": "2027", "note": "国办发明电〔2026〕"}
    )
    assert response.status_code == 302
    assert CalendarYear.objects.get(year=2027).source == CalendarSource.MANUAL
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert deadline_compute(start=START, amount=3, unit="work_day") == after


def test_the_cache_notices_edits_made_behind_its_back() -> None:
    # Another process (or a raw ORM write) changes the table: the fingerprint catches it.
    calendar_current()
    CalendarDay.objects.create(date=dt.date(2026, 3, 10), is_working_day=False, name="x")
    assert not is_working_day(dt.date(2026, 3, 10))
    CalendarDay.objects.filter(date=dt.date(2026, 3, 10)).delete()
    assert is_working_day(dt.date(2026, 3, 10))
    # A bulk update() skips auto_now, but flipping a day's status changes the fingerprint.
    CalendarDay.objects.filter(date=dt.date(2026, 2, 16)).update(is_working_day=True)
    assert is_working_day(dt.date(2026, 2, 16))
    CalendarYear.objects.filter(year=2026).update(year=2031)
    assert 2031 in calendar_current().known_years


def test_the_service_drops_the_snapshot_at_once() -> None:
    snapshot = calendar_current()
    services.calendar_year_mark_known(year=2027, note="test")
    assert calendar_current() is not snapshot
    assert 2027 in calendar_current().known_years
