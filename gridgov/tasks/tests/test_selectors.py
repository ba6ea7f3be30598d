"""Scoped task lists, filters, one task, the timeline and the traffic light."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.tasks import services
from gridgov.tasks.choices import TaskSource, TaskState, TrafficLight
from gridgov.tasks.models import Task
from gridgov.tasks.selectors import (
    task_get_visible,
    task_light_annotate,
    task_list_visible_to,
    task_timeline,
    task_traffic_light,
    task_yellow_at,
)
from gridgov.tasks.tests.factories import TaskStreet, make_task

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2025, 6, 9, 10, 0, tzinfo=SH)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


# --- the traffic light ------------------------------------------------------------------------


def test_the_light_in_elapsed_time(street: TaskStreet) -> None:
    start = at(2025, 6, 9, 9, 0)
    task = make_task(
        area=street["g11"],
        task_type=street.types["patrol"],
        at=start,
        deadline=start + dt.timedelta(days=10),
    )
    services.task_deadline_set(task, task.deadline)  # natural time: 80% = 8 days
    assert task.yellow_at == start + dt.timedelta(days=8)
    day = dt.timedelta(days=1)
    second = dt.timedelta(seconds=1)
    assert task_traffic_light(task, now=start + 8 * day - second) == TrafficLight.GREEN
    assert task_traffic_light(task, now=start + 8 * day) == TrafficLight.YELLOW
    assert task_traffic_light(task, now=start + 10 * day) == TrafficLight.YELLOW
    assert task_traffic_light(task, now=start + 10 * day + second) == TrafficLight.RED


def test_the_light_counts_working_time_for_working_day_rules(street: TaskStreet) -> None:
    friday = at(2025, 6, 13, 9, 0)
    monday_end = at(2025, 6, 16, 17, 30)  # 1 working day after Friday
    # Working time Friday 09:00 → Monday 17:30 = 7 + 7.5 = 14.5 h; 80% = 11.6 h: Friday's
    # 7 h, then 4.6 h of Monday: 08:30–12:00 (3.5 h) and 1.1 h after 13:30 → 14:36.
    yellow = task_yellow_at(start=friday, deadline=monday_end, unit="work_day")
    assert yellow == at(2025, 6, 16, 14, 36)
    task = make_task(
        area=street["g11"],
        task_type=street.types["patrol"],
        rule=street.rules["patrol"],
        at=friday,
        deadline=monday_end,
        yellow_at=yellow,
    )
    # The weekend does not use the limit: still green on Sunday evening.
    assert task_traffic_light(task, now=at(2025, 6, 15, 20, 0)) == TrafficLight.GREEN
    assert task_traffic_light(task, now=at(2025, 6, 16, 14, 35)) == TrafficLight.GREEN
    assert task_traffic_light(task, now=at(2025, 6, 16, 14, 36)) == TrafficLight.YELLOW
    assert task_traffic_light(task, now=at(2025, 6, 16, 17, 31)) == TrafficLight.RED


def test_finished_suspended_and_undated_tasks(street: TaskStreet) -> None:
    start = at(2025, 6, 2, 9, 0)
    kwargs: dict[str, Any] = {
        "area": street["g11"],
        "task_type": street.types["patrol"],
        "at": start,
        "deadline": start + dt.timedelta(days=10),
        "yellow_at": start + dt.timedelta(days=8),
    }
    late = start + dt.timedelta(days=30)
    closed_late = make_task(state=TaskState.CLOSED, **{**kwargs, "at": start})
    Task.objects.filter(pk=closed_late.pk).update(closed_at=start + dt.timedelta(days=11))
    closed_late.refresh_from_db()
    closed_early = make_task(state=TaskState.CLOSED, **kwargs)
    Task.objects.filter(pk=closed_early.pk).update(closed_at=start + dt.timedelta(days=1))
    closed_early.refresh_from_db()
    suspended = make_task(suspended_at=start + dt.timedelta(days=9), **kwargs)
    undated = make_task(area=street["g11"], task_type=street.types["patrol"], at=start)
    Task.objects.filter(pk=undated.pk).update(deadline=None, yellow_at=None)
    undated.refresh_from_db()
    assert task_traffic_light(closed_late, now=late) == TrafficLight.RED
    assert task_traffic_light(closed_early, now=late) == TrafficLight.GREEN
    assert task_traffic_light(suspended, now=late) == TrafficLight.YELLOW
    assert task_traffic_light(undated, now=late) == TrafficLight.GREEN


def test_the_light_filter_and_annotation_agree_with_the_function(street: TaskStreet) -> None:
    start = at(2025, 6, 2, 9, 0)
    deadline = start + dt.timedelta(days=10)
    yellow = start + dt.timedelta(days=8)
    base: dict[str, Any] = {
        "area": street["g11"],
        "task_type": street.types["patrol"],
        "at": start,
        "deadline": deadline,
        "yellow_at": yellow,
    }
    for _ in range(2):
        make_task(**base)
    make_task(
        **{
            **base,
            "deadline": start + dt.timedelta(days=20),
            "yellow_at": start + dt.timedelta(days=16),
        }
    )
    make_task(
        **{
            **base,
            "deadline": start + dt.timedelta(days=5),
            "yellow_at": start + dt.timedelta(days=4),
        }
    )
    make_task(suspended_at=start + dt.timedelta(days=8, hours=1), **base)
    closed = make_task(state=TaskState.CLOSED, **base)
    Task.objects.filter(pk=closed.pk).update(closed_at=start + dt.timedelta(days=12))
    now = start + dt.timedelta(days=9)
    root = street["root"]
    expected = {t.pk: task_traffic_light(t, now=now) for t in Task.objects.all()}
    assert sorted(expected.values()) == sorted(
        ["yellow", "yellow", "green", "red", "yellow", "red"]
    )
    annotated = {t.pk: t.light for t in task_light_annotate(Task.objects.all(), now=now)}
    assert annotated == expected
    for light in TrafficLight.values:
        found = set(task_list_visible_to(root, light=light, now=now).values_list("pk", flat=True))
        assert found == {pk for pk, value in expected.items() if value == light}
    with pytest.raises(ValidationFailed, match="Unknown traffic light"):
        task_list_visible_to(root, light="blue")


# --- scope -------------------------------------------------------------------------------------


@pytest.fixture
def spread(street: TaskStreet) -> dict[str, Task]:
    """A task in each grid and micro-grid, one in the department's queue, and one in g21
    assigned to chen (transferred there)."""
    patrol = street.types["patrol"]
    tasks = {
        key: make_task(area=street[key], task_type=patrol, title=f"任务{key}")
        for key in ("g11", "m11", "g12", "g21", "g22")
    }
    tasks["dept"] = make_task(
        area=street["g22"],
        task_type=street.types["enforcement"],
        department=street.department,
        title="执法",
    )
    tasks["chen_elsewhere"] = make_task(
        area=street["g21"], task_type=patrol, assignee=street["chen"], title="转派"
    )
    return tasks


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("root", {"g11", "m11", "g12", "g21", "g22", "dept", "chen_elsewhere"}),
        ("zhou", {"g11", "m11", "g12", "g21", "g22", "dept", "chen_elsewhere"}),
        ("lin", {"g11", "m11", "g12"}),
        ("wu", {"g11", "m11", "g12"}),
        ("chen", {"g11", "m11", "chen_elsewhere"}),
        ("zhao", {"g21", "chen_elsewhere"}),
        ("pm", {"m11"}),
        ("he", {"dept"}),  # a department handler sees the department's tasks only
        ("nobody", set()),
    ],
)
def test_the_list_is_scoped(
    street: TaskStreet, spread: dict[str, Task], user: str, visible: set[str]
) -> None:
    by_pk = {task.pk: key for key, task in spread.items()}
    found = {by_pk[pk] for pk in task_list_visible_to(street[user]).values_list("pk", flat=True)}
    assert found == visible


def test_one_task_outside_the_scope_is_not_found(
    street: TaskStreet, spread: dict[str, Task]
) -> None:
    assert task_get_visible(street["chen"], spread["g11"].pk) == spread["g11"]
    with pytest.raises(NotFound):
        task_get_visible(street["chen"], spread["g12"].pk)
    with pytest.raises(NotFound):
        task_get_visible(street["chen"], 10**9)


def test_the_list_costs_two_queries_whatever_its_length(
    street: TaskStreet, spread: dict[str, Task]
) -> None:
    user = street["wu"]
    with CaptureQueriesContext(connection) as queries:
        rows = [
            (t.area.code, t.task_type.code, t.assignee, t.department)
            for t in task_list_visible_to(user)
        ]
    assert len(rows) == 3
    assert len(queries) == 2  # the memberships, then the tasks with their joins


# --- filters -----------------------------------------------------------------------------------


def test_the_filters(street: TaskStreet) -> None:
    patrol, leader = street.types["patrol"], street.types["leader"]
    a = make_task(area=street["g11"], task_type=patrol, assignee=street["chen"], is_overdue=True)
    b = make_task(
        area=street["m11"],
        task_type=leader,
        state=TaskState.ACCEPTED,
        assignee=street["chen2"],
        source=TaskSource.ROUTINE,
    )
    c = make_task(area=street["g12"], task_type=patrol, state=TaskState.CLOSED)
    Task.objects.filter(pk=c.pk).update(created_at=at(2025, 5, 1, 12, 0))
    Task.objects.filter(pk__in=[a.pk, b.pk]).update(created_at=at(2025, 6, 9, 23, 0))
    zhou = street["zhou"]

    def pks(**filters: Any) -> set[int]:
        return set(task_list_visible_to(zhou, **filters).values_list("pk", flat=True))

    assert pks(state=TaskState.DISPATCHED) == {a.pk}
    assert pks(state=[TaskState.ACCEPTED, TaskState.CLOSED]) == {b.pk, c.pk}
    assert pks(area=street["g11"]) == {a.pk, b.pk}  # the grid and its micro-grid
    assert pks(area=street["m11"]) == {b.pk}
    assert pks(assignee=street["chen"]) == {a.pk}
    assert pks(assignee=street["chen2"].pk) == {b.pk}
    assert pks(source=TaskSource.ROUTINE) == {b.pk}
    assert pks(task_type=leader) == {b.pk}
    assert pks(overdue=True) == {a.pk}
    assert pks(overdue=False) == {b.pk, c.pk}
    # Dates are local days; date_to is inclusive (23:00 on the 9th counts).
    assert pks(date_from=dt.date(2025, 6, 9), date_to=dt.date(2025, 6, 9)) == {a.pk, b.pk}
    assert pks(date_to=dt.date(2025, 5, 31)) == {c.pk}
    assert pks(date_from=at(2025, 6, 9, 22, 0)) == {a.pk, b.pk}
    with pytest.raises(ValidationFailed, match="Unknown state"):
        pks(state="lost")
    with pytest.raises(ValidationFailed, match="Unknown source"):
        pks(source="rumour")


def test_the_timeline_is_in_order(street: TaskStreet) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    services.task_accept(actor=street["chen"], task=task, now=NOW)
    services.task_suspend(
        actor=street["wu"], task=task, reason="等", now=NOW + dt.timedelta(hours=1)
    )
    services.task_resume(actor=street["wu"], task=task, now=NOW + dt.timedelta(hours=2))
    assert [e.action for e in task_timeline(task)] == ["accept", "suspend", "resume"]
