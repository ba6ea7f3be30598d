"""The manager's actions on one task (/manage/tasks/<number>/): each through the page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages

from gridgov.tasks.choices import ExtensionStatus, TaskAction, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.tests.factories import TaskStreet, make_task
from gridgov.web.forms import idempotency_key_new
from gridgov.web.tests.conftest import NOW


def act(client: Any, task: Task, action: str, **data: Any) -> Any:
    data.setdefault("idempotency_key", idempotency_key_new())
    return client.post(f"/manage/tasks/{task.number}/{action}/", data)


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def actions_of(task: Task) -> list[str]:
    return list(
        TaskEvent.objects.filter(task=task).order_by("at", "id").values_list("action", flat=True)
    )


@pytest.fixture
def reported(street: TaskStreet) -> Task:
    return make_task(area=street["g12"], task_type=street.types["patrol"], state=TaskState.REPORTED)


@pytest.mark.django_db
def test_the_page_offers_the_buttons_of_the_state(login: Any, reported: Task) -> None:
    page = login("lin").get(f"/manage/tasks/{reported.number}/").content.decode()
    assert f"/manage/tasks/{reported.number}/register/" in page
    assert f"/manage/tasks/{reported.number}/reject/" in page
    assert f"/manage/tasks/{reported.number}/pass/" not in page


@pytest.mark.django_db
def test_register_then_dispatch_automatically(
    login: Any, street: TaskStreet, reported: Task
) -> None:
    client = login("lin")
    response = act(client, reported, "register")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/tasks/{reported.number}/"
    reported.refresh_from_db()
    assert reported.state == TaskState.REGISTERED
    act(client, reported, "dispatch")
    reported.refresh_from_db()
    assert reported.state == TaskState.DISPATCHED
    assert reported.assignee == street["li"]  # the one worker of grid g12
    assert actions_of(reported) == [TaskAction.REGISTER, TaskAction.DISPATCH]


@pytest.mark.django_db
def test_dispatch_to_a_chosen_worker(login: Any, street: TaskStreet) -> None:
    task = make_task(
        area=street["g11"], task_type=street.types["patrol"], state=TaskState.REGISTERED
    )
    chen2 = street["chen2"]
    chen2.last_name, chen2.first_name = "陈", "二"
    chen2.save()
    page = login("lin").get(f"/manage/tasks/{task.number}/").content.decode()
    # The picker names people as people write them, with the user name to tell apart.
    assert f'<option value="{chen2.pk}">陈二 (chen2)</option>' in page
    act(login("lin"), task, "dispatch", assignee=street["chen2"].pk)
    task.refresh_from_db()
    assert (task.state, task.assignee) == (TaskState.DISPATCHED, street["chen2"])


@pytest.mark.django_db
def test_reject_needs_a_reason(login: Any, reported: Task) -> None:
    client = login("lin")
    response = act(client, reported, "reject", reason="")
    # The message names the field that is missing (原因 / Reason), not only the rule.
    assert any("不成功" in t and "原因：" in t for t in texts(response)), texts(response)
    reported.refresh_from_db()
    assert reported.state == TaskState.REPORTED
    act(client, reported, "reject", reason="不属于网格事项")
    reported.refresh_from_db()
    assert reported.state == TaskState.REJECTED


@pytest.mark.django_db
def test_a_service_error_becomes_a_message(login: Any, street: TaskStreet) -> None:
    closed = make_task(area=street["g11"], task_type=street.types["patrol"], state=TaskState.CLOSED)
    response = act(login("lin"), closed, "register")
    assert response.status_code == 302
    assert texts(response)  # the conflict, said in words
    closed.refresh_from_db()
    assert closed.state == TaskState.CLOSED


@pytest.mark.django_db
def test_transfer_to_another_grid(login: Any, street: TaskStreet) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    act(login("lin"), task, "transfer", area=street["g12"].code, reason="地址在另一网格")
    task.refresh_from_db()
    assert (task.area, task.assignee) == (street["g12"], street["li"])
    assert task.state == TaskState.DISPATCHED
    assert actions_of(task) == [TaskAction.TRANSFER]


@pytest.mark.django_db
def test_transfer_to_a_chosen_worker_of_the_other_grid(login: Any, street: TaskStreet) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    act(
        login("zhou"), task, "transfer", area=street["g21"].code, worker="zhao", reason="网格员休假"
    )
    task.refresh_from_db()
    assert (task.area, task.assignee) == (street["g21"], street["zhao"])
    event = TaskEvent.objects.get(task=task, action=TaskAction.TRANSFER)
    assert event.note == "网格员休假"


@pytest.mark.django_db
def test_suspend_resume_and_cancel(login: Any, street: TaskStreet) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    client = login("lin")
    act(client, task, "suspend", reason="等待业主回来")
    task.refresh_from_db()
    assert task.suspended_at is not None
    act(client, task, "resume")
    task.refresh_from_db()
    assert task.suspended_at is None
    act(client, task, "cancel", reason="重复上报")
    task.refresh_from_db()
    assert task.state == TaskState.CANCELLED
    assert actions_of(task) == [TaskAction.SUSPEND, TaskAction.RESUME, TaskAction.CANCEL]


@pytest.mark.django_db
def test_approve_an_extension(login: Any, street: TaskStreet) -> None:
    until = NOW + dt.timedelta(days=7)
    task = make_task(
        area=street["g11"],
        task_type=street.types["patrol"],
        assignee=street["chen"],
        state=TaskState.ACCEPTED,
        extension_status=ExtensionStatus.REQUESTED,
        extension_requested_until=until,
    )
    client = login("lin")
    assert (
        f"/manage/tasks/{task.number}/approve/"
        in client.get(f"/manage/tasks/{task.number}/").content.decode()
    )
    act(client, task, "approve")
    task.refresh_from_db()
    assert (task.extension_status, task.deadline) == (ExtensionStatus.APPROVED, until)


@pytest.mark.django_db
def test_another_communitys_task_is_a_404(login: Any, street: TaskStreet) -> None:
    task = make_task(area=street["g21"], task_type=street.types["patrol"], state=TaskState.REPORTED)
    client = login("lin")
    assert client.get(f"/manage/tasks/{task.number}/").status_code == 404
    assert act(client, task, "register").status_code == 404
    task.refresh_from_db()
    assert task.state == TaskState.REPORTED


@pytest.mark.django_db
def test_an_unknown_action_is_a_404(login: Any, reported: Task) -> None:
    assert act(login("lin"), reported, "explode").status_code == 404
