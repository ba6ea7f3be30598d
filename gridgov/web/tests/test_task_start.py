"""The task page of a task not yet started (a routine task of tomorrow) offers no 签收 and
says when it starts; a handed-in task offers no 申请延期. The services refuse a forged POST."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.messages import get_messages

from gridgov.tasks.choices import ExtensionStatus, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.tests.factories import TaskStreet, make_task
from gridgov.web.tests.conftest import NOW

#: Tomorrow 08:00 in Shanghai, stored in UTC.
TOMORROW = dt.datetime(2025, 6, 4, 0, 0, tzinfo=dt.UTC)


def _task(street: TaskStreet, state: str, at: dt.datetime) -> Task:
    return make_task(
        area=street["g11"],
        task_type=street.types["patrol"],
        state=state,
        assignee=street["chen"],
        at=at,
        deadline=NOW + dt.timedelta(days=3),
    )


def test_tomorrows_task_offers_no_accept_and_says_when_it_starts(
    login: Any, street: TaskStreet
) -> None:
    task = _task(street, TaskState.DISPATCHED, TOMORROW)
    client = login("chen")
    page = client.get(f"/tasks/{task.number}/").content.decode()
    assert f"/tasks/{task.number}/accept/" not in page
    assert f"/tasks/{task.number}/extension/" not in page
    assert "2025-06-04 08:00" in page
    assert "开始" in page
    response = client.post(f"/en/tasks/{task.number}/accept/", {"idempotency_key": "early"})
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == (
        f"Task {task.number} starts at 2025-06-04 08:00; it can be accepted from then on."
    )
    task.refresh_from_db()
    assert task.state == TaskState.DISPATCHED
    assert not TaskEvent.objects.filter(task=task).exists()


def test_todays_task_offers_accept_and_no_start_line(login: Any, street: TaskStreet) -> None:
    task = _task(street, TaskState.DISPATCHED, NOW - dt.timedelta(hours=1))
    page = login("chen").get(f"/tasks/{task.number}/").content.decode()
    assert f"/tasks/{task.number}/accept/" in page
    assert 'class="not-started"' not in page


def test_a_handed_in_task_offers_no_extension_and_refuses_one(
    login: Any, street: TaskStreet
) -> None:
    task = _task(street, TaskState.HANDLED, NOW - dt.timedelta(hours=2))
    client = login("chen")
    page = client.get(f"/tasks/{task.number}/").content.decode()
    assert f"/tasks/{task.number}/extension/" not in page
    response = client.post(
        f"/en/tasks/{task.number}/extension/",
        {"idempotency_key": "late", "until": "2025-06-12", "reason": "住户外出"},
    )
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith(f"Task {task.number} is Handled;")
    task.refresh_from_db()
    assert task.extension_status != ExtensionStatus.REQUESTED


def test_a_returned_task_still_offers_an_extension(login: Any, street: TaskStreet) -> None:
    task = _task(street, TaskState.RETURNED, NOW - dt.timedelta(hours=2))
    page = login("chen").get(f"/tasks/{task.number}/").content.decode()
    assert f"/tasks/{task.number}/extension/" in page
