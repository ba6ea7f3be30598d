"""The task page and its actions: accept, send back, extension, feedback; scoping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile

from gridgov.tasks.choices import ExtensionStatus, TaskAction, TaskState
from gridgov.tasks.models import Task, TaskAttachment, TaskEvent
from gridgov.tasks.services import task_create
from gridgov.tasks.tests.factories import HOME_LONLAT, TaskStreet, make_task
from gridgov.web.tests.conftest import NOW, png_bytes


@pytest.fixture
def dispatched(street: TaskStreet) -> Task:
    """A task dispatched to chen through the service (so it has a timeline)."""
    return task_create(
        actor=street["wu"],
        source="directive",
        task_type=street.types["patrol"],
        area=street["g11"],
        title="检查出租房登记",
        deadline=NOW + dt.timedelta(days=3),
    )


@pytest.fixture
def visit(street: TaskStreet) -> Task:
    """An accepted home visit of the rule ``visit`` (1 photo, 200 m check-in, questions)."""
    return make_task(
        area=street["m11"],
        task_type=street.types["patrol"],
        rule=street.rules["visit"],
        state=TaskState.ACCEPTED,
        assignee=street["chen"],
        target_household=street.households["home"],
        at=NOW - dt.timedelta(hours=2),
    )


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_shows_a_task_with_its_rule_and_timeline(login: Any, visit: Task) -> None:
    response = login("chen").get(f"/tasks/{visit.number}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert visit.title in page
    assert "古荡新村1幢1单元***" in page
    assert "101室" not in page
    assert "至少 1 张照片" in page
    assert "200" in page
    assert "健康状况" in page
    assert 'id="task-map"' in page
    assert "leaflet.js" in page
    assert f"/tasks/{visit.number}/feedback/" in page


def test_it_gives_404_for_another_grids_task(login: Any, street: TaskStreet) -> None:
    other = make_task(area=street["g12"], task_type=street.types["patrol"], assignee=street["li"])
    client = login("chen")
    assert client.get(f"/tasks/{other.number}/").status_code == 404
    assert (
        client.post(f"/tasks/{other.number}/accept/", {"idempotency_key": "k"}).status_code == 404
    )
    assert client.get(f"/tasks/{other.number}/feedback/").status_code == 404
    assert client.get("/tasks/no-such-number/").status_code == 404
    other.refresh_from_db()
    assert other.state == TaskState.DISPATCHED


def test_it_redirects_anonymous_users_to_the_login_page(client: Any, visit: Task) -> None:
    response = client.get(f"/tasks/{visit.number}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_it_accepts_a_task_once_for_a_double_tap(login: Any, dispatched: Task) -> None:
    # Load balancing gives it to chen or chen2, the two workers of grid g11.
    client = login(dispatched.assignee.username)
    url = f"/tasks/{dispatched.number}/accept/"
    first = client.post(url, {"idempotency_key": "tap-1"})
    second = client.post(url, {"idempotency_key": "tap-1"})
    assert first.status_code == second.status_code == 302
    dispatched.refresh_from_db()
    assert dispatched.state == TaskState.ACCEPTED
    assert TaskEvent.objects.filter(task=dispatched, action=TaskAction.ACCEPT).count() == 1
    page = client.get(f"/tasks/{dispatched.number}/").content.decode()
    assert "签收" in page  # the timeline row


def test_it_shows_a_service_refusal_as_a_message_not_an_error(
    login: Any, street: TaskStreet, dispatched: Task
) -> None:
    other = "chen2" if dispatched.assignee.username == "chen" else "chen"
    response = login(other).post(f"/en/tasks/{dispatched.number}/accept/", {"idempotency_key": "x"})
    assert response.status_code == 302
    messages = _messages(response)
    assert messages == [f"Only the task's assignee may accept task {dispatched.number}."]
    dispatched.refresh_from_db()
    assert dispatched.state == TaskState.DISPATCHED


def test_it_sends_a_task_back_with_a_reason(login: Any, dispatched: Task) -> None:
    client = login(dispatched.assignee.username)
    url = f"/tasks/{dispatched.number}/send-back/"
    refused = client.post(url, {"idempotency_key": "k0", "reason": ""})
    assert refused.status_code == 302
    dispatched.refresh_from_db()
    assert dispatched.state == TaskState.DISPATCHED
    response = client.post(url, {"idempotency_key": "k1", "reason": "不在本网格"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    dispatched.refresh_from_db()
    assert dispatched.state == TaskState.SENT_BACK
    event = TaskEvent.objects.get(task=dispatched, action=TaskAction.SEND_BACK)
    assert event.note == "不在本网格"


def test_it_requests_an_extension(login: Any, dispatched: Task) -> None:
    client = login(dispatched.assignee.username)
    url = f"/tasks/{dispatched.number}/extension/"
    response = client.post(
        url, {"idempotency_key": "e1", "until": "2025-06-12", "reason": "住户外出"}
    )
    assert response.status_code == 302
    dispatched.refresh_from_db()
    assert dispatched.extension_status == ExtensionStatus.REQUESTED
    assert dispatched.extension_requested_until == dt.datetime(
        2025, 6, 12, 17, 30, tzinfo=NOW.tzinfo
    )
    again = client.post(
        url.replace("/tasks/", "/en/tasks/"),
        {"idempotency_key": "e2", "until": "2025-06-13", "reason": "再延"},
    )
    assert again.status_code == 302
    # Already pending: an error message (after the first success), not a 500.
    assert _messages(again)[-1] == (
        f"Task {dispatched.number} already has an extension request waiting."
    )


@pytest.mark.usefixtures("_media")
def test_it_takes_feedback_with_a_photo_location_and_answers(login: Any, visit: Task) -> None:
    lon, lat = HOME_LONLAT
    photo = SimpleUploadedFile("gas.png", png_bytes(), content_type="image/png")
    response = login("chen").post(
        f"/tasks/{visit.number}/feedback/",
        {
            "idempotency_key": "fb-1",
            "note": "燃气阀正常",
            "photos": [photo],
            "lon": str(lon + 0.0002),
            "lat": str(lat),
            "a_health": "good",
            "a_people_met": "2",
            "a_alone": "true",
            "a_visited_on": "2025-06-03",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == f"/tasks/{visit.number}/?draft=feedback-{visit.number}"
    visit.refresh_from_db()
    assert visit.state == TaskState.HANDLED
    event = TaskEvent.objects.get(task=visit, action=TaskAction.SUBMIT_FEEDBACK)
    assert event.note == "燃气阀正常"
    assert event.data["answers"] == {
        "health": "good",
        "people_met": 2,
        "alone": True,
        "visited_on": "2025-06-03",
    }
    assert 15 < event.data["distance_m"] < 25
    attachment = TaskAttachment.objects.get(event=event)
    assert attachment.content_type == "image/png"
    assert attachment.size == len(png_bytes())


@pytest.mark.usefixtures("_media")
def test_it_keeps_the_typed_feedback_and_marks_each_missing_piece(login: Any, visit: Task) -> None:
    response = login("chen").post(
        f"/en/tasks/{visit.number}/feedback/",
        {"idempotency_key": "fb-2", "note": "敲门无人应答", "a_people_met": "0"},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "photos" in form.errors
    assert "1 photo" in form.errors["photos"][0]
    assert "lon" in form.errors
    assert "check-in" in form.errors["lon"][0]
    assert "a_health" in form.errors
    assert "a_people_met" not in form.errors
    page = response.content.decode()
    assert "敲门无人应答" in page  # what was typed is still there
    assert "choose them again" in page
    visit.refresh_from_db()
    assert visit.state == TaskState.ACCEPTED
    assert not TaskEvent.objects.filter(task=visit).exists()


def test_it_refuses_a_number_answer_of_1e400_and_stores_nothing(login: Any, visit: Task) -> None:
    response = login("chen").post(
        f"/tasks/{visit.number}/feedback/",
        {"idempotency_key": "fb", "note": "走访", "a_health": "good", "a_people_met": "1e400"},
    )
    assert response.status_code == 400
    assert "a_people_met" in response.context["form"].errors
    assert "走访" in response.content.decode()
    assert not TaskEvent.objects.filter(task=visit).exists()


def test_it_renders_the_rules_questions_on_the_feedback_form(login: Any, visit: Task) -> None:
    page = login("chen").get(f"/tasks/{visit.number}/feedback/").content.decode()
    assert 'capture="environment"' in page
    assert 'accept="image/*"' in page
    assert "multiple" in page
    assert 'name="a_health"' in page
    assert "良好" in page
    assert 'name="a_people_met"' in page
    assert 'name="a_visited_on"' in page
    assert 'type="date"' in page
    assert 'name="a_alone"' in page
    assert 'data-draft="feedback-' in page
    assert "data-geolocate" in page
