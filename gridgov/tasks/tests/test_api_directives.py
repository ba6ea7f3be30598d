"""Directives over the API: issue, list, detail with progress — scoped."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from gridgov.api.tests.helpers import bearer_client, envelope, ok
from gridgov.tasks.tests.factories import TaskStreet

#: A deadline a month ahead at 17:30 local time (a typed deadline lies within a year:
#: ``core.calendar.deadline_set_by_hand_check``).
DEADLINE = (
    (timezone.localtime() + dt.timedelta(days=30))
    .replace(hour=17, minute=30, second=0, microsecond=0)
    .isoformat()
)


def issue(client: Client, street: TaskStreet, **overrides: Any) -> Any:
    body = {
        "title": "防汛隐患排查",
        "instruction": "排查本网格地下室、低洼地带，拍照上报。",
        "task_type": street.types["patrol"].code,
        "deadline": DEADLINE,
        "areas": [street["c1"].code],
        **overrides,
    }
    return client.post("/api/v1/directives", data=body, content_type="application/json")


def test_the_command_centre_issues_one_task_per_grid(street: TaskStreet) -> None:
    directive = ok(issue(bearer_client(street["zhou"]), street), 201)
    progress = directive["progress"]
    assert progress["issued"] == 2
    assert {g["grid_code"] for g in progress["grids"]} == {street["g11"].code, street["g12"].code}
    assert {g["state"] for g in progress["grids"]} == {"dispatched"}
    assert progress["closure_rate"] == "0.00"
    # The grid worker sees it in the list, and only their own grid's row.
    chen = bearer_client(street["chen"])
    listed = ok(chen.get("/api/v1/directives"))
    assert [d["id"] for d in listed["items"]] == [directive["id"]]
    mine = ok(chen.get(f"/api/v1/directives/{directive['id']}"))
    assert [g["grid_code"] for g in mine["progress"]["grids"]] == [street["g11"].code]
    assert mine["progress"]["issued"] == 2
    # A worker of the other community does not see it at all.
    zhao = bearer_client(street["zhao"])
    assert ok(zhao.get("/api/v1/directives"))["count"] == 0
    assert envelope(zhao.get(f"/api/v1/directives/{directive['id']}"), 404)["code"] == "not_found"


def test_refusals(street: TaskStreet) -> None:
    error = envelope(issue(bearer_client(street["chen"]), street), 403)
    assert error["code"] == "permission_denied"
    zhou = bearer_client(street["zhou"])
    unknown = envelope(issue(zhou, street, areas=["330106004999"]), 422)
    assert unknown["details"] == {"areas": ["330106004999"]}
    past = envelope(issue(zhou, street, deadline="2000-01-01T00:00:00+08:00"), 422)
    assert past["code"] == "validation_failed"
    assert envelope(issue(zhou, street, areas=[]), 422)["details"][0]["loc"] == [
        "body",
        "payload",
        "areas",
    ]


def test_an_indicator_target_is_tracked(street: TaskStreet) -> None:
    directive = ok(
        issue(
            bearer_client(street["zhou"]),
            street,
            indicator="patrol_coverage",
            indicator_target="95",
            period_start="2099-06-01",
            period_end="2099-06-30",
        ),
        201,
    )
    assert directive["indicator"] == "patrol_coverage"
    assert directive["progress"]["indicator"]["name"] == "patrol_coverage"
