"""A department handler's work on the web pages: their department's tasks on the home
list, accept, send back, extension and feedback through the task page; other
departments' and undispatched tasks stay out of sight (404)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from gridgov.people.choices import Role
from gridgov.people.tests.factories import DepartmentFactory, MembershipFactory, UserFactory
from gridgov.tasks.choices import TaskAction, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.services import task_create
from gridgov.tasks.tests.factories import TaskStreet, make_task
from gridgov.web.tests.conftest import MODEL_BACKEND, NOW


@pytest.fixture
def noise(street: TaskStreet) -> Task:
    """A resident-style problem in grid g11, dispatched by the grid leader to the
    department 综合行政执法队 (type ``enforcement`` routes there)."""
    task = task_create(
        actor=street["wu"],
        source="directive",
        task_type=street.types["enforcement"],
        area=street["g11"],
        title="夜间施工噪音",
        deadline=NOW + dt.timedelta(days=2),
    )
    assert task.state == TaskState.DISPATCHED
    assert task.department_id == street.department.pk  # type: ignore[union-attr]
    assert task.assignee_id is None
    return task


def test_the_home_lists_the_departments_tasks_by_light_then_due(
    login: Any, street: TaskStreet, noise: Task
) -> None:
    later = make_task(
        area=street["g12"],
        task_type=street.types["enforcement"],
        department=street.department,
        deadline=NOW + dt.timedelta(days=5),
        title="占道经营",
    )
    overdue = make_task(
        area=street["g21"],
        task_type=street.types["enforcement"],
        department=street.department,
        deadline=NOW - dt.timedelta(hours=1),
        title="违规广告牌",
    )
    page = login("he").get("/").content.decode()
    assert "请在管理后台办理" not in page
    assert "今日任务" in page
    # The top bar names the home as what it is for them.
    assert 'aria-current="page">今日任务</a>' in page
    positions = [page.index(t.title) for t in (overdue, noise, later)]
    assert positions == sorted(positions)
    assert page.index('id="group-red"') < page.index(overdue.title) < page.index('id="group-green"')


def test_a_department_handler_accepts_and_feeds_back_through_the_web(
    login: Any, street: TaskStreet, noise: Task
) -> None:
    client = login("he")
    page = client.get(f"/tasks/{noise.number}/").content.decode()
    assert f"/tasks/{noise.number}/accept/" in page
    assert f"/tasks/{noise.number}/send-back/" in page
    assert f"/tasks/{noise.number}/extension/" in page
    assert f"/tasks/{noise.number}/feedback/" not in page  # accept first

    response = client.post(f"/tasks/{noise.number}/accept/", {"idempotency_key": "k-accept"})
    assert response.status_code == 302
    noise.refresh_from_db()
    assert noise.state == TaskState.ACCEPTED
    assert noise.assignee == street["he"]

    page = client.get(f"/tasks/{noise.number}/").content.decode()
    assert f"/tasks/{noise.number}/feedback/" in page
    assert f"/tasks/{noise.number}/accept/" not in page
    response = client.post(
        f"/tasks/{noise.number}/feedback/",
        {"idempotency_key": "k-fb", "note": "已责令停工", "lon": "120.005", "lat": "30.005"},
    )
    assert response.status_code == 302
    noise.refresh_from_db()
    assert noise.state == TaskState.HANDLED
    event = TaskEvent.objects.get(task=noise, action=TaskAction.SUBMIT_FEEDBACK)
    assert event.actor == street["he"]
    # Handled: off the to-do list.
    assert noise.title not in client.get("/").content.decode()


def test_a_department_handler_sends_a_task_back(
    login: Any, street: TaskStreet, noise: Task
) -> None:
    response = login("he").post(
        f"/tasks/{noise.number}/send-back/",
        {"idempotency_key": "k-back", "reason": "不属于执法范围"},
    )
    assert response.status_code == 302
    noise.refresh_from_db()
    assert noise.state == TaskState.SENT_BACK
    assert noise.department_id is None


def test_a_colleagues_accepted_task_offers_no_actions(
    street: TaskStreet, noise: Task, login: Any
) -> None:
    colleague = UserFactory(username="he2")
    MembershipFactory(
        user=colleague,
        area=street["street"],
        role=Role.DEPARTMENT_HANDLER,
        department=street.department,
    )
    accepted = login("he").post(f"/tasks/{noise.number}/accept/", {"idempotency_key": "a"})
    assert accepted.status_code == 302
    client = Client()
    client.force_login(colleague, backend=MODEL_BACKEND)
    page = client.get(f"/tasks/{noise.number}/").content.decode()
    assert noise.title in page
    assert "/accept/" not in page
    assert "/feedback/" not in page
    assert noise.title not in client.get("/").content.decode()


def test_other_departments_and_undispatched_tasks_are_404(login: Any, street: TaskStreet) -> None:
    other = DepartmentFactory(code="housing", name="住建办", area=street["street"])
    theirs = make_task(
        area=street["g11"],
        task_type=street.types["enforcement"],
        department=other,
        title="别的部门的任务",
    )
    reported = make_task(
        area=street["g11"],
        task_type=street.types["enforcement"],
        state=TaskState.REPORTED,
        title="尚未派遣的任务",
    )
    client = login("he")
    for task in (theirs, reported):
        assert client.get(f"/tasks/{task.number}/").status_code == 404
        accept = client.post(f"/tasks/{task.number}/accept/", {"idempotency_key": "x"})
        assert accept.status_code == 404
        task.refresh_from_db()
        assert task.assignee_id is None
    page = client.get("/").content.decode()
    assert theirs.title not in page
    assert reported.title not in page


def test_a_grid_workers_list_still_leaves_out_department_tasks(
    login: Any, street: TaskStreet, noise: Task
) -> None:
    page = login("chen").get("/").content.decode()
    assert noise.title not in page
    assert "/accept/" not in login("chen").get(f"/tasks/{noise.number}/").content.decode()
