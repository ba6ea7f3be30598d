"""The grid worker's today list: grouping by traffic light, scoping, query count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.models import Task
from gridgov.tasks.tests.factories import TaskStreet, make_task
from gridgov.web.tests.conftest import NOW

H = dt.timedelta(hours=1)


def _task(
    street: TaskStreet, user: str, *, deadline: dt.datetime, yellow_at: dt.datetime, **fields: Any
) -> Task:
    fields.setdefault("at", NOW - 48 * H)
    return make_task(
        area=street["g11"],
        task_type=street.types["patrol"],
        assignee=street[user],
        deadline=deadline,
        yellow_at=yellow_at,
        **fields,
    )


@pytest.fixture
def today(street: TaskStreet) -> dict[str, Task]:
    """Chen's tasks at NOW: two red, one yellow, two green, and some she must not see."""
    t = {
        "red_late": _task(street, "chen", deadline=NOW - 1 * H, yellow_at=NOW - 5 * H),
        "red_early": _task(street, "chen", deadline=NOW - 20 * H, yellow_at=NOW - 30 * H),
        "yellow": _task(
            street, "chen", deadline=NOW + 2 * H, yellow_at=NOW - 1 * H, state=TaskState.ACCEPTED
        ),
        "green_late": _task(street, "chen", deadline=NOW + 72 * H, yellow_at=NOW + 50 * H),
        "green_early": _task(
            street, "chen", deadline=NOW + 30 * H, yellow_at=NOW + 20 * H, state=TaskState.RETURNED
        ),
        # Not on the list: generated ahead, waiting for the check, another worker's,
        # another grid's, finished.
        "ahead": _task(
            street,
            "chen",
            deadline=NOW + 100 * H,
            yellow_at=NOW + 90 * H,
            at=NOW + 24 * H,
            source=TaskSource.ROUTINE,
        ),
        "handled": _task(
            street, "chen", deadline=NOW + 5 * H, yellow_at=NOW + 1 * H, state=TaskState.HANDLED
        ),
        "chen2": _task(street, "chen2", deadline=NOW + 5 * H, yellow_at=NOW + 1 * H),
        "closed": _task(
            street, "chen", deadline=NOW - 5 * H, yellow_at=NOW - 9 * H, state=TaskState.CLOSED
        ),
    }
    t["other_grid"] = make_task(
        area=street["g12"],
        task_type=street.types["patrol"],
        assignee=street["li"],
        deadline=NOW - H,
        yellow_at=NOW - 2 * H,
    )
    return t


def test_it_groups_todays_tasks_red_yellow_green_then_by_deadline(
    login: Any, today: dict[str, Task]
) -> None:
    response = login("chen").get("/")
    assert response.status_code == 200
    groups = {g.light: [t.number for t in g.tasks] for g in response.context["groups"]}
    assert [g.light for g in response.context["groups"]] == ["red", "yellow", "green"]
    assert groups == {
        "red": [today["red_early"].number, today["red_late"].number],
        "yellow": [today["yellow"].number],
        "green": [today["green_early"].number, today["green_late"].number],
    }
    page = response.content.decode()
    assert 'data-count="2"' in page
    assert 'data-count="1"' in page
    for hidden in ("ahead", "handled", "chen2", "closed", "other_grid"):
        assert today[hidden].number not in page
    # Overdue rows say so; the list is in Chinese by default.
    assert "今日任务" in page
    assert "已超期" in page


def test_it_shows_the_masked_address_of_a_household_target(login: Any, street: TaskStreet) -> None:
    _task(
        street,
        "chen",
        deadline=NOW + 30 * H,
        yellow_at=NOW + 20 * H,
        target_household=street.households["home"],
    )
    page = login("chen").get("/").content.decode()
    assert "古荡新村1幢1单元***" in page
    assert "101室" not in page


def test_it_lists_todays_tasks_in_a_fixed_number_of_queries(login: Any, street: TaskStreet) -> None:
    client = login("chen")
    _task(street, "chen", deadline=NOW + 30 * H, yellow_at=NOW + 20 * H)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/").status_code == 200
    for n in range(12):
        _task(
            street,
            "chen",
            deadline=NOW + (n - 4) * H,
            yellow_at=NOW + (n - 6) * H,
            target_household=street.households["home"] if n % 2 else None,
            target_place=street.places["shop"] if n % 3 == 0 else None,
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get("/")
    assert response.context["total"] == 13
    assert len(many) == len(one)
    # Session, user, memberships, the list, the unread count — pinned.
    assert len(many) == 5, [q["sql"] for q in many.captured_queries]


def test_it_shows_an_empty_day(login: Any, street: TaskStreet) -> None:
    page = login("chen").get("/").content.decode()
    assert "现在没有待办任务" in page


def test_it_speaks_english_under_en(login: Any, today: dict[str, Task]) -> None:
    page = login("chen").get("/en/").content.decode()
    assert "Today&#x27;s tasks" in page or "Today's tasks" in page
    assert "overdue by" in page
    assert '<html lang="en">' in page


def test_it_sends_other_roles_to_a_home_with_the_administration(
    login: Any, street: TaskStreet
) -> None:
    page = login("zhou").get("/").content.decode()
    assert "/admin/" in page
    assert "上报问题" not in page
