"""A task is worked on from its ``dispatched_at`` on (routine tasks are generated ahead):
no accept, feedback or extension before it; and an extension only while the task is in
hand (dispatched, accepted, returned), never once handed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from gridgov.api.tests.helpers import bearer_client, envelope, ok
from gridgov.core.errors import Conflict
from gridgov.tasks import services
from gridgov.tasks.choices import ExtensionStatus, TaskAction, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.tests.factories import TaskStreet
from gridgov.tasks.tests.test_api_transitions import post, task_in, url
from gridgov.web.selectors import task_actions_for

#: The clock: Tuesday 2025-06-03 10:00 Asia/Shanghai.
NOW = dt.datetime(2025, 6, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
#: Tomorrow's routine occurrence, given in UTC: 2025-06-04 08:00 in Shanghai.
TOMORROW = dt.datetime(2025, 6, 4, 0, 0, tzinfo=dt.UTC)
DEADLINE = dt.datetime(2025, 6, 6, 17, 30, tzinfo=NOW.tzinfo)


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _tomorrow(street: TaskStreet, state: str = TaskState.DISPATCHED) -> Task:
    return task_in(street, state, at=TOMORROW, deadline=DEADLINE)


def _extension(street: TaskStreet, task: Task, *, now: dt.datetime = NOW) -> Task:
    return services.task_extension_request(
        actor=street["chen"], task=task, until=DEADLINE + dt.timedelta(days=2),
        reason="住户外出", now=now,
    )  # fmt: skip


# --- not before its start ------------------------------------------------------------------


def test_tomorrows_task_cannot_be_accepted_today_and_the_message_says_from_when(
    street: TaskStreet,
) -> None:
    task = _tomorrow(street)
    with pytest.raises(Conflict) as refused:
        services.task_accept(actor=street["chen"], task=task, now=NOW)
    assert refused.value.code == "not_started"
    assert "2025-06-04 08:00" in refused.value.message  # local time, not 00:00 UTC
    assert refused.value.details["starts_at"] == "2025-06-04T08:00:00+08:00"
    task.refresh_from_db()
    assert task.state == TaskState.DISPATCHED
    assert task.accepted_at is None
    assert not TaskEvent.objects.filter(task=task).exists()


def test_a_task_can_be_accepted_from_its_start_on(street: TaskStreet) -> None:
    task = _tomorrow(street)
    done = services.task_accept(actor=street["chen"], task=task, now=TOMORROW)
    assert done.state == TaskState.ACCEPTED
    assert done.accepted_at == TOMORROW


def test_a_department_handler_cannot_take_tomorrows_task_either(street: TaskStreet) -> None:
    task = task_in(
        street, TaskState.DISPATCHED, at=TOMORROW, deadline=DEADLINE,
        task_type=street.types["enforcement"], department=street.department, assignee=None,
    )  # fmt: skip
    with pytest.raises(Conflict) as refused:
        services.task_accept(actor=street["he"], task=task, now=NOW)
    assert refused.value.code == "not_started"
    task.refresh_from_db()
    assert task.assignee_id is None


def test_feedback_on_a_task_accepted_before_its_start_is_refused(street: TaskStreet) -> None:
    # Accepted early before the services refused it: it still cannot be handed in early.
    task = _tomorrow(street, TaskState.ACCEPTED)
    with pytest.raises(Conflict) as refused:
        services.task_submit_feedback(
            actor=street["chen"], task=task, note="已处理", lon=None, lat=None,
            answers=None, photos=[], now=NOW,
        )  # fmt: skip
    assert refused.value.code == "not_started"
    task.refresh_from_db()
    assert task.state == TaskState.ACCEPTED
    done = services.task_submit_feedback(
        actor=street["chen"], task=task, note="已处理", lon=None, lat=None,
        answers=None, photos=[], now=TOMORROW + dt.timedelta(hours=1),
    )  # fmt: skip
    assert done.state == TaskState.HANDLED


def test_no_extension_before_the_start(street: TaskStreet) -> None:
    task = _tomorrow(street)
    with pytest.raises(Conflict) as refused:
        _extension(street, task)
    assert refused.value.code == "not_started"
    task.refresh_from_db()
    assert task.extension_status != ExtensionStatus.REQUESTED


def test_sending_back_before_the_start_is_allowed(street: TaskStreet) -> None:
    # "Not mine" starts no work, and early gives the dispatcher time to dispatch again.
    task = _tomorrow(street)
    done = services.task_send_back(actor=street["chen"], task=task, reason="不是本网格", now=NOW)
    assert done.state == TaskState.SENT_BACK


def test_a_stranger_is_refused_for_who_they_are_not_told_when_it_starts(
    street: TaskStreet,
) -> None:
    from gridgov.core.errors import PermissionDenied

    task = _tomorrow(street)
    with pytest.raises(PermissionDenied):
        services.task_accept(actor=street["chen2"], task=task, now=NOW)


@pytest.mark.usefixtures("clock")
def test_the_api_answers_409_not_started(street: TaskStreet) -> None:
    task = _tomorrow(street)
    chen = bearer_client(street["chen"])
    error = envelope(post(chen, url(task, "accept")), 409)
    assert error["code"] == "not_started"
    assert "2025-06-04 08:00" in error["message"]
    assert error["details"]["starts_at"] == "2025-06-04T08:00:00+08:00"
    body = {"until": "2025-06-09T17:30:00+08:00", "reason": "住户外出"}
    assert envelope(post(chen, url(task, "extension-request"), body), 409)["code"] == (
        "not_started"
    )
    task.refresh_from_db()
    assert task.state == TaskState.DISPATCHED
    assert task.extension_status != ExtensionStatus.REQUESTED
    assert not TaskEvent.objects.filter(task=task).exists()


# --- an extension only while in hand -------------------------------------------------------


@pytest.mark.parametrize("state", [TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.RETURNED])
def test_an_extension_may_be_asked_while_the_task_is_in_hand(
    street: TaskStreet, state: str
) -> None:
    task = task_in(street, state, at=NOW - dt.timedelta(hours=1), deadline=DEADLINE)
    assert _extension(street, task).extension_status == ExtensionStatus.REQUESTED
    assert TaskEvent.objects.filter(task=task, action=TaskAction.EXTENSION_REQUEST).count() == 1


@pytest.mark.parametrize(
    "state",
    [TaskState.HANDLED, TaskState.REPORTED, TaskState.REGISTERED, TaskState.SENT_BACK],
)
def test_no_extension_once_handed_in_or_out_of_hand(street: TaskStreet, state: str) -> None:
    task = task_in(
        street, state, at=NOW - dt.timedelta(hours=1), deadline=DEADLINE, assignee=street["chen"]
    )
    with pytest.raises(Conflict) as refused:
        _extension(street, task)
    assert refused.value.code == "state_conflict"
    task.refresh_from_db()
    assert task.extension_status != ExtensionStatus.REQUESTED
    assert not TaskEvent.objects.filter(task=task).exists()


@pytest.mark.usefixtures("clock")
def test_the_api_refuses_an_extension_of_a_handled_task_with_409(street: TaskStreet) -> None:
    task = task_in(street, TaskState.HANDLED, at=NOW - dt.timedelta(hours=1), deadline=DEADLINE)
    body = {"until": "2025-06-09T17:30:00+08:00", "reason": "住户外出"}
    error = envelope(post(bearer_client(street["chen"]), url(task, "extension-request"), body), 409)
    assert error["code"] == "state_conflict"
    task.refresh_from_db()
    assert task.extension_status != ExtensionStatus.REQUESTED


@pytest.mark.usefixtures("clock")
def test_the_api_takes_an_extension_of_a_returned_task(street: TaskStreet) -> None:
    task = task_in(street, TaskState.RETURNED, at=NOW - dt.timedelta(hours=1), deadline=DEADLINE)
    body = {"until": "2025-06-09T17:30:00+08:00", "reason": "住户外出"}
    done = ok(post(bearer_client(street["chen"]), url(task, "extension-request"), body))
    assert done["extension_status"] == "requested"


# --- what the page offers (web.selectors.task_actions_for) ---------------------------------


def _offers(user: Any, task: Task, now: dt.datetime) -> set[str]:
    return {name for name, on in task_actions_for(user, task, now=now).items() if on}


def test_the_actions_follow_the_start(street: TaskStreet) -> None:
    task = _tomorrow(street)
    assert _offers(street["chen"], task, NOW) == {"send_back", "not_started"}
    assert _offers(street["chen"], task, TOMORROW) == {"accept", "send_back", "extension"}
    early = _tomorrow(street, TaskState.ACCEPTED)
    assert _offers(street["chen"], early, NOW) == {"not_started"}
    assert _offers(street["chen"], early, TOMORROW) == {"feedback", "extension"}


def test_the_actions_offer_no_extension_once_handed_in(street: TaskStreet) -> None:
    at = NOW - dt.timedelta(hours=1)
    handled = task_in(street, TaskState.HANDLED, at=at, deadline=DEADLINE)
    assert _offers(street["chen"], handled, NOW) == set()
    returned = task_in(street, TaskState.RETURNED, at=at, deadline=DEADLINE)
    assert _offers(street["chen"], returned, NOW) == {"feedback", "extension"}
