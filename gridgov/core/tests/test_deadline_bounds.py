"""``gridgov deadline`` with a start outside the years 1970–9998 names the start, not the
time limit; ``core.calendar.deadline_set_by_hand_check`` (directives, batches)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from gridgov.core.calendar import DEADLINE_HORIZON_DAYS, deadline_set_by_hand_check
from gridgov.core.errors import ValidationFailed
from gridgov.core.tests.test_commands import run

CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2025, 6, 3, 10, 0, tzinfo=CST)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "limit"),
    [
        ("9999-12-31T10:00+08:00", "3 work_day"),  # the QA's case: it said "too long"
        ("9999-01-01T00:00+08:00", "1 urgent_hour"),
        ("1969-12-31T10:00+08:00", "1 natural_day"),
    ],
)
def test_a_start_out_of_range_is_named_as_such(start: str, limit: str) -> None:
    with pytest.raises(CommandError) as caught:
        run("deadline", start, limit)
    message = str(caught.value)
    assert message.startswith(f"The start {dt.datetime.fromisoformat(start).isoformat()}")
    assert "between 1970 and 9998" in message
    assert "too long" not in message


@pytest.mark.django_db
def test_a_start_out_of_range_is_named_in_chinese() -> None:
    with translation.override("zh-hans"), pytest.raises(CommandError, match="开始时间"):
        call_command("deadline", "9999-12-31T10:00+08:00", "3 work_day")


@pytest.mark.django_db
def test_the_last_start_still_computes() -> None:
    out, _err = run("deadline", "9998-12-30T10:00+08:00", "1 natural_day")
    assert out == "9998-12-31T10:00:00+08:00"


def test_a_deadline_set_by_hand_is_after_now_and_within_the_horizon() -> None:
    assert DEADLINE_HORIZON_DAYS == 366
    deadline_set_by_hand_check(NOW + dt.timedelta(days=366), now=NOW)
    deadline_set_by_hand_check(NOW + dt.timedelta(minutes=1), now=NOW)
    for bad in (NOW, NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=366, seconds=1)):
        with pytest.raises(ValidationFailed) as caught:
            deadline_set_by_hand_check(bad, now=NOW)
        assert caught.value.details == {"deadline": bad.isoformat()}
    far = dt.datetime(9999, 12, 31, 23, 59, tzinfo=CST)
    with translation.override("en"), pytest.raises(ValidationFailed, match="outside the years"):
        deadline_set_by_hand_check(far, now=NOW)


def test_a_refused_deadline_is_shown_as_people_write_it() -> None:
    from zoneinfo import ZoneInfo

    first = dt.datetime(1, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))  # LMT +08:05:43
    with translation.override("en"), pytest.raises(ValidationFailed) as caught:
        deadline_set_by_hand_check(first, now=NOW)
    assert "0001-01-01 00:00" in caught.value.message
    assert "+08:05" not in caught.value.message
    with translation.override("en"), pytest.raises(ValidationFailed) as late:
        deadline_set_by_hand_check(NOW - dt.timedelta(hours=1), now=NOW)
    shown = timezone.localtime(NOW - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    assert f"The deadline {shown} is not in the future." == late.value.message
