"""task_create and task_numbers_allocate."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from gridgov.catalog.choices import Priority
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.notifications.models import Notification
from gridgov.tasks.choices import TaskAction, TaskSource, TaskState
from gridgov.tasks.models import Directive, Task, TaskNumberCounter
from gridgov.tasks.services import task_create, task_numbers_allocate
from gridgov.tasks.tests.factories import HOME_LONLAT, TaskStreet

SH = ZoneInfo("Asia/Shanghai")
#: Monday 2025-06-09 09:00, an ordinary working day.
MONDAY = dt.datetime(2025, 6, 9, 9, 0, tzinfo=SH)


def actions(task: Task) -> list[str]:
    return list(task.events.order_by("at", "id").values_list("action", flat=True))


# --- task_create ---------------------------------------------------------------------------


def test_a_worker_report_is_located_numbered_and_starts_reported(
    street: TaskStreet, settings: Any
) -> None:
    # The policy that registers a worker's report at once is tested in
    # gridgov/web/tests/test_manage_policy.py; here the report waits for a dispatcher.
    settings.GRIDGOV_WORKER_REPORT_AUTO_REGISTER = False
    task = task_create(
        actor=street["chen"],
        source=TaskSource.WORKER_REPORT,
        task_type=street.types["patrol"],
        lon=120.001,
        lat=30.001,
        title="楼道堆物",
        reporter=street["chen"],
        now=MONDAY,
    )
    assert task.area == street["m11"]  # the deepest area found, the micro-grid
    assert task.state == TaskState.REPORTED
    assert task.number == "20250609-000001"
    assert task.reported_at == MONDAY
    assert task.assignee is None
    # The type's event-driven rule applies (its time limit counts from dispatch).
    assert task.rule == street.rules["quick"]
    assert task.deadline is None
    assert actions(task) == [TaskAction.CREATE]
    event = task.events.get()
    assert (event.actor, event.to_state, event.lon, event.lat) == (
        street["chen"],
        TaskState.REPORTED,
        120.001,
        30.001,
    )


def test_a_routine_task_starts_dispatched_routed_with_its_deadline(street: TaskStreet) -> None:
    task = task_create(
        actor=None,
        source=TaskSource.ROUTINE,
        task_type=street.types["patrol"],
        rule=street.rules["visit"],
        target_household=street.households["home"],
        title="走访",
        source_key="routine:test:home:1",
        now=MONDAY,
    )
    assert task.state == TaskState.DISPATCHED
    assert task.area == street["m11"]
    assert (task.lon, task.lat) == HOME_LONLAT
    assert task.assignee_id == min(street["chen"].pk, street["chen2"].pk)
    assert task.priority == Priority.HIGH  # the rule's
    # 2 working days: the end of Wednesday's working hours.
    assert task.deadline == dt.datetime(2025, 6, 11, 17, 30, tzinfo=SH)
    assert task.deadline_original == task.deadline
    assert task.dispatched_at == MONDAY
    # Working time Monday 09:00 → Wednesday 17:30 is 7 + 7.5 + 7.5 = 22 h; 80% is 17.6 h:
    # Monday's 7 h, Tuesday's 7.5 h, then 3.1 h of Wednesday from 08:30 → 11:36.
    assert task.yellow_at == dt.datetime(2025, 6, 11, 11, 36, tzinfo=SH)
    assert actions(task) == [TaskAction.CREATE, TaskAction.DISPATCH]
    assert Notification.objects.filter(
        recipient_id=task.assignee_id, kind="task_dispatched", task=task
    ).exists()


def test_a_department_type_lands_in_the_department_queue(street: TaskStreet) -> None:
    task = task_create(
        actor=street["zhou"],
        source=TaskSource.DIRECTIVE,
        task_type=street.types["enforcement"],
        area=street["g12"],
        title="占道经营整治",
        deadline=MONDAY + dt.timedelta(days=2),
        now=MONDAY,
    )
    assert (task.assignee, task.department) == (None, street.department)
    assert task.deadline == MONDAY + dt.timedelta(days=2)
    # The department's handler is told.
    assert Notification.objects.filter(recipient=street["he"], task=task).exists()


def test_a_directive_task_takes_the_directives_deadline_and_priority(street: TaskStreet) -> None:
    directive = Directive.objects.create(
        title="防汛检查",
        instruction="检查各网格低洼处。",
        task_type=street.types["patrol"],
        deadline=MONDAY + dt.timedelta(days=3),
        priority=Priority.URGENT,
    )
    task = task_create(
        actor=street["zhou"],
        source=TaskSource.DIRECTIVE,
        task_type=street.types["patrol"],
        directive=directive,
        area=street["g21"],
        title=directive.title,
        now=MONDAY,
    )
    assert (task.deadline, task.priority) == (directive.deadline, Priority.URGENT)
    assert task.assignee == street["zhao"]
    assert task.rule is None


def test_a_source_key_makes_creation_idempotent(street: TaskStreet) -> None:
    kwargs = {
        "actor": None,
        "source": TaskSource.ROUTINE,
        "task_type": street.types["patrol"],
        "rule": street.rules["patrol"],
        "area": street["g11"],
        "title": "网格巡查",
        "source_key": "routine:patrol:g11:2025-06-09",
        "now": MONDAY,
    }
    first = task_create(**kwargs)
    second = task_create(**kwargs)
    assert first.pk == second.pk
    assert Task.objects.count() == 1
    assert first.events.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lon": 121.5, "lat": 31.2}, "lies in no area"),
        ({}, "Give an area, a location"),
        ({"lon": 120.001}, "both longitude and latitude"),
        ({"lon": 200.0, "lat": 30.0}, "not a WGS84"),
        ({"area_key": "g11", "title": "  "}, "title is required"),
        ({"area_key": "g11", "source": "rumour"}, "Unknown source"),
        ({"area_key": "g11", "priority": "whenever"}, "Unknown priority"),
        ({"area_key": "g11", "rule_key": "other"}, "belongs to another task type"),
    ],
)
def test_task_create_refuses_bad_input(
    street: TaskStreet, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {
        "actor": street["chen"],
        "source": TaskSource.WORKER_REPORT,
        "task_type": street.types["patrol"],
        "title": "问题",
        "now": MONDAY,
    }
    if "area_key" in kwargs:
        args["area"] = street[str(kwargs.pop("area_key"))]
    if kwargs.pop("rule_key", None):
        from gridgov.catalog.tests.factories import TaskRuleFactory

        args["rule"] = TaskRuleFactory()
    args.update(kwargs)
    with pytest.raises(ValidationFailed, match=message):
        task_create(**args)  # type: ignore[arg-type]
    assert Task.objects.count() == 0


@pytest.mark.parametrize(
    ("user", "source", "area_key"),
    [
        ("nobody", TaskSource.WORKER_REPORT, "g11"),  # no role at all
        ("chen", TaskSource.WORKER_REPORT, "g21"),  # a worker outside their grid
        ("chen", TaskSource.DIRECTIVE, "g11"),  # a worker may report, not direct
        ("pm", TaskSource.ROUTINE, "m11"),
        ("lin", TaskSource.DIRECTIVE, "g21"),  # a community admin of another community
    ],
)
def test_task_create_refuses_actors_without_the_role_or_area(
    street: TaskStreet, user: str, source: str, area_key: str
) -> None:
    with pytest.raises(PermissionDenied):
        task_create(
            actor=street[user],
            source=source,
            task_type=street.types["patrol"],
            area=street[area_key],
            title="问题",
            now=MONDAY,
        )
    assert Task.objects.count() == 0


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_numbers_come_in_consecutive_blocks_per_day() -> None:
    day = dt.date(2025, 6, 9)
    assert task_numbers_allocate(day=day, count=3) == [
        "20250609-000001",
        "20250609-000002",
        "20250609-000003",
    ]
    assert task_numbers_allocate(day=day, count=2) == ["20250609-000004", "20250609-000005"]
    assert task_numbers_allocate(day=dt.date(2025, 6, 10), count=1) == ["20250610-000001"]
    assert TaskNumberCounter.objects.get(day=day).last == 5


@pytest.mark.django_db
def test_numbers_widen_past_a_million() -> None:
    day = dt.date(2025, 6, 9)
    TaskNumberCounter.objects.create(day=day, last=999_999)
    assert task_numbers_allocate(day=day, count=2) == ["20250609-1000000", "20250609-1000001"]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [0, -1, True, 1.5])
def test_numbers_refuse_a_bad_count(count: object) -> None:
    with pytest.raises(ValidationFailed):
        task_numbers_allocate(day=dt.date(2025, 6, 9), count=count)  # type: ignore[arg-type]


def test_concurrent_allocations_get_disjoint_blocks(concurrent_db: Callable[[], None]) -> None:
    """Eight threads, each with its own connection, allocate blocks of the same day."""
    day = dt.date(2025, 6, 9)
    results: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        concurrent_db()
        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                results.append(task_numbers_allocate(day=day, count=10))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    numbers = [n for block in results for n in block]
    assert len(numbers) == 400
    assert sorted(numbers) == [f"20250609-{n:06d}" for n in range(1, 401)]
    assert TaskNumberCounter.objects.get(day=day).last == 400
    assert len(results) == 40
