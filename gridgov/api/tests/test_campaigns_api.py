"""Campaigns over the API: issue a batch, rectify and verify a slip, progress, ranking."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gridgov.api.tests.helpers import bearer_client, envelope, ok
from gridgov.campaigns.tests.conftest import PNG_1PX
from gridgov.tasks.tests.factories import TaskStreet


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


#: A month ahead at 17:30 local time (a typed deadline lies within a year), and its month.
DEADLINE = (timezone.localtime() + dt.timedelta(days=30)).replace(
    hour=17, minute=30, second=0, microsecond=0
)
MONTH = DEADLINE.strftime("%Y-%m")


def png(name: str = "p.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_1PX, content_type="image/png")


def issue(street: TaskStreet, user: str = "zhou", **overrides: Any) -> Any:
    slips = [
        {"problem": "店外乱堆放", "place": street.places["shop"].pk},
        {"problem": "垃圾满溢", "lon": 120.004, "lat": 30.006, "address": "古荡新村东门"},
    ]
    form = {
        "title": "六月环境整治",
        "task_type": street.types["patrol"].code,
        "deadline": DEADLINE.isoformat(),
        "month": MONTH,
        "slips": json.dumps(slips, ensure_ascii=False),
        "photos": [png("a.png"), png("b.png")],
        **overrides,
    }
    return bearer_client(street[user]).post("/api/v1/campaigns", form)


def test_the_loop_of_one_slip(street: TaskStreet) -> None:
    campaign = ok(issue(street), 201)
    assert campaign["progress"]["slips"] == 2
    assert campaign["month"] == f"{MONTH}-01"
    chen = bearer_client(street["chen"])
    slips = ok(chen.get(f"/api/v1/campaigns/{campaign['id']}/slips"))
    [mine] = slips["items"]  # chen's grid g11 holds the second slip only
    assert (mine["number"], mine["grid_code"], mine["state"]) == (
        2,
        street["g11"].code,
        "dispatched",
    )
    slip_url = f"/api/v1/campaigns/{campaign['id']}/slips/2"
    ok(chen.post(f"/api/v1/tasks/{mine['task_number']}/accept", content_type="application/json"))
    missing_after = envelope(chen.post(f"{slip_url}/rectification", {"before": [png()]}), 422)
    assert missing_after["code"] == "validation_failed"
    handled = ok(
        chen.post(
            f"{slip_url}/rectification",
            {"note": "已清运", "before": [png()], "after": [png()], "lon": 120.004, "lat": 30.006},
        )
    )
    assert handled["state"] == "handled"
    assert {a["kind"] for a in handled["attachments"]} == {"before", "after"}
    wu = bearer_client(street["wu"])
    closed = ok(wu.post(f"{slip_url}/verify", {"passed": True}, content_type="application/json"))
    assert closed["state"] == "closed"
    detail = ok(bearer_client(street["zhou"]).get(f"/api/v1/campaigns/{campaign['id']}"))
    assert detail["progress"]["closed"] == 1
    assert detail["progress"]["completion_rate"] == "50.00"
    ranking = ok(wu.get(f"/api/v1/campaigns/ranking?month={MONTH}&level=grid"))
    assert ranking[0]["code"] == street["g11"].code
    assert ranking[0]["rank"] == 1


def test_refusals(street: TaskStreet) -> None:
    assert envelope(issue(street, user="chen"), 403)["code"] == "permission_denied"
    mismatch = envelope(issue(street, photos=[png()]), 422)
    assert mismatch["details"] == {"field": "photos"}
    assert envelope(issue(street, slips="[oops"), 422)["details"] == {"field": "slips"}
    campaign = ok(issue(street), 201)
    # Another community's worker sees neither the batch nor its slips.
    zhao = bearer_client(street["zhao"])
    assert envelope(zhao.get(f"/api/v1/campaigns/{campaign['id']}"), 404)
    assert ok(zhao.get("/api/v1/campaigns"))["count"] == 0
