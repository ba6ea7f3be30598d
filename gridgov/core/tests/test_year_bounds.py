"""Dates far in the past or future are refused with a clear error wherever they enter —
never a 500 (Python's dates end with year 9999)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from gridgov.core.errors import ValidationFailed
from gridgov.core.validators import YEAR_MAX, YEAR_MIN, year_check
from gridgov.tasks.tests.factories import make_task_street

pytestmark = pytest.mark.django_db


def test_year_check() -> None:
    year_check(dt.date(YEAR_MIN, 1, 1))
    year_check(dt.date(YEAR_MAX, 12, 31))
    for day in (dt.date(1, 1, 1), dt.date(9999, 12, 31)):
        with pytest.raises(ValidationFailed, match="between 1970 and 9998"):
            year_check(day, name="start")


@pytest.mark.parametrize(
    "url",
    [
        "/en/manage/tasks/?created_to=9999-12-31",
        "/en/manage/tasks/?deadline_from=0001-01-01",
        "/en/manage/tasks/?campaign=99999999999999999999",
        "/en/manage/tasks/?directive=99999999999999999999",
        "/en/manage/tasks/export.csv?created_to=9999-12-31",
        "/en/dashboard/?start=9999-12-31&end=9999-12-31",
        "/en/dashboard/map/?start=9999-12-31&end=9999-12-31",
        "/en/dashboard/hotspots/?end=9999-12-31",
        "/en/dashboard/hotspots/?end=0001-01-01",
        "/en/dashboard/ranking/?month=0001-01",
        "/en/dashboard/ranking/?month=9999-12",
    ],
)
def test_pages_refuse_out_of_range_dates_without_a_500(url: str) -> None:
    street = make_task_street()
    client = Client(raise_request_exception=False)
    client.force_login(street["zhou"], backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(url)
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 200 and "export" not in url:
        expected = "less than or equal to" if "999999999999" in url else "between 1970 and 9998"
        assert expected in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/open311/v2/requests.json?start_date=0001-01-01T00:00:00%2B08:00"
        "&end_date=0001-01-02T00:00:00%2B08:00",
        "/open311/v2/requests.xml?end_date=9999-12-31T00:00:00Z",
    ],
)
def test_open311_refuses_out_of_range_dates_with_400(url: str) -> None:
    response = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en").get(url)
    assert response.status_code == 400
    assert b"between 1970 and 9998" in response.content


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "0001-01-02"), ("2025-01-01", "9999-12-31")]
)
def test_stats_refuses_out_of_range_dates(start: str, end: str) -> None:
    with pytest.raises(CommandError, match="between 1970 and 9998"):
        call_command("stats", "--from", start, "--to", end, stdout=io.StringIO())


@pytest.mark.parametrize(
    "url",
    [
        "/en/manage/tasks/export.csv?area=zzz&created_from=notadate",
        "/en/manage/tasks/export.xlsx?created_to=9999-12-31",
        "/en/dashboard/ranking/?month=2025-13&format=csv",
        "/en/dashboard/ranking/?month=0001-01&format=xlsx",
    ],
)
def test_an_export_with_bad_parameters_is_refused_not_quietly_other_rows(url: str) -> None:
    street = make_task_street()
    client = Client(raise_request_exception=False)
    client.force_login(street["zhou"], backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "The export was refused" in response.content.decode()
