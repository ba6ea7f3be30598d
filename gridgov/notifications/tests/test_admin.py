"""Admin: the inbox is each user's own, the outbox the command centre's, and the supervision
list the command centre's, inside its areas."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gridgov.areas.tests.factories import make_area
from gridgov.notifications.choices import OutboxStatus, SupervisionResolution
from gridgov.notifications.models import Notification, OutboxMessage, SupervisionRecord
from gridgov.notifications.services import notification_queue, outbox_retry
from gridgov.people.choices import Role
from gridgov.people.tests.factories import MembershipFactory, UserFactory
from gridgov.tasks.tests.factories import TaskStreet, make_task, make_task_street

pytestmark = pytest.mark.django_db


@pytest.fixture
def street() -> TaskStreet:
    return make_task_street()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_each_user_sees_only_their_own_inbox(street: TaskStreet) -> None:
    notification_queue(recipients=[street["chen"]], kind="k", title="给陈的通知", body="b")
    notification_queue(recipients=[street["wu"]], kind="k", title="给吴的通知", body="b")
    url = reverse("admin:notifications_notification_changelist")
    page = client_for(street["chen"]).get(url)
    assert page.status_code == 200
    assert "给陈的通知" in page.text
    assert "给吴的通知" not in page.text
    others = Notification.objects.get(recipient=street["wu"])
    detail = reverse("admin:notifications_notification_change", args=[others.pk])
    assert client_for(street["chen"]).get(detail).status_code in (302, 403)


def test_the_mark_read_action_marks_only_the_users_own(street: TaskStreet) -> None:
    notification_queue(recipients=[street["chen"], street["wu"]], kind="k", title="t", body="b")
    url = reverse("admin:notifications_notification_changelist")
    ids = list(Notification.objects.values_list("id", flat=True))
    response = client_for(street["chen"]).post(
        url, {"action": "mark_read", "_selected_action": ids}, follow=True
    )
    assert response.status_code == 200
    assert Notification.objects.get(recipient=street["chen"]).read_at is not None
    assert Notification.objects.get(recipient=street["wu"]).read_at is None


def test_the_outbox_is_for_the_command_centre(street: TaskStreet) -> None:
    notification_queue(recipients=[street["chen"]], kind="k", title="t", body="b")
    url = reverse("admin:notifications_outboxmessage_changelist")
    assert client_for(street["chen"]).get(url).status_code == 403
    page = client_for(street["zhou"]).get(url)
    assert page.status_code == 200
    assert OutboxMessage.objects.get().target in page.text


def test_a_street_centre_reads_and_retries_only_its_own_streets_outbox(
    street: TaskStreet,
) -> None:
    other_street = make_area(code="330106005", name="翠苑街道", parent=street["district"])
    other_grid = make_area(
        code="330106005001001", parent=make_area(code="330106005001", parent=other_street)
    )
    other_worker = MembershipFactory(
        user=UserFactory(username="xu"), area=other_grid, role=Role.GRID_WORKER
    ).user
    other_centre = MembershipFactory(
        user=UserFactory(username="cuiyuan"), area=other_street, role=Role.COMMAND_CENTRE
    ).user
    notification_queue(recipients=[street["chen"]], kind="k", title="古荡的消息", body="b")
    notification_queue(recipients=[other_worker], kind="k", title="翠苑的消息", body="b")
    OutboxMessage.objects.update(status=OutboxStatus.DEAD, attempts=8)
    ours = OutboxMessage.objects.get(recipient=street["chen"])
    theirs = OutboxMessage.objects.get(recipient=other_worker)

    url = reverse("admin:notifications_outboxmessage_changelist")
    page = client_for(other_centre).get(url)
    assert page.status_code == 200
    assert f"?id={theirs.pk}" in page.text or f"/{theirs.pk}/change/" in page.text
    assert f"/{ours.pk}/change/" not in page.text
    assert client_for(other_centre).get(
        reverse("admin:notifications_outboxmessage_change", args=[ours.pk])
    ).status_code in (302, 404)

    # Retrying "everything" requeues only the messages the centre may read.
    assert outbox_retry(actor=other_centre, messages=OutboxMessage.objects.all()) == 1
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.status == OutboxStatus.DEAD
    assert theirs.status == OutboxStatus.PENDING
    assert outbox_retry(actor=street["root"], messages=OutboxMessage.objects.all()) == 1


def test_the_command_centre_lists_and_resolves_supervised_tasks(street: TaskStreet) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    record = SupervisionRecord.objects.create(
        task=task, level=3, created_at=dt.datetime.now(dt.UTC)
    )
    url = reverse("admin:notifications_supervisionrecord_changelist")
    page = client_for(street["zhou"]).get(url)
    assert page.status_code == 200
    assert task.number in page.text
    # A grid worker of the grid may read the list but not resolve.
    client_for(street["chen"]).post(
        url, {"action": "resolve", "_selected_action": [record.pk]}, follow=True
    )
    record.refresh_from_db()
    assert record.resolved_at is None
    client_for(street["zhou"]).post(
        url, {"action": "resolve", "_selected_action": [record.pk]}, follow=True
    )
    record.refresh_from_db()
    assert record.resolved_at is not None
    assert record.resolution == SupervisionResolution.MANUAL
    assert record.resolved_by == street["zhou"]


def test_the_supervision_list_stops_at_the_users_areas(street: TaskStreet) -> None:
    in_c2 = make_task(area=street["g21"], task_type=street.types["patrol"], assignee=street["zhao"])
    SupervisionRecord.objects.create(task=in_c2, level=3)
    url = reverse("admin:notifications_supervisionrecord_changelist")
    page = client_for(street["wu"]).get(url)  # grid leader of community c1
    assert page.status_code == 200
    assert in_c2.number not in page.text
