"""Every transition over the API: a happy path and a refusal each; the race, idempotency."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gridgov.api.tests.helpers import bearer_client, envelope, ok
from gridgov.people.choices import Role
from gridgov.people.tests.factories import MembershipFactory, UserFactory
from gridgov.tasks import services
from gridgov.tasks.choices import TaskAction, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.tests.factories import HOME_LONLAT, TaskStreet, make_task

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def post(client: Client, url: str, body: dict[str, Any] | None = None, **extra: Any) -> Any:
    return client.post(url, data=body or {}, content_type="application/json", **extra)


def task_in(street: TaskStreet, state: str, **fields: Any) -> Task:
    fields.setdefault("area", street["g11"])
    fields.setdefault("task_type", street.types["patrol"])
    if state not in (TaskState.REPORTED, TaskState.REGISTERED, TaskState.SENT_BACK):
        fields.setdefault("assignee", street["chen"])
    return make_task(state=state, **fields)


def url(task: Task, action: str) -> str:
    return f"/api/v1/tasks/{task.number}/{action}"


# --- create -----------------------------------------------------------------------------


def test_a_worker_reports_a_problem_where_they_stand(street: TaskStreet, settings: Any) -> None:
    settings.GRIDGOV_WORKER_REPORT_AUTO_REGISTER = False  # the report waits for a dispatcher
    client = bearer_client(street["chen"])
    body = {
        "task_type": street.types["patrol"].code,
        "lon": 120.005,
        "lat": 30.005,
        "title": "井盖缺失",
        "description": "人行道上",
    }
    task = ok(post(client, "/api/v1/tasks", body), 201)
    assert task["state"] == "reported"
    assert task["source"] == "worker_report"
    assert task["area"]["code"].startswith(street["g11"].code)
    assert [e["action"] for e in task["events"]] == ["create"]


def test_a_report_outside_every_area_or_by_a_user_without_role_is_refused(
    street: TaskStreet,
) -> None:
    body = {"task_type": street.types["patrol"].code, "lon": 100.0, "lat": 20.0, "title": "x"}
    assert envelope(post(bearer_client(street["chen"]), "/api/v1/tasks", body), 422)
    body.update(lon=120.005, lat=30.005)
    error = envelope(post(bearer_client(street["nobody"]), "/api/v1/tasks", body), 403)
    assert error["code"] == "permission_denied"


def test_a_title_too_long_is_refused_in_characters(street: TaskStreet) -> None:
    body = {"task_type": street.types["patrol"].code, "lon": 120.005, "lat": 30.005}
    error = envelope(post(bearer_client(street["chen"]), "/api/v1/tasks", body | {
        "title": "井" * 201
    }), 422)  # fmt: skip
    [problem] = error["details"]
    assert problem["loc"][-1] == "title"
    assert problem["type"] == "string_too_long"
    assert "200 characters" in problem["msg"]


def test_an_idempotent_report_creates_one_task(street: TaskStreet) -> None:
    client = bearer_client(street["chen"])
    body = {"task_type": street.types["patrol"].code, "lon": 120.005, "lat": 30.005, "title": "x"}
    first = ok(post(client, "/api/v1/tasks", body, HTTP_IDEMPOTENCY_KEY="report-1"), 201)
    again = ok(post(client, "/api/v1/tasks", body, HTTP_IDEMPOTENCY_KEY="report-1"), 201)
    assert first["number"] == again["number"]
    assert Task.objects.count() == 1


# --- one test per transition: happy path, then a refusal --------------------------------


def test_register(street: TaskStreet) -> None:
    task = task_in(street, TaskState.REPORTED)
    refused = envelope(post(bearer_client(street["chen"]), url(task, "register")), 403)
    assert refused["code"] == "permission_denied"
    done = ok(post(bearer_client(street["wu"]), url(task, "register"), {"note": "属实"}))
    assert done["state"] == "registered"
    assert done["events"][-1]["action"] == "register"


def test_reject(street: TaskStreet) -> None:
    task = task_in(street, TaskState.REPORTED)
    wu = bearer_client(street["wu"])
    missing = envelope(post(wu, url(task, "reject")), 422)
    assert missing["details"][0]["loc"] == ["body", "payload", "reason"]
    assert ok(post(wu, url(task, "reject"), {"reason": "不属于网格事项"}))["state"] == "rejected"


def test_dispatch(street: TaskStreet) -> None:
    reported = task_in(street, TaskState.REPORTED)
    wu = bearer_client(street["wu"])
    error = envelope(post(wu, url(reported, "dispatch"), {"assignee": "chen"}), 409)
    assert error["code"] == "state_conflict"
    registered = task_in(street, TaskState.REGISTERED)
    done = ok(post(wu, url(registered, "dispatch"), {"assignee": "chen2"}))
    assert done["state"] == "dispatched"
    assert done["assignee"]["username"] == "chen2"
    unknown = envelope(post(wu, url(registered, "dispatch"), {"assignee": "ghost"}), 422)
    assert unknown["details"] == {"assignee": "ghost"}


def test_accept(street: TaskStreet) -> None:
    task = task_in(street, TaskState.DISPATCHED)
    # Another grid's worker does not even see it; a colleague in the grid may not accept.
    assert envelope(post(bearer_client(street["li"]), url(task, "accept")), 404)
    assert envelope(post(bearer_client(street["chen2"]), url(task, "accept")), 403)
    done = ok(post(bearer_client(street["chen"]), url(task, "accept"), {"lon": 120.0, "lat": 30.0}))
    assert done["state"] == "accepted"
    assert done["accepted_at"] is not None


def test_send_back(street: TaskStreet) -> None:
    accepted = task_in(street, TaskState.ACCEPTED)
    chen = bearer_client(street["chen"])
    assert envelope(post(chen, url(accepted, "send-back"), {"reason": "x"}), 409)
    task = task_in(street, TaskState.DISPATCHED)
    done = ok(post(chen, url(task, "send-back"), {"reason": "不是本网格"}))
    assert done["state"] == "sent_back"
    assert done["assignee"] is None


def test_feedback_with_evidence(street: TaskStreet) -> None:
    task = task_in(
        street,
        TaskState.ACCEPTED,
        rule=street.rules["visit"],
        target_household=street.households["home"],
    )
    chen = bearer_client(street["chen"])
    lon, lat = HOME_LONLAT
    refused = envelope(
        chen.post(url(task, "feedback"), {"note": "走访", "lon": lon + 0.01, "lat": lat}), 422
    )
    fields = {p["field"] for p in refused["details"]["problems"]}
    assert {"photos", "location"} <= fields
    bad_json = envelope(chen.post(url(task, "feedback"), {"answers": "[1"}), 422)
    assert bad_json["details"] == {"field": "answers"}
    done = ok(
        chen.post(
            url(task, "feedback"),
            {
                "note": "老人身体良好",
                "lon": lon,
                "lat": lat,
                "answers": json.dumps({"health": "good", "people_met": 2}),
                "photos": [SimpleUploadedFile("a.png", PNG, content_type="image/png")],
            },
        )
    )
    assert done["state"] == "handled"
    [attachment] = done["attachments"]
    assert attachment["content_type"] == "image/png"
    assert done["events"][-1]["attachment_ids"] == [attachment["id"]]
    download = chen.get(attachment["url"])
    assert b"".join(download.streaming_content) == PNG


def test_verify_pass_and_fail(street: TaskStreet) -> None:
    task = task_in(street, TaskState.HANDLED)
    # The assignee never verifies their own work.
    assert envelope(post(bearer_client(street["chen"]), url(task, "verify"), {"passed": True}), 403)
    wu = bearer_client(street["wu"])
    failed = ok(post(wu, url(task, "verify"), {"passed": False, "note": "照片不清楚"}))
    assert (failed["state"], failed["rework_count"]) == ("returned", 1)
    other = task_in(street, TaskState.HANDLED)
    assert ok(post(wu, url(other, "verify"), {"passed": True}))["state"] == "closed"


def test_transfer(street: TaskStreet) -> None:
    task = task_in(street, TaskState.DISPATCHED)
    zhou = bearer_client(street["zhou"])
    missing_note = envelope(post(zhou, url(task, "transfer"), {"area": street["g12"].code}), 422)
    assert missing_note["code"] == "validation_failed"
    done = ok(post(zhou, url(task, "transfer"), {"area": street["g12"].code, "note": "位置在隔壁"}))
    assert done["area"]["code"] == street["g12"].code
    assert done["assignee"]["username"] == "li"
    assert done["state"] == "dispatched"


def test_cancel(street: TaskStreet) -> None:
    closed = task_in(street, TaskState.CLOSED)
    wu = bearer_client(street["wu"])
    assert envelope(post(wu, url(closed, "cancel"), {"reason": "重复"}), 409)["code"] == (
        "state_conflict"
    )
    task = task_in(street, TaskState.ACCEPTED)
    assert ok(post(wu, url(task, "cancel"), {"reason": "重复"}))["state"] == "cancelled"


def test_suspend_and_resume(street: TaskStreet) -> None:
    task = task_in(street, TaskState.ACCEPTED)
    assert envelope(post(bearer_client(street["chen"]), url(task, "suspend"), {"reason": "x"}), 403)
    wu = bearer_client(street["wu"])
    assert envelope(post(wu, url(task, "resume")), 409)  # not suspended
    suspended = ok(post(wu, url(task, "suspend"), {"reason": "等待产权单位答复"}))
    assert suspended["suspended_at"] is not None
    assert suspended["state"] == "accepted"
    resumed = ok(post(wu, url(task, "resume"), {"note": "已答复"}))
    assert resumed["suspended_at"] is None


def test_extension_request_and_decision(street: TaskStreet) -> None:
    task = task_in(street, TaskState.ACCEPTED, deadline=dt.datetime(2099, 1, 5, tzinfo=dt.UTC))
    wu = bearer_client(street["wu"])
    assert envelope(post(wu, url(task, "extension-decision"), {"approve": True}), 409)
    chen = bearer_client(street["chen"])
    requested = ok(
        post(
            chen,
            url(task, "extension-request"),
            {"until": "2099-01-10T17:30:00+08:00", "reason": "需要协调物业"},
        )
    )
    assert requested["extension_status"] == "requested"
    approved = ok(post(wu, url(task, "extension-decision"), {"approve": True}))
    assert approved["extension_status"] == "approved"
    assert approved["deadline"].startswith("2099-01-10T09:30:00")  # stored in UTC


# --- races and repeats -------------------------------------------------------------------


def test_two_handlers_racing_to_accept_one_wins_and_the_other_gets_409(
    street: TaskStreet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both handlers of a department read the queued task; the first to save wins, the
    second's compare-and-set on the state finds it changed: 409, and one timeline row."""
    second = UserFactory(username="he2")
    MembershipFactory(
        user=second,
        area=street["street"],
        role=Role.DEPARTMENT_HANDLER,
        department=street.department,
    )
    task = make_task(
        area=street["g11"], task_type=street.types["enforcement"], department=street.department
    )
    read_before_the_first_commit = Task.objects.get(pk=task.pk)
    first = ok(post(bearer_client(street["he"]), url(task, "accept")))
    assert first["assignee"]["username"] == "he"
    # The second request works on what it read before the first one committed.
    monkeypatch.setattr(services, "_load", lambda _task: read_before_the_first_commit)
    lost = envelope(post(bearer_client(second), url(task, "accept")), 409)
    assert lost["code"] == "state_conflict"
    assert TaskEvent.objects.filter(task=task, action=TaskAction.ACCEPT).count() == 1
    assert Task.objects.get(pk=task.pk).assignee == street["he"]


def test_the_same_idempotency_key_twice_changes_nothing_the_second_time(
    street: TaskStreet,
) -> None:
    task = task_in(street, TaskState.DISPATCHED)
    chen = bearer_client(street["chen"])
    first = ok(post(chen, url(task, "accept"), HTTP_IDEMPOTENCY_KEY="tap-1"))
    again = ok(post(chen, url(task, "accept"), HTTP_IDEMPOTENCY_KEY="tap-1"))
    assert first["state"] == again["state"] == "accepted"
    assert len(again["events"]) == len(first["events"])
    assert TaskEvent.objects.filter(task=task, action=TaskAction.ACCEPT).count() == 1
    # Without the key, a repeat is a new request, and the state says no.
    assert envelope(post(chen, url(task, "accept")), 409)["code"] == "state_conflict"
    bad_key = envelope(post(chen, url(task, "accept"), HTTP_IDEMPOTENCY_KEY="空格 key"), 422)
    assert bad_key["details"][0]["loc"] == ["header", "Idempotency-Key"]
