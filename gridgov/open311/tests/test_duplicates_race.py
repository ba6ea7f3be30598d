"""Two residents report the same problem at the same moment, each on its own connection:
exactly one report is first, the other is linked to it (the task type's row lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from gridgov.open311.services import service_request_create
from gridgov.open311.tests.conftest import IN_G11, make_world
from gridgov.tasks.models import Task
from gridgov.tasks.tests.conftest import concurrent_db  # noqa: F401 - the fixture


def test_two_reports_at_once_make_one_first(concurrent_db: Callable[[], None]) -> None:  # noqa: F811
    world = make_world()
    lon, lat = IN_G11
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def report(phone: str) -> None:
        concurrent_db()
        try:
            barrier.wait(timeout=10)
            created = service_request_create(
                service_code=world.service.code,
                lon=lon,
                lat=lat,
                description="Street light out",
                attributes={"where_exactly": ["gate"], "danger": ["no"]},
                phone=phone,
            )
            outcomes.append(created.task.number)
        except BaseException as exc:  # pragma: no cover - shown by the assertion
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=report, args=(phone,)) for phone in ("13800000001", "13800000002")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2
    assert all(o[:1].isdigit() for o in outcomes), outcomes
    tasks = list(Task.objects.filter(number__in=outcomes))
    firsts = [t for t in tasks if t.duplicate_of_id is None]
    assert len(firsts) == 1
    assert [t.duplicate_of_id for t in tasks if t.duplicate_of_id] == [firsts[0].pk]
