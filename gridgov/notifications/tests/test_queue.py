"""notification_queue: inbox rows and outbox messages, written in the caller's transaction."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from gridgov.notifications import services
from gridgov.notifications.channels import (
    CHANNELS,
    webhook_target_parse,
    webhook_targets,
)
from gridgov.notifications.choices import OutboxStatus
from gridgov.notifications.models import Notification, OutboxMessage
from gridgov.notifications.services import NotificationSpec, notification_queue
from gridgov.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_writes_an_inbox_row_and_a_log_message_per_recipient() -> None:
    chen, wu = UserFactory(username="chen"), UserFactory(username="wu")
    notification_queue(
        recipients=[chen, wu], kind="task_dispatched", title="新任务", body="请签收", data={"a": 1}
    )
    inbox = Notification.objects.order_by("recipient__username")
    assert [(n.recipient, n.kind, n.title, n.body, n.data) for n in inbox] == [
        (chen, "task_dispatched", "新任务", "请签收", {"a": 1}),
        (wu, "task_dispatched", "新任务", "请签收", {"a": 1}),
    ]
    assert all(n.read_at is None for n in inbox)
    outbox = OutboxMessage.objects.order_by("target")
    assert [(m.channel, m.target, m.recipient, m.status) for m in outbox] == [
        ("log", str(chen.pk), chen, OutboxStatus.PENDING),
        ("log", str(wu.pk), wu, OutboxStatus.PENDING),
    ]
    assert outbox[0].payload["title"] == "新任务"


def test_it_skips_none_and_duplicate_recipients() -> None:
    chen = UserFactory(username="chen")
    notification_queue(recipients=[chen, None, chen], kind="k", title="t", body="b")
    assert Notification.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_it_writes_nothing_without_recipients() -> None:
    notification_queue(recipients=[], kind="k", title="t", body="b")
    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_it_rolls_back_with_the_callers_transaction() -> None:
    chen = UserFactory(username="chen")

    class Boom(Exception):
        pass

    def act() -> None:
        with transaction.atomic():
            notification_queue(recipients=[chen], kind="k", title="t", body="b")
            assert Notification.objects.count() == 1
            raise Boom

    with pytest.raises(Boom):
        act()
    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_it_links_the_task_and_carries_its_number(settings: Any) -> None:
    from gridgov.tasks.tests.factories import make_task, make_task_street

    street = make_task_street()
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    settings.GRIDGOV_NOTIFICATION_CHANNELS = ["inbox", "log", "webhook"]
    settings.GRIDGOV_WEBHOOK_URLS = ["wecom+http://127.0.0.1:9/hook"]
    notification_queue(recipients=[street["chen"]], kind="k", title="t", body="b", task=task)
    assert Notification.objects.get().task == task
    webhook = OutboxMessage.objects.get(channel="webhook")
    assert webhook.payload["task_number"] == task.number
    assert webhook.payload["task_id"] == task.pk
    assert webhook.payload["recipients"] == ["chen"]


def test_it_writes_one_webhook_message_per_robot_not_per_recipient(settings: Any) -> None:
    settings.GRIDGOV_NOTIFICATION_CHANNELS = ["inbox", "webhook"]
    settings.GRIDGOV_WEBHOOK_URLS = [
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY",
        "https://oapi.dingtalk.com/robot/send?access_token=TOKEN#secret=SECabc",
    ]
    users = [UserFactory(username=f"u{i}") for i in range(3)]
    notification_queue(recipients=users, kind="k", title="t", body="b")
    assert Notification.objects.count() == 3
    messages = list(OutboxMessage.objects.order_by("target"))
    assert [m.channel for m in messages] == ["webhook", "webhook"]
    assert [m.target.split(":")[:2] for m in messages] == [
        ["dingtalk", "oapi.dingtalk.com"],
        ["wecom", "qyapi.weixin.qq.com"],
    ]
    # No token or secret is stored in the database.
    for message in messages:
        assert "SECRETKEY" not in message.target
        assert "TOKEN" not in message.target
        assert message.recipient is None
        assert message.payload["recipients"] == ["u0", "u1", "u2"]


def test_the_webhook_can_be_limited_to_some_kinds(settings: Any) -> None:
    settings.GRIDGOV_NOTIFICATION_CHANNELS = ["webhook"]
    settings.GRIDGOV_WEBHOOK_URLS = ["wecom+http://127.0.0.1:9/hook"]
    settings.GRIDGOV_WEBHOOK_KINDS = ["supervision"]
    chen = UserFactory(username="chen")
    notification_queue(recipients=[chen], kind="overdue_reminder", title="t", body="b")
    notification_queue(recipients=[chen], kind="supervision", title="t", body="b")
    assert list(OutboxMessage.objects.values_list("kind", flat=True)) == ["supervision"]
    # Without "inbox" among the channels there is no inbox row.
    assert not Notification.objects.exists()


def test_an_unknown_channel_is_a_configuration_error(settings: Any) -> None:
    settings.GRIDGOV_NOTIFICATION_CHANNELS = ["inbox", "pigeon"]
    with pytest.raises(ImproperlyConfigured, match="pigeon"):
        notification_queue(recipients=[UserFactory()], kind="k", title="t", body="b")


@pytest.mark.parametrize(
    ("entry", "flavour", "secret"),
    [
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", "wecom", ""),
        ("https://oapi.dingtalk.com/robot/send?access_token=T", "dingtalk", ""),
        ("https://oapi.dingtalk.com/robot/send?access_token=T#secret=SEC1", "dingtalk", "SEC1"),
        ("dingtalk+http://127.0.0.1:8080/robot?access_token=T#secret=S", "dingtalk", "S"),
        ("wecom+http://proxy.local/send?key=K", "wecom", ""),
    ],
)
def test_it_reads_webhook_urls(entry: str, flavour: str, secret: str) -> None:
    target = webhook_target_parse(entry)
    assert (target.flavour, target.secret) == (flavour, secret)
    assert "#" not in target.url
    assert "secret" not in target.label
    assert "?" not in target.label


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("ftp://example.com/hook", "not an http"),
        ("https://hooks.example.com/x?key=TOPSECRET", "prefix it with 'wecom\\+'"),
    ],
)
def test_it_refuses_unusable_webhook_urls(entry: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message) as info:
        webhook_target_parse(entry)
    assert "TOPSECRET" not in str(info.value)


def test_it_reads_webhook_urls_from_a_comma_separated_string(settings: Any) -> None:
    settings.GRIDGOV_WEBHOOK_URLS = "wecom+http://a.local/x, dingtalk+http://b.local/y"
    assert [t.flavour for t in webhook_targets()] == ["wecom", "dingtalk"]


def test_bulk_queueing_dedupes_outbox_messages_by_key() -> None:
    chen = UserFactory(username="chen")
    spec = NotificationSpec(recipient_ids=[chen.pk], kind="k", title="t", dedupe_key="ev:1")
    services.notification_queue_many(items=[spec])
    services.notification_queue_many(items=[spec])
    assert OutboxMessage.objects.count() == 1
    assert OutboxMessage.objects.get().dedupe_key == f"ev:1:log:{chen.pk}"


def test_it_nudges_delivery_once_per_transaction_after_commit(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr("gridgov.tasks.jobs.outbox_deliver_soon", lambda: calls.append("nudge"))
    chen = UserFactory(username="chen")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification_queue(recipients=[chen], kind="k", title="1", body="b")
        notification_queue(recipients=[chen], kind="k", title="2", body="b")
    assert len(callbacks) == 1
    assert calls == ["nudge"]


def test_no_nudge_when_turned_off(settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.GRIDGOV_OUTBOX_NUDGE = False
    with django_capture_on_commit_callbacks() as callbacks:
        notification_queue(recipients=[UserFactory()], kind="k", title="t", body="b")
    assert callbacks == []


def test_the_registry_knows_the_three_channels() -> None:
    assert {"inbox", "log", "webhook"} <= set(CHANNELS)
