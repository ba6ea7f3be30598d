"""Fixtures of the figures' tests: the task street (tasks.tests.factories), English, a clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import factory.random
import pytest
import time_machine
from django.utils import translation

from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.models import Task
from gridgov.tasks.tests.factories import TaskStreet, make_task, make_task_street

CST = dt.timezone(dt.timedelta(hours=8))
#: The clock of these tests: Monday 2025-06-09 10:00 Asia/Shanghai, after the week measured.
NOW = dt.datetime(2025, 6, 9, 10, 0, tzinfo=CST)
#: The week measured: Monday 2025-06-02 to Sunday 2025-06-08 (the default "last 7 days").
START, END = dt.date(2025, 6, 2), dt.date(2025, 6, 8)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _seeded_fakes() -> None:
    factory.random.reseed_random("gridgov-analytics")


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def street(db: Any, clock: Any) -> TaskStreet:
    return make_task_street()


def june(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2025, 6, day, hour, tzinfo=CST)


def may(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2025, 5, day, hour, tzinfo=CST)


def task(street: TaskStreet, grid: str, *, created: dt.datetime, **fields: Any) -> Task:
    """A task in ``grid`` created at ``created`` (``created_at`` is set after the insert)."""
    t = make_task(area=street[grid], task_type=street.types["patrol"], **fields)
    Task.objects.filter(pk=t.pk).update(created_at=created)
    return t


@pytest.fixture
def week(street: TaskStreet) -> dict[str, Task]:
    """Seven tasks around the week 2025-06-02 – 06-08 (see each line)."""
    closed = TaskState.CLOSED
    return {
        # due, closed on time, reworked once
        "a": task(street, "g11", created=june(2), deadline=june(4), state=closed,
                  closed_at=june(3), rework_count=1),
        # due, closed late, extended once; a routine task
        "b": task(street, "g11", created=june(2, 11), deadline=june(5), state=closed,
                  closed_at=june(6), extension_count=1, source=TaskSource.ROUTINE),
        # due, still open and overdue now
        "c": task(street, "g12", created=june(3), deadline=june(5)),
        # suspended: not due, not overdue
        "d": task(street, "g12", created=june(3, 11), deadline=june(6), suspended_at=june(4)),
        # created before the week, cancelled: not issued, not due
        "e": task(street, "g11", created=may(30), deadline=june(3), state=TaskState.CANCELLED,
                  cancelled_at=june(1)),
        # created before the week, deadline after it: nothing
        "f": task(street, "g11", created=may(30), deadline=june(20)),
        # community c2: due, closed on time (at 23:30 local, still June 5th)
        "g": task(street, "g21", created=june(4), deadline=june(6, 18), state=closed,
                  closed_at=june(5, 23) + dt.timedelta(minutes=30)),
    }  # fmt: skip
