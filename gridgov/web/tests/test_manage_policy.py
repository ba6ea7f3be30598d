"""Engine policies the manager pages rely on: a grid worker's report is registered and
dispatched at once (``GRIDGOV_WORKER_REPORT_AUTO_REGISTER``), and the verifiers of a
task's area are notified when its feedback comes in."""

from __future__ import annotations

from typing import Any

import pytest

from gridgov.notifications.models import Notification
from gridgov.tasks.choices import TaskAction, TaskSource, TaskState
from gridgov.tasks.models import Task
from gridgov.tasks.services import task_accept, task_create, task_submit_feedback
from gridgov.tasks.tests.factories import TaskStreet
from gridgov.web.tests.conftest import NOW


def report(street: TaskStreet, worker: str = "chen", lon: float = 120.007) -> Task:
    return task_create(
        actor=street[worker],
        source=TaskSource.WORKER_REPORT,
        task_type=street.types["patrol"],
        lon=lon,
        lat=30.007,
        title="楼道堆物",
        reporter=street[worker],
    )


def timeline(task: Task) -> list[tuple[str, str | None]]:
    return [
        (e.action, e.actor.username if e.actor else None)
        for e in task.events.select_related("actor").order_by("at", "id")
    ]


@pytest.mark.django_db
def test_a_workers_report_is_registered_and_dispatched_at_once_by_default(
    street: TaskStreet,
) -> None:
    task = report(street)
    task.refresh_from_db()
    assert task.state == TaskState.DISPATCHED
    assert task.assignee in (street["chen"], street["chen2"])  # routed in grid g11
    assert (task.reported_at, task.registered_at, task.dispatched_at) == (NOW, NOW, NOW)
    assert task.deadline is not None  # the "quick" rule's 4 working hours from now
    assert timeline(task) == [
        (TaskAction.CREATE, "chen"),
        (TaskAction.REGISTER, None),
        (TaskAction.DISPATCH, None),
    ]
    register = task.events.get(action=TaskAction.REGISTER)
    assert (register.from_state, register.to_state) == (TaskState.REPORTED, TaskState.REGISTERED)
    assert register.data == {"policy": "GRIDGOV_WORKER_REPORT_AUTO_REGISTER"}
    assert Notification.objects.filter(recipient=task.assignee, kind="task_dispatched").exists()


@pytest.mark.django_db
def test_with_the_policy_off_the_report_waits_for_a_dispatcher(
    street: TaskStreet, settings: Any
) -> None:
    settings.GRIDGOV_WORKER_REPORT_AUTO_REGISTER = False
    task = report(street)
    task.refresh_from_db()
    assert task.state == TaskState.REPORTED
    assert task.assignee is None
    assert timeline(task) == [(TaskAction.CREATE, "chen")]


@pytest.mark.django_db
def test_a_residents_report_is_never_auto_registered(street: TaskStreet) -> None:
    task = task_create(
        actor=None,
        source=TaskSource.RESIDENT_REPORT,
        task_type=street.types["patrol"],
        lon=120.007,
        lat=30.007,
        title="路灯不亮",
    )
    task.refresh_from_db()
    assert task.state == TaskState.REPORTED


@pytest.mark.django_db
def test_the_report_page_follows_the_policy(login: Any, street: TaskStreet, settings: Any) -> None:
    form = {
        "task_type": str(street.types["patrol"].pk),
        "title": "井盖缺失",
        "lon": "120.007",
        "lat": "30.007",
    }
    client = login("chen")
    assert client.post("/report/", {**form, "idempotency_key": "p-on"}).status_code == 302
    settings.GRIDGOV_WORKER_REPORT_AUTO_REGISTER = False
    assert client.post("/report/", {**form, "idempotency_key": "p-off"}).status_code == 302
    states = sorted(Task.objects.values_list("state", flat=True))
    assert states == [TaskState.DISPATCHED, TaskState.REPORTED]


def _handle(street: TaskStreet, task: Task) -> Task:
    task = task_accept(actor=task.assignee, task=task)
    return task_submit_feedback(
        actor=task.assignee, task=task, note="已清理", lon=None, lat=None, answers={}, photos=[]
    )


@pytest.mark.django_db
def test_the_verifiers_of_the_area_are_notified_of_the_feedback(street: TaskStreet) -> None:
    task = _handle(street, report(street))
    assert task.state == TaskState.HANDLED
    handled = Notification.objects.filter(kind="task_handled", task=task)
    # Community c1's grid leader wu and community admin lin; not the street's command centre.
    assert sorted(n.recipient.username for n in handled) == ["lin", "wu"]
    assert task.number in handled.first().title  # type: ignore[union-attr]


@pytest.mark.django_db
def test_without_verifiers_below_the_command_centre_is_notified(street: TaskStreet) -> None:
    task = _handle(street, report(street, worker="zhao", lon=120.027))  # grid g21, c2
    handled = Notification.objects.filter(kind="task_handled", task=task)
    assert [n.recipient.username for n in handled] == ["zhou"]
