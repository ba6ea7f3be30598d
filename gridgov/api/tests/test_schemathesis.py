"""Property-based tests of the whole OpenAPI document with schemathesis.

Every operation of ``/api/v1/openapi.json`` gets generated requests (bounded, and
derandomised so that the suite is repeatable) as the demo street's command-centre user;
every response must not be a server error and must conform to the document: a declared
status (errors as the ``4XX`` envelope), content type and schema. Operations with a task
number in the path also get requests aimed at real tasks, so that the transitions run
their services and not only the 404 path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from shapely.geometry import shape

from gridgov.api.services import api_token_create
from gridgov.areas.models import Area, AreaLevel
from gridgov.catalog.models import TaskType
from gridgov.demo.seed import seed_demo
from gridgov.people.choices import Role
from gridgov.tasks.choices import TaskSource
from gridgov.tasks.services import task_create

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Generated requests per operation, and per real task for operations on one task.
EXAMPLES = 8
EXAMPLES_PER_TASK = 5


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The project's WSGI application, callable inside the test's transaction.

    Django closes "obsolete" connections at the start and end of each request; inside the
    test's atomic block that would close the test's own connection, so (as Django's test
    client does) the handlers are disconnected for the test.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _seeded_tasks() -> list[str]:
    """Make two tasks in the demo street's first grid: a worker's report (``reported``)
    and a routine task (``dispatched``); return their numbers."""
    grid = Area.objects.filter(level=AreaLevel.GRID).order_by("code").first()
    assert grid is not None
    assert grid.boundary is not None
    lon, lat = shape(grid.boundary).representative_point().coords[0]
    task_type = TaskType.objects.filter(handler_role=Role.GRID_WORKER).order_by("code").first()
    assert task_type is not None
    report = task_create(
        actor=None,
        source=TaskSource.WORKER_REPORT,
        task_type=task_type,
        lon=lon,
        lat=lat,
        title="路灯不亮",
    )
    routine = task_create(
        actor=None, source=TaskSource.ROUTINE, task_type=task_type, area=grid, title="日常巡查"
    )
    return [report.number, routine.number]


def _run(strategy: Any, examples: int, call: Any) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        call(case)

    run()


@pytest.mark.django_db
def test_the_whole_api_conforms_and_never_errors(wsgi_app: Any) -> None:
    seed_demo(scale="small")
    zhou = get_user_model().objects.get(username="zhou")  # the command centre
    _token, raw = api_token_create(user=zhou, name="schemathesis")
    headers = {"Authorization": f"Bearer {raw}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    failures: list[str] = []
    statuses: dict[str, Counter[int]] = {}
    for operation in operations:
        seen = statuses.setdefault(operation.label, Counter())

        def call(case: Any, seen: Counter[int] = seen) -> None:
            seen[case.call_and_validate(headers=headers, checks=CHECKS).status_code] += 1

        runs = [(operation.as_strategy(), EXAMPLES)]
        if "{number}" in operation.path:
            # Fresh tasks for each operation, so that every transition meets open tasks.
            runs += [
                (operation.as_strategy(path_parameters={"number": number}), EXAMPLES_PER_TASK)
                for number in _seeded_tasks()
            ]
        for strategy, examples in runs:
            try:
                _run(strategy, examples, call)
            except Exception as exc:  # collect every operation's failure
                failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    # The run reached the operations, not only the door: lists answered, and the real
    # tasks were found (200) and refused for their state or role (409/403).
    assert statuses["GET /api/v1/areas"][200] > 0
    assert statuses["GET /api/v1/tasks/{number}"][200] > 0
    transitions = sum((c for label, c in statuses.items() if label.startswith("POST")), Counter())
    assert transitions[200] > 0
    assert transitions[409] > 0
