"""The manager's task list (/manage/tasks/): scoping, filters, pagination, queries, access."""

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

URL = "/manage/tasks/"


def numbers(response: Any) -> list[str]:
    return [task.number for task in response.context["page"]]


@pytest.fixture
def tasks(street: TaskStreet) -> dict[str, Any]:
    patrol = street.types["patrol"]
    made = {
        "g11": make_task(
            area=street["g11"],
            task_type=patrol,
            assignee=street["chen"],
            title="井盖缺失",
            deadline=NOW + dt.timedelta(days=2),
        ),
        "g12_overdue": make_task(
            area=street["g12"],
            task_type=patrol,
            state=TaskState.ACCEPTED,
            assignee=street["li"],
            deadline=NOW - dt.timedelta(hours=5),
            is_overdue=True,
            source=TaskSource.DIRECTIVE,
        ),
        "g12_reported": make_task(
            area=street["g12"],
            task_type=street.types["enforcement"],
            state=TaskState.REPORTED,
            deadline=NOW + dt.timedelta(days=1),
            at=NOW - dt.timedelta(days=10),
        ),
        "g21": make_task(area=street["g21"], task_type=patrol, assignee=street["zhao"]),
    }
    # ``created_at`` is set on insert: move the old report back to its day.
    Task.objects.filter(pk=made["g12_reported"].pk).update(created_at=NOW - dt.timedelta(days=10))
    return made


@pytest.mark.django_db
def test_a_community_admin_sees_only_her_communitys_tasks_by_deadline(
    login: Any, tasks: dict[str, Any]
) -> None:
    response = login("lin").get(URL)
    assert response.status_code == 200
    expected = [tasks[k].number for k in ("g12_overdue", "g12_reported", "g11")]
    assert numbers(response) == expected
    assert tasks["g21"].number not in response.content.decode()


@pytest.mark.django_db
def test_the_command_centre_sees_the_whole_street(login: Any, tasks: dict[str, Any]) -> None:
    response = login("zhou").get(URL)
    assert set(numbers(response)) == {t.number for t in tasks.values()}


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ({"state": "reported"}, ["g12_reported"]),
        ({"source": "directive"}, ["g12_overdue"]),
        ({"overdue": "yes"}, ["g12_overdue"]),
        ({"overdue": "no"}, ["g12_reported", "g11"]),
        ({"light": "red"}, ["g12_overdue"]),
        ({"q": "井盖"}, ["g11"]),
        ({"created_to": "2025-05-30"}, ["g12_reported"]),
        ({"deadline_from": "2025-06-04", "deadline_to": "2025-06-05"}, ["g12_reported", "g11"]),
    ],
)
@pytest.mark.django_db
def test_the_filters_narrow_the_list(
    login: Any, tasks: dict[str, Any], query: dict[str, str], keys: list[str]
) -> None:
    response = login("lin").get(URL, query)
    assert numbers(response) == [tasks[k].number for k in keys]


@pytest.mark.django_db
def test_area_and_task_type_filters(login: Any, street: TaskStreet, tasks: dict[str, Any]) -> None:
    client = login("lin")
    by_area = client.get(URL, {"area": street["g11"].code})
    assert numbers(by_area) == [tasks["g11"].number]
    by_type = client.get(URL, {"task_type": street.types["enforcement"].pk})
    assert numbers(by_type) == [tasks["g12_reported"].number]


@pytest.mark.django_db
def test_an_area_outside_her_scope_is_a_form_error_not_a_leak(
    login: Any, street: TaskStreet, tasks: dict[str, Any]
) -> None:
    response = login("lin").get(URL, {"area": street["g21"].code})
    assert response.status_code == 200
    assert numbers(response) == []
    assert response.context["form"].errors["area"]


@pytest.mark.django_db
def test_the_list_pages_by_fifty(login: Any, street: TaskStreet) -> None:
    for i in range(55):
        make_task(
            area=street["g11"],
            task_type=street.types["patrol"],
            deadline=NOW + dt.timedelta(hours=i + 1),
        )
    client = login("lin")
    first = client.get(URL, {"state": "dispatched"})
    assert len(numbers(first)) == 50
    assert "page=2" in first.content.decode()
    second = client.get(URL, {"state": "dispatched", "page": 2})
    assert len(numbers(second)) == 5


def _queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_list_query_count_does_not_grow_with_rows(login: Any, street: TaskStreet) -> None:
    client = login("lin")
    for _ in range(3):
        make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    few = _queries(client)
    for _ in range(30):
        make_task(area=street["g12"], task_type=street.types["patrol"], assignee=street["li"])
    assert _queries(client) == few
    assert few == QUERIES_PINNED


#: Session, user, memberships, unread count, verify badge, alarms badge (iot), row count,
#: the page, task types.
QUERIES_PINNED = 9


@pytest.mark.parametrize("url", [URL, "/manage/verify/", "/manage/tasks/export.csv"])
@pytest.mark.django_db
def test_a_grid_worker_is_refused(login: Any, url: str) -> None:
    assert login("chen").get(url).status_code == 403


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_login(client: Any, street: TaskStreet) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.django_db
def test_managers_get_the_navigation(login: Any, tasks: dict[str, Any]) -> None:
    make_task(
        area=tasks["g11"].area,
        task_type=tasks["g11"].task_type,
        state=TaskState.HANDLED,
        assignee=tasks["g11"].assignee,
    )
    page = login("lin").get("/").content.decode()
    assert 'href="/manage/tasks/"' in page
    assert 'href="/manage/verify/"' in page
    assert 'class="badge verify-count"' in page
    worker_page = login("chen").get("/").content.decode()
    assert "/manage/" not in worker_page


@pytest.mark.django_db
def test_the_managers_home_counts_what_waits_and_links_to_exactly_it(
    login: Any, street: TaskStreet
) -> None:
    patrol = street.types["patrol"]

    def task(area: str, state: str, **fields: Any) -> Task:
        return make_task(area=street[area], task_type=patrol, state=state, **fields)

    task("g11", TaskState.REPORTED)
    task("g12", TaskState.REPORTED)
    task("g11", TaskState.REGISTERED)
    task("g11", TaskState.SENT_BACK)
    task("g11", TaskState.HANDLED, assignee=street["chen"])
    task("g11", TaskState.ACCEPTED, assignee=street["chen"], deadline=NOW - dt.timedelta(hours=2))
    task("g21", TaskState.REPORTED)  # community c2: not lin's
    client = login("lin")
    response = client.get("/")
    attention = {item.key: item for item in response.context["attention"]}
    assert {key: item.count for key, item in attention.items()} == {
        "to_register": 2,
        "to_dispatch": 1,
        "sent_back": 1,
        "to_verify": 1,
        "overdue_now": 1,
    }
    for key, item in attention.items():
        listed = client.get(item.url)
        assert listed.status_code == 200, item.url
        rows = listed.context["tasks"] if key == "to_verify" else listed.context["page"]
        count = len(rows) if key == "to_verify" else rows.paginator.count
        assert count == item.count, key
    assert 'href="/iot/alarms/"' in response.content.decode()
    # A grid worker's home is the today list, without these figures.
    assert "attention" not in login("chen").get("/").context
