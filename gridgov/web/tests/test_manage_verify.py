"""The verification queue (/manage/verify/): handled tasks with their feedback; pass or return."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.tasks.choices import TaskAction, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.services import task_submit_feedback
from gridgov.tasks.tests.factories import HOME_LONLAT, TaskStreet, make_task
from gridgov.web.forms import idempotency_key_new
from gridgov.web.tests.conftest import NOW

QUEUE = "/manage/verify/"


def handled(street: TaskStreet, area: str = "g11", hours_ago: int = 1) -> Task:
    return make_task(
        area=street[area],
        task_type=street.types["patrol"],
        state=TaskState.HANDLED,
        assignee=street["chen"],
        at=NOW - dt.timedelta(hours=hours_ago),
    )


@pytest.fixture
def with_feedback(street: TaskStreet) -> Task:
    """A grid patrol (rule ``patrol``: no photo, no check-in) handled through the service."""
    task = make_task(
        area=street["m11"],
        task_type=street.types["patrol"],
        rule=street.rules["patrol"],
        state=TaskState.ACCEPTED,
        assignee=street["chen"],
    )
    lon, lat = HOME_LONLAT
    return task_submit_feedback(
        actor=street["chen"], task=task, note="已处理完毕", lon=lon, lat=lat, answers={}, photos=[]
    )


@pytest.mark.django_db
def test_the_queue_lists_handled_tasks_oldest_first_with_feedback(
    login: Any, street: TaskStreet, with_feedback: Task
) -> None:
    old = handled(street, hours_ago=30)
    handled(street, area="g21")  # another community's
    make_task(area=street["g11"], task_type=street.types["patrol"])  # not handled
    response = login("lin").get(QUEUE)
    assert response.status_code == 200
    assert [t.number for t in response.context["tasks"]] == [old.number, with_feedback.number]
    page = response.content.decode()
    assert "已处理完毕" in page
    item = response.context["tasks"][1]
    assert item.feedback.action == TaskAction.SUBMIT_FEEDBACK


@pytest.mark.django_db
def test_pass_closes_and_comes_back_to_the_queue(login: Any, with_feedback: Task) -> None:
    response = login("lin").post(
        f"/manage/tasks/{with_feedback.number}/pass/",
        {"idempotency_key": idempotency_key_new(), "back": "queue"},
    )
    assert response.status_code == 302
    assert response["Location"] == QUEUE
    with_feedback.refresh_from_db()
    assert with_feedback.state == TaskState.CLOSED
    assert TaskEvent.objects.filter(task=with_feedback, action=TaskAction.VERIFY_PASS).exists()


@pytest.mark.django_db
def test_return_needs_a_reason_and_counts_a_rework(login: Any, with_feedback: Task) -> None:
    client = login("lin")
    url = f"/manage/tasks/{with_feedback.number}/return/"
    client.post(url, {"idempotency_key": idempotency_key_new(), "back": "queue", "reason": ""})
    with_feedback.refresh_from_db()
    assert with_feedback.state == TaskState.HANDLED
    response = client.post(
        url, {"idempotency_key": idempotency_key_new(), "back": "queue", "reason": "照片不清楚"}
    )
    assert response["Location"] == QUEUE
    with_feedback.refresh_from_db()
    assert (with_feedback.state, with_feedback.rework_count) == (TaskState.RETURNED, 1)


@pytest.mark.django_db
def test_the_queue_query_count_does_not_grow(login: Any, street: TaskStreet) -> None:
    client = login("lin")
    handled(street)
    with CaptureQueriesContext(connection) as few:
        client.get(QUEUE)
    for _ in range(10):
        handled(street)
    with CaptureQueriesContext(connection) as many:
        client.get(QUEUE)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_answers_read_as_the_rules_questions_in_the_active_language() -> None:
    from django.utils import translation

    from gridgov.web.forms import answer_rows

    fields = [
        {
            "name": "health",
            "label_zh": "身体状况",
            "label_en": "Health",
            "type": "choice",
            "choices": [{"value": "good", "label_zh": "良好", "label_en": "Good"}],
        },
        {"name": "met", "label_zh": "见到本人", "label_en": "Met in person", "type": "boolean"},
        {"name": "count", "label_zh": "人数", "label_en": "People", "type": "number"},
    ]
    answers = {"met": False, "health": "good", "old": "x"}
    with translation.override("zh-hans"):
        assert answer_rows(fields, answers) == [
            ("身体状况", "良好"),
            ("见到本人", "否"),
            ("old", "x"),
        ]
    with translation.override("en"):
        assert answer_rows(fields, answers) == [
            ("Health", "Good"),
            ("Met in person", "No"),
            ("old", "x"),
        ]
