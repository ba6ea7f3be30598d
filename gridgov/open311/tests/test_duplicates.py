"""Duplicate reports: same type, within the radius and the window, first still open →
linked to the first task, never dispatched; the resident sees the first task's status."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from gridgov.open311.services import service_request_create
from gridgov.open311.tests.conftest import IN_G11, Open311World
from gridgov.tasks.choices import TaskAction, TaskState
from gridgov.tasks.services import task_cancel, task_duplicate_find

ANSWERS = {"where_exactly": ["gate"], "danger": ["no"]}


def report(world: Open311World, *, lon: float, lat: float, **extra: Any) -> Any:
    return service_request_create(
        service_code=extra.pop("code", world.service.code),
        lon=lon,
        lat=lat,
        description="Street light out",
        attributes=ANSWERS if extra.pop("answers", True) else {},
        phone=extra.pop("phone", "13800000001"),
        **extra,
    )


def test_a_second_report_nearby_is_linked_not_dispatched(
    client: Client, world: Open311World
) -> None:
    lon, lat = IN_G11
    first = report(world, lon=lon, lat=lat)
    # 0.0003° of latitude is about 33 m: within the default 50 m.
    second = report(world, lon=lon, lat=lat + 0.0003, phone="13800000002")
    assert second.task.duplicate_of == first.task
    assert second.task.state == TaskState.REJECTED
    assert second.task.dispatched_at is None
    assert first.task.events.filter(action=TaskAction.DUPLICATE).get().data == {
        "duplicate": second.task.number
    }
    assert second.task.events.get(action=TaskAction.CREATE).data["duplicate_of"] == (
        first.task.number
    )
    data = client.get(f"/open311/v2/requests/{second.task.number}.json").json()[0]
    assert data["status"] == "open"  # the first task's
    extended = client.get(f"/open311/v2/requests/{second.task.number}.json?extensions=true")
    assert extended.json()[0]["status"] == "duplicate"
    assert extended.json()[0]["extended_attributes"]["duplicate_of"] == first.task.number
    assert [
        r["service_request_id"]
        for r in client.get("/open311/v2/requests.json?status=duplicate&extensions=true").json()
    ] == [second.task.number]


@pytest.mark.parametrize(
    "case",
    ["far away", "other type", "first closed", "outside the window"],
)
def test_no_link_when_anything_differs(world: Open311World, case: str) -> None:
    lon, lat = IN_G11
    now = timezone.now()
    first = report(world, lon=lon, lat=lat, now=now)
    later = now + dt.timedelta(minutes=5)
    extra: dict[str, Any] = {}
    if case == "far away":
        lat += 0.001  # about 111 m
    elif case == "other type":
        extra = {"code": world.plain.code, "answers": False}
    elif case == "first closed":
        task_cancel(actor=world.street["zhou"], task=first.task, reason="done")
    else:
        later = now + dt.timedelta(hours=73)
    second = report(world, lon=lon, lat=lat, now=later, **extra)
    assert second.task.duplicate_of is None
    assert second.task.state == TaskState.REPORTED


def test_find_uses_the_haversine_distance(world: Open311World, settings: Any) -> None:
    lon, lat = IN_G11
    first = report(world, lon=lon, lat=lat)
    settings.GRIDGOV_OPEN311_DUPLICATE_RADIUS_M = 120
    found = task_duplicate_find(task_type=world.service, lon=lon, lat=lat + 0.001)
    assert found == first.task
    assert task_duplicate_find(task_type=world.service, lon=lon, lat=lat + 0.0012) is None
