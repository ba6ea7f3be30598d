"""The analysis pages at the edges of ``core.validators.YEAR_MIN…YEAR_MAX``: a month or a
window reaching before 1970-01-01 is a form error (and a 400 for an export), never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from gridgov.analytics.tests.test_stats_and_dashboard import login
from gridgov.tasks.tests.factories import TaskStreet


@pytest.mark.django_db
@pytest.mark.parametrize("export", ["", "csv", "xlsx"])
def test_the_ranking_refuses_a_month_without_a_month_before(
    street: TaskStreet, export: str
) -> None:
    client = login(street, "zhou")
    params = {"month": "1970-01", "level": "community"} | ({"format": export} if export else {})
    response = client.get("/en/dashboard/ranking/", params)
    if export:
        assert response.status_code == 400
        assert "The earliest month is 1970-02" in response.content.decode()
    else:
        assert response.status_code == 200
        assert "The earliest month is 1970-02" in str(response.context["form"].errors["month"])
        assert "The earliest month is 1970-02" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("month", ["1970-02", "9998-12"])
def test_the_ranking_takes_the_first_and_last_months(street: TaskStreet, month: str) -> None:
    client = login(street, "zhou")
    for export in ("", "csv"):
        response = client.get("/en/dashboard/ranking/", {"month": month, "format": export})
        assert response.status_code == 200
    page = client.get("/en/dashboard/ranking/", {"month": month})
    assert page.context["form"].is_valid()
    assert f"{page.context['month']:%Y-%m}" == month


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"end": "1970-01-05"},  # 30 days back by default: 1969-12-07
        {"end": "1970-01-13", "days": "1"},  # the rising categories' two weeks: 1969-12-31
        {"end": "1970-01-31", "days": "32"},
    ],
)
@pytest.mark.parametrize("export", ["", "csv", "xlsx"])
def test_the_hot_spots_refuse_a_window_before_1970(
    street: TaskStreet, params: dict[str, str], export: str
) -> None:
    client = login(street, "zhou")
    query = params | ({"format": export} if export else {})
    response = client.get("/en/dashboard/hotspots/", query)
    if export:
        assert response.status_code == 400
        assert "the analysis starts on 1970-01-01" in response.content.decode()
    else:
        assert response.status_code == 200
        assert "the analysis starts on 1970-01-01" in str(response.context["form"].errors)
        assert "the analysis starts on 1970-01-01" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [{"end": "1970-01-14", "days": "14"}, {"end": "1970-01-30", "days": "30"},
     {"end": "9998-12-31", "days": "366"}],
)  # fmt: skip
def test_the_hot_spots_take_the_earliest_and_latest_windows(
    street: TaskStreet, params: dict[str, str]
) -> None:
    client = login(street, "zhou")
    response = client.get("/en/dashboard/hotspots/", params)
    assert response.status_code == 200
    assert response.context["form"].is_valid()
    assert response.context["repeats"]["end"].isoformat() == params["end"]
    assert client.get("/en/dashboard/hotspots/", params | {"format": "csv"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end"), [("1970-01-01", "1970-01-05"), ("9998-12-25", "9998-12-31")]
)
@pytest.mark.parametrize("page", ["/en/dashboard/", "/en/dashboard/map/"])
def test_the_dashboard_and_map_take_the_first_and_last_days(
    street: TaskStreet, week: Any, page: str, start: str, end: str
) -> None:
    response = login(street, "zhou").get(page, {"start": start, "end": end})
    assert response.status_code == 200
    assert response.context["form"].is_valid()


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/en/dashboard/", "/en/dashboard/map/"])
def test_the_dashboard_and_map_refuse_1969_as_a_form_error(street: TaskStreet, page: str) -> None:
    response = login(street, "zhou").get(page, {"start": "1969-12-31", "end": "1970-01-05"})
    assert response.status_code == 200
    assert "between 1970 and 9998" in str(response.context["form"].errors["start"])
    # The page says the figures shown are the default choices', not the refused ones.
    assert "for the default choices" in response.content.decode()
