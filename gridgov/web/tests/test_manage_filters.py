"""The task list's filters behind the dashboard's figures: each figure's link lists exactly
the tasks ``analytics.selectors.task_figures`` counted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gridgov.analytics.selectors import task_figures
from gridgov.catalog.tests.factories import CategoryFactory, TaskTypeFactory
from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.models import Task
from gridgov.tasks.tests.factories import TaskStreet, make_task
from gridgov.web.forms_manage import FIGURE_FILTERS, figure_list_params
from gridgov.web.tests.conftest import NOW

URL = "/manage/tasks/"
START, END = dt.date(2025, 5, 27), dt.date(2025, 6, 2)
IN_PERIOD = dt.datetime(2025, 5, 30, 9, 0, tzinfo=NOW.tzinfo)


def numbers(response: Any) -> set[str]:
    assert response.status_code == 200
    assert not response.context["form"].errors, response.context["form"].errors
    return {task.number for task in response.context["page"]}


@pytest.fixture
def week(street: TaskStreet) -> dict[str, Task]:
    """Tasks of community c1 (and one of c2) around the week 2025-05-27 – 06-02."""
    patrol = street.types["patrol"]
    other = TaskTypeFactory(category=CategoryFactory(code="77"), code="7701")

    def task(area: str = "g11", created: dt.datetime = IN_PERIOD, **fields: Any) -> Task:
        fields.setdefault("deadline", IN_PERIOD + dt.timedelta(days=1))
        fields.setdefault("task_type", patrol)
        made = make_task(area=street[area], at=created, **fields)
        Task.objects.filter(pk=made.pk).update(created_at=created)
        made.refresh_from_db()
        return made

    late = IN_PERIOD + dt.timedelta(days=2)
    return {
        "on_time": task(state=TaskState.CLOSED, source=TaskSource.ROUTINE),
        "late_reworked": _closed_late(
            task(area="g12", state=TaskState.CLOSED, rework_count=1), late
        ),
        "overdue_extended": task(state=TaskState.ACCEPTED, extension_count=1, task_type=other),
        "suspended": task(state=TaskState.ACCEPTED, suspended_at=IN_PERIOD),
        "cancelled": task(state=TaskState.CANCELLED),
        "future": task(
            created=IN_PERIOD - dt.timedelta(days=10), deadline=NOW + dt.timedelta(days=5)
        ),
        "old_overdue": task(
            created=IN_PERIOD - dt.timedelta(days=20),
            deadline=IN_PERIOD - dt.timedelta(days=10),
            state=TaskState.RETURNED,
        ),
        "elsewhere": task(area="g21", state=TaskState.CLOSED),
    }


def _closed_late(task: Task, at: dt.datetime) -> Task:
    Task.objects.filter(pk=task.pk).update(closed_at=at)
    task.refresh_from_db()
    return task


@pytest.mark.parametrize("figure", sorted(FIGURE_FILTERS))
@pytest.mark.django_db
def test_each_figure_links_to_exactly_the_tasks_it_counts(
    login: Any, street: TaskStreet, week: dict[str, Task], figure: str
) -> None:
    lin = street["lin"]
    figures = task_figures(user=lin, area=street["c1"], start=START, end=END, now=NOW)
    params = figure_list_params(figure, area=street["c1"].code, start=START, end=END)
    listed = numbers(login("lin").get(URL, params))
    assert len(listed) == figures[figure] > 0
    assert week["elsewhere"].number not in listed


@pytest.mark.django_db
def test_the_figures_of_this_week_are_what_the_fixture_says(
    street: TaskStreet, week: dict[str, Task]
) -> None:
    figures = task_figures(user=street["lin"], area=street["c1"], start=START, end=END, now=NOW)
    expected = {
        "issued": 5,  # on_time, late_reworked, overdue_extended, suspended, cancelled
        "due": 3,  # on_time, late_reworked, overdue_extended
        "closed": 2,
        "closed_on_time": 1,
        "reworked": 1,
        "extended": 1,
        "overdue_open": 2,  # overdue_extended, old_overdue (not the suspended one)
    }
    assert {k: figures[k] for k in expected} == expected


@pytest.mark.django_db
def test_category_and_source_rows_narrow_the_figure(
    login: Any, street: TaskStreet, week: dict[str, Task]
) -> None:
    client = login("lin")
    by_category = figure_list_params(
        "due", area=street["c1"].code, start=START, end=END, category="77"
    )
    assert numbers(client.get(URL, by_category)) == {week["overdue_extended"].number}
    by_source = figure_list_params(
        "issued", area=street["c1"].code, start=START, end=END, source="routine"
    )
    assert numbers(client.get(URL, by_source)) == {week["on_time"].number}


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ({"open": "1"}, {"overdue_extended", "suspended", "future", "old_overdue"}),
        ({"overdue": "now"}, {"overdue_extended", "old_overdue"}),
        ({"on_time": "no"}, {"late_reworked"}),
        ({"reworked": "no", "state": "closed"}, {"on_time"}),
        ({"extended": "yes"}, {"overdue_extended"}),
    ],
)
@pytest.mark.django_db
def test_the_flag_filters(
    login: Any, week: dict[str, Task], query: dict[str, str], keys: set[str]
) -> None:
    assert numbers(login("lin").get(URL, query)) == {week[k].number for k in keys}


@pytest.mark.django_db
def test_an_unknown_category_is_a_form_error(login: Any, week: dict[str, Task]) -> None:
    response = login("lin").get(URL, {"category": "zz"})
    assert response.status_code == 200
    assert response.context["form"].errors["category"]
    assert list(response.context["page"]) == []


def test_target_and_event_filters_and_the_fold(login: Any, street: TaskStreet) -> None:
    shop, home = street.places["shop"], street.households["home"]

    def task(area: str, source: str, **target: Any) -> Task:
        return make_task(
            area=street[area], task_type=street.types["patrol"], source=source, **target
        )

    report = task("g11", TaskSource.RESIDENT_REPORT, target_place=shop)
    routine = task("g11", TaskSource.ROUTINE, target_place=shop)
    alarm = task("m11", TaskSource.ALARM, target_household=home)
    task("g12", TaskSource.DIRECTIVE)
    client = login("lin")
    assert numbers(client.get(URL, {"place": shop.pk})) == {report.number, routine.number}
    assert numbers(client.get(URL, {"place": shop.pk, "events": "1"})) == {report.number}
    assert numbers(client.get(URL, {"household": home.pk})) == {alarm.number}
    assert numbers(client.get(URL, {"events": "1"})) == {report.number, alarm.number}
    # The main filters show; the others fold away unless one of them is in use.
    assert '<details class="more-filters">' in client.get(URL).text
    assert '<details class="more-filters" open>' in client.get(URL, {"place": shop.pk}).text
    refused = client.get(URL, {"household": "x"})
    assert refused.context["form"].errors["household"]
    assert '<details class="more-filters" open>' in refused.text
