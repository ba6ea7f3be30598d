"""An extension moves a deadline by at most ``services.EXTENSION_MAX_DAYS`` (366) days, in
the years 1970–9998: refused on request, and a request made before the rule cannot be
approved."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.api.tests.helpers import bearer_client, envelope, ok
from gridgov.core.errors import ValidationFailed
from gridgov.tasks import services
from gridgov.tasks.choices import ExtensionStatus, TaskState
from gridgov.tasks.models import Task
from gridgov.tasks.tests.factories import TaskStreet
from gridgov.tasks.tests.test_api_transitions import post, task_in, url

DEADLINE = dt.datetime(2099, 1, 5, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("until", "status"),
    [
        ("9998-12-31T17:30:00+08:00", 422),  # the QA's request: accepted, approved, 9998
        ("2100-01-06T09:30:01+00:00", 422),  # 366 days and a second after the deadline
        ("9999-06-01T00:00:00+08:00", 422),  # past YEAR_MAX (the schema refuses it)
    ],
)
def test_an_extension_beyond_a_year_is_refused_over_the_api(
    street: TaskStreet, until: str, status: int
) -> None:
    task = task_in(street, TaskState.ACCEPTED, deadline=DEADLINE)
    chen = bearer_client(street["chen"])
    body = {"until": until, "reason": "需要协调物业"}
    error = envelope(post(chen, url(task, "extension-request"), body), status)
    assert error
    task.refresh_from_db()
    assert task.extension_status != ExtensionStatus.REQUESTED
    assert task.extension_requested_until is None


def test_an_extension_of_exactly_366_days_is_taken(street: TaskStreet) -> None:
    assert services.EXTENSION_MAX_DAYS == 366
    task = task_in(street, TaskState.ACCEPTED, deadline=DEADLINE)
    chen = bearer_client(street["chen"])
    body = {"until": "2100-01-06T09:30:00+00:00", "reason": "需要协调物业"}
    assert ok(post(chen, url(task, "extension-request"), body))["extension_status"] == "requested"
    approved = ok(
        post(bearer_client(street["wu"]), url(task, "extension-decision"), {"approve": True})
    )
    assert approved["deadline"].startswith("2100-01-06T09:30:00")


def test_a_task_without_a_deadline_counts_from_now(street: TaskStreet) -> None:
    task = task_in(street, TaskState.ACCEPTED)
    Task.objects.filter(pk=task.pk).update(deadline=None)
    task.refresh_from_db()
    assert task.deadline is None
    now = dt.datetime(2025, 6, 3, 10, 0, tzinfo=dt.UTC)
    with pytest.raises(ValidationFailed, match="366"):
        services.task_extension_request(
            actor=street["chen"], task=task, until=now + dt.timedelta(days=367),
            reason="需要协调物业", now=now,
        )  # fmt: skip
    done = services.task_extension_request(
        actor=street["chen"], task=task, until=now + dt.timedelta(days=366),
        reason="需要协调物业", now=now,
    )  # fmt: skip
    assert done.extension_status == ExtensionStatus.REQUESTED


def test_an_old_request_beyond_a_year_cannot_be_approved(street: TaskStreet) -> None:
    task = task_in(street, TaskState.ACCEPTED, deadline=DEADLINE)
    far = dt.datetime(9998, 12, 31, 9, 30, tzinfo=dt.UTC)
    Task.objects.filter(pk=task.pk).update(
        extension_status=ExtensionStatus.REQUESTED, extension_requested_until=far
    )
    wu = bearer_client(street["wu"])
    assert envelope(post(wu, url(task, "extension-decision"), {"approve": True}), 422)
    task.refresh_from_db()
    assert task.deadline == DEADLINE
    refused = ok(post(wu, url(task, "extension-decision"), {"approve": False, "note": "过长"}))
    assert refused["extension_status"] == "rejected"
    assert refused["deadline"].startswith("2099-01-05T09:30:00")
