"""``gridgov deadline`` and ``gridgov calendar``."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from gridgov.core.models import CalendarDay

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def test_deadline_prints_the_iso_deadline() -> None:
    assert run("deadline", "2026-02-13T10:00+08:00", "3 work_day") == (
        "2026-02-25T17:30:00+08:00",
        "",
    )
    assert run("deadline", "2026-02-13T16:00+08:00", "4 work_hour")[0] == (
        "2026-02-14T11:00:00+08:00"
    )


def test_deadline_json() -> None:
    out, _err = run("deadline", "2026-02-13T02:00Z", "1.5 work_hour", "--json")
    assert json.loads(out) == {
        "start": "2026-02-13T10:00:00+08:00",
        "amount": 1.5,
        "unit": "work_hour",
        "deadline": "2026-02-13T11:30:00+08:00",
        "warnings": [],
    }


def test_deadline_reports_an_unknown_year_every_time() -> None:
    for _ in range(2):  # not deduplicated per process: each run reports its own years
        out, _err = run("deadline", "2026-12-30T10:00+08:00", "5 work_day", "--json")
        payload = json.loads(out)
        # Thu 31 Dec, then 2027 on Monday–Friday: Fri 1 Jan (the fallback knows no
        # New Year's Day), Mon 4, Tue 5, Wed 6 Jan.
        assert payload["deadline"] == "2027-01-06T17:30:00+08:00"
        assert len(payload["warnings"]) == 1
        assert "2027" in payload["warnings"][0]
    out, err = run("deadline", "2027-03-01T10:00+08:00", "1 work_day")
    assert out == "2027-03-02T17:30:00+08:00"
    assert err.startswith("warning: ")
    assert "2027" in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("yesterday", "3 work_day"), "Cannot read the start"),
        (("2026-02-13T10:00", "3 work_day"), "no time zone"),
        (("2026-02-13T10:00+08:00", "3 weeks"), "Unknown time-limit unit"),
        (("2026-02-13T10:00+08:00", "three work_day"), "Cannot read the time limit"),
        (("2026-02-13T10:00+08:00", "0 work_day"), "positive"),
        (("2026-02-13T10:00+08:00", "1.5 work_day"), "whole number"),
    ],
)
def test_deadline_bad_input_is_a_clear_command_error(args: tuple[str, str], fragment: str) -> None:
    with pytest.raises(CommandError, match=fragment):
        run("deadline", *args)


def test_calendar_sync_is_idempotent_and_keeps_manual_rows() -> None:
    CalendarDay.objects.filter(date=dt.date(2026, 2, 16)).delete()
    CalendarDay.objects.filter(date=dt.date(2026, 2, 17)).update(source="manual", name="本地")
    out, _err = run("calendar", "sync", "--year", "2026", "--json")
    result = json.loads(out)
    assert result["years"] == [2026]
    assert (result["days_created"], result["manual_kept"]) == (1, 1)
    again = json.loads(run("calendar", "sync", "--json")[0])
    assert (again["days_created"], again["days_updated"], again["days_deleted"]) == (0, 0, 0)
    assert again["years"] == list(range(2004, 2027))
    text, _err = run("calendar", "sync")
    assert "days created 0" in text
    assert CalendarDay.objects.get(date=dt.date(2026, 2, 17)).name == "本地"


def test_calendar_sync_rejects_an_unknown_year() -> None:
    with pytest.raises(CommandError, match="2027"):
        run("calendar", "sync", "--year", "2027")


def test_calendar_show() -> None:
    out, _err = run("calendar", "show", "2026", "--json")
    payload = json.loads(out)
    assert payload["known"] is True
    assert {"date": "2026-02-14", "is_working_day": True, "name": "春节", "source": "package"} in (
        payload["days"]
    )
    text, _err = run("calendar", "show", "2027")
    assert text.startswith("2027: UNKNOWN")


def test_messages_are_translated_to_chinese_by_default() -> None:
    with translation.override("zh-hans"), pytest.raises(CommandError, match="没有时区"):
        call_command("deadline", "2026-02-13T10:00", "3 work_day")
    with translation.override("zh-hans"):
        assert str(CalendarDay.objects.get(date=dt.date(2026, 2, 16))) == "2026-02-16 休息日 (春节)"
    out = StringIO()
    with translation.override("zh-hans"):
        call_command("calendar", "show", "2026", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("2026：已知")
    assert "2026-02-14 星期六 工作日 春节" in out.getvalue()
