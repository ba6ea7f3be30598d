"""A NUL character (U+0000) anywhere in a request is a clear 400 in the interface's own
format, on both databases (PostgreSQL cannot store it), and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from gridgov.api.tests.helpers import bearer_client
from gridgov.tasks.models import TaskEvent
from gridgov.tasks.tests.factories import make_task, make_task_street

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/manage/tasks/%00/",
        "/manage/tasks/?q=%00",
        "/resident/follow/?number=1%00",
        "/en/dashboard/?area=%00",
    ],
)
def test_pages_answer_400(client: Client, url: str) -> None:
    assert client.get(url).status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/tasks/%00", "/api/v1/areas?parent=%00"])
def test_the_api_answers_its_envelope(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("/open311/v2/requests.json?service_code=%00", "json"),
        ("/open311/v2/requests/%00.json", "json"),
        ("/open311/v2/services/%00.xml", "xml"),
    ],
)
def test_open311_answers_its_error_list(client: Client, url: str, kind: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    if kind == "json":
        assert response.json()[0]["code"] == 400
    else:
        assert b"<errors>" in response.content


def test_a_json_body_with_nul_is_refused_and_changes_nothing() -> None:
    street = make_task_street()
    client = bearer_client(street["zhou"])
    task = make_task(area=street["g11"], task_type=street.types["patrol"])
    before = TaskEvent.objects.count()
    response = client.post(
        f"/api/v1/tasks/{task.number}/transfer",
        json.dumps({"note": "x", "department": "o\x00Z", "assignee": None, "area": None}),
        content_type="application/json",
    )
    assert response.status_code == 422  # the API's status for ValidationFailed
    body: Any = response.json()["error"]
    assert body["code"] == "validation_failed"
    assert "NUL" in body["message"]
    assert TaskEvent.objects.count() == before


def test_a_form_field_with_nul_is_refused(client: Client) -> None:
    response = client.post("/resident/follow/", {"number": "1\x00", "phone": "13800000000"})
    assert response.status_code == 400
