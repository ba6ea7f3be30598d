"""A JSON body holding a character no text may hold (NUL, other control characters,
DEL, a lone surrogate) is refused by the API's parser with the envelope, code
``control_character``, and stores nothing — on PostgreSQL too, where NUL would be a
database error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gridgov.api.tests.helpers import bearer_client, envelope
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.tests.factories import make_task, make_task_street

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("char", "name"),
    [("\x00", "U+0000"), ("\x01", "U+0001"), ("\x0b", "U+000B"), ("\x7f", "U+007F"),
     ("\ud800", "U+D800")],
)  # fmt: skip
def test_a_new_task_with_a_control_character_is_refused(char: str, name: str) -> None:
    street = make_task_street()
    body: dict[str, Any] = {
        "task_type": street.types["patrol"].code,
        "lon": 120.005,
        "lat": 30.005,
        "title": f"a{char}b",
        "description": "line one\nline\ttwo",
    }
    before = (Task.objects.count(), TaskEvent.objects.count())
    response = bearer_client(street["chen"]).post(
        "/api/v1/tasks", json.dumps(body), content_type="application/json"
    )
    error = envelope(response, 422)
    assert error["code"] == "control_character"
    assert error["details"] == {"field": "title", "character": name}
    assert name in error["message"]
    assert (Task.objects.count(), TaskEvent.objects.count()) == before


def test_the_path_names_nested_fields_and_keys() -> None:
    street = make_task_street()
    task = make_task(area=street["g11"], task_type=street.types["patrol"])
    before = TaskEvent.objects.count()
    response = bearer_client(street["zhou"]).post(
        f"/api/v1/tasks/{task.number}/transfer",
        json.dumps({"note": "x", "department": "o\x00Z", "assignee": None, "area": None}),
        content_type="application/json",
    )
    assert envelope(response, 422)["details"] == {"field": "department", "character": "U+0000"}
    assert TaskEvent.objects.count() == before


def test_tab_and_line_breaks_pass() -> None:
    street = make_task_street()
    body = {
        "task_type": street.types["patrol"].code,
        "lon": 120.005,
        "lat": 30.005,
        "title": "井盖\t缺失",
        "description": "line one\r\nline two",
    }
    response = bearer_client(street["chen"]).post(
        "/api/v1/tasks", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert Task.objects.get().description == "line one\r\nline two"
