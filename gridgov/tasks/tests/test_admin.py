"""Admin for tasks and directives: read-only, scoped, searchable, filterable."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.urls import reverse

from gridgov.tasks import services
from gridgov.tasks.choices import TaskState
from gridgov.tasks.models import Directive, Task
from gridgov.tasks.tests.factories import TaskStreet, make_task


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tasks(street: TaskStreet) -> dict[str, Task]:
    patrol = street.types["patrol"]
    return {
        "g11": make_task(
            area=street["g11"], task_type=patrol, assignee=street["chen"], title="楼道堆物"
        ),
        "g21": make_task(
            area=street["g21"],
            task_type=patrol,
            assignee=street["zhao"],
            title="井盖缺失",
            state=TaskState.CLOSED,
            is_overdue=True,
        ),
    }


def listed(response: Any) -> set[int]:
    return {task.pk for task in response.context["cl"].result_list}


def test_the_changelist_is_scoped_searched_and_filtered(street: TaskStreet) -> None:
    rows = tasks(street)
    url = reverse("admin:tasks_task_changelist")
    root = client_for(street["root"])
    page = root.get(url)
    assert page.status_code == 200
    assert listed(page) == {rows["g11"].pk, rows["g21"].pk}
    assert listed(root.get(url, {"q": rows["g21"].number})) == {rows["g21"].pk}
    assert listed(root.get(url, {"q": "楼道"})) == {rows["g11"].pk}
    assert listed(root.get(url, {"state": TaskState.CLOSED})) == {rows["g21"].pk}
    assert listed(root.get(url, {"is_overdue__exact": "1"})) == {rows["g21"].pk}
    assert listed(root.get(url, {"open": "1"})) == {rows["g11"].pk}
    assert root.get(url, {"light": "red"}).status_code == 200
    # A grid leader of community 1 sees community 1 only.
    assert listed(client_for(street["wu"]).get(url)) == {rows["g11"].pk}


def test_a_task_is_read_only_with_its_timeline(street: TaskStreet) -> None:
    task = tasks(street)["g11"]
    services.task_accept(actor=street["chen"], task=task, note="收到")
    url = reverse("admin:tasks_task_change", args=[task.pk])
    page = client_for(street["wu"]).get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert task.number in content
    assert "收到" in content  # the timeline row's note
    assert 'name="_save"' not in content  # nothing to save
    # Posting a change does nothing.
    client_for(street["root"]).post(url, {"title": "改"})
    assert Task.objects.get(pk=task.pk).title == "楼道堆物"
    assert client_for(street["root"]).get(reverse("admin:tasks_task_add")).status_code == 403


def test_a_task_outside_the_scope_is_hidden(street: TaskStreet) -> None:
    task = tasks(street)["g21"]
    url = reverse("admin:tasks_task_change", args=[task.pk])
    response = client_for(street["wu"]).get(url)
    assert response.status_code in (302, 403, 404)
    assert (
        client_for(street["nobody"]).get(reverse("admin:tasks_task_changelist")).status_code == 403
    )


def test_directives_are_listed_read_only(street: TaskStreet) -> None:
    directive = Directive.objects.create(
        title="防汛检查",
        instruction="检查低洼处。",
        task_type=street.types["patrol"],
        deadline=dt.datetime(2025, 6, 20, 17, 30, tzinfo=dt.UTC),
    )
    directive.areas.set([street["c1"]])
    url = reverse("admin:tasks_directive_changelist")
    assert {d.pk for d in client_for(street["wu"]).get(url).context["cl"].result_list} == {
        directive.pk
    }
    assert list(client_for(street["zhao"]).get(url).context["cl"].result_list) == []
    change = client_for(street["zhou"]).get(
        reverse("admin:tasks_directive_change", args=[directive.pk])
    )
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
