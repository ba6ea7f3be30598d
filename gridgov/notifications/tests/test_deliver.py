"""outbox_deliver: claim, send, retry with backoff, give up — against a real local HTTP
server standing in for the WeCom and DingTalk robots."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import socket
from typing import Any

import pytest

from gridgov.core.errors import PermissionDenied
from gridgov.notifications.channels import dingtalk_sign
from gridgov.notifications.choices import OutboxStatus
from gridgov.notifications.models import OutboxMessage
from gridgov.notifications.services import (
    notification_queue,
    outbox_backoff,
    outbox_claim,
    outbox_deliver,
    outbox_retry,
)
from gridgov.notifications.tests.conftest import Robot
from gridgov.people.choices import Role
from gridgov.people.tests.factories import MembershipFactory, UserFactory
from gridgov.tasks.tests.factories import make_task, make_task_street

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock(time_machine: Any) -> None:
    """Messages are queued at T0 (``now`` defaults to the clock)."""
    time_machine.move_to(T0, tick=False)


def _queue(settings: Any, urls: list[str], **kwargs: Any) -> None:
    settings.GRIDGOV_NOTIFICATION_CHANNELS = ["inbox", "webhook"]
    settings.GRIDGOV_WEBHOOK_URLS = urls
    defaults = {"kind": "supervision", "title": "督办：路灯损坏", "body": "已超期 3 个工作日"}
    notification_queue(recipients=[UserFactory(username="wu")], **(defaults | kwargs))


def test_it_logs_a_line_per_recipient_on_the_log_channel(caplog: Any) -> None:
    chen = UserFactory(username="chen")
    notification_queue(recipients=[chen], kind="overdue_reminder", title="超期提醒", body="请处理")
    with caplog.at_level(logging.INFO, logger="gridgov.notifications"):
        counts = outbox_deliver(now=T0)
    assert counts["sent"] == 1
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.sent_at) == (OutboxStatus.SENT, 1, T0)
    assert f"notification to user {chen.pk} [overdue_reminder] 超期提醒" in caplog.text


def test_it_posts_the_wecom_text_format(settings: Any, robot: Robot) -> None:
    _queue(settings, [f"wecom+{robot.url}/cgi-bin/webhook/send?key=K1"])
    counts = outbox_deliver(now=T0)
    assert counts["sent"] == 1
    [request] = robot.requests
    assert request["path"] == "/cgi-bin/webhook/send"
    assert request["query"] == {"key": "K1"}
    assert request["content_type"] == "application/json; charset=utf-8"
    assert request["body"] == {
        "msgtype": "text",
        "text": {"content": "【督办：路灯损坏】\n已超期 3 个工作日\n→ wu"},
    }
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_it_signs_dingtalk_messages_with_the_secret(settings: Any, robot: Robot) -> None:
    secret = "SEC0123456789abcdef"
    _queue(settings, [f"dingtalk+{robot.url}/robot/send?access_token=TOKEN#secret={secret}"])
    assert outbox_deliver(now=T0)["sent"] == 1
    [request] = robot.requests
    query = request["query"]
    assert query["access_token"] == "TOKEN"
    assert "secret" not in query
    # The server's check, as DingTalk documents it (加签).
    expected = base64.b64encode(
        hmac.new(
            secret.encode(), f"{query['timestamp']}\n{secret}".encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert query["sign"] == expected
    assert request["body"]["msgtype"] == "text"
    assert request["body"]["text"]["content"].startswith("【督办：路灯损坏】")


def test_dingtalk_sign_matches_a_known_value() -> None:
    # Computed independently: HMAC-SHA256(key="secret", msg="1700000000000\nsecret"), Base64.
    assert (
        dingtalk_sign("secret", 1700000000000)
        == base64.b64encode(
            hmac.new(b"secret", b"1700000000000\nsecret", hashlib.sha256).digest()
        ).decode()
    )


def test_a_long_message_is_cut_to_the_wecom_limit(settings: Any, robot: Robot) -> None:
    _queue(settings, [f"wecom+{robot.url}/send"], body="很长" * 2000)
    outbox_deliver(now=T0)
    content = robot.requests[0]["body"]["text"]["content"]
    assert len(content.encode()) <= 2048
    assert content.endswith("…")


def test_a_failing_robot_is_retried_with_backoff_then_given_up(settings: Any, robot: Robot) -> None:
    robot.status = 500
    _queue(settings, [f"wecom+{robot.url}/send"])
    now = T0
    waits = []
    for attempt in range(1, 9):
        counts = outbox_deliver(now=now)
        message = OutboxMessage.objects.get()
        assert message.attempts == attempt
        assert "HTTP 500" in message.last_error
        if attempt < 8:
            assert counts["failed"] == 1
            assert message.status == OutboxStatus.FAILED
            waits.append(message.next_attempt_at - now)
            # Not due before its time.
            assert outbox_deliver(now=message.next_attempt_at - dt.timedelta(seconds=1)) == {
                "claimed": 0,
                "sent": 0,
                "failed": 0,
                "dead": 0,
                "lost": 0,
                "recovered": 0,
            }
            now = message.next_attempt_at
        else:
            assert counts["dead"] == 1
            assert message.status == OutboxStatus.DEAD
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64)]
    assert len(robot.requests) == 8
    # Dead is final: nothing more is tried.
    assert outbox_deliver(now=now + dt.timedelta(days=1))["claimed"] == 0


def test_a_refusal_in_the_answer_counts_as_a_failure(settings: Any, robot: Robot) -> None:
    robot.answer = {"errcode": 45009, "errmsg": "api freq out of limit"}
    _queue(settings, [f"wecom+{robot.url}/send"])
    assert outbox_deliver(now=T0)["failed"] == 1
    assert "errcode 45009" in OutboxMessage.objects.get().last_error
    robot.answer = {"errcode": 0, "errmsg": "ok"}
    assert outbox_deliver(now=T0 + dt.timedelta(minutes=1))["sent"] == 1


def test_an_unreachable_robot_is_retried(settings: Any) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _queue(settings, [f"wecom+http://127.0.0.1:{port}/send"])
    assert outbox_deliver(now=T0)["failed"] == 1
    assert "cannot reach" in OutboxMessage.objects.get().last_error


def test_a_robot_removed_from_the_settings_fails_the_message(settings: Any) -> None:
    _queue(settings, ["wecom+http://127.0.0.1:9/send"])
    settings.GRIDGOV_WEBHOOK_URLS = []
    assert outbox_deliver(now=T0)["failed"] == 1
    assert "no longer in GRIDGOV_WEBHOOK_URLS" in OutboxMessage.objects.get().last_error


def test_a_message_claimed_by_another_worker_is_left_alone_until_its_lease_ends() -> None:
    notification_queue(recipients=[UserFactory()], kind="k", title="t", body="b")
    message = OutboxMessage.objects.get()
    # Another worker claimed it at T0 and is still sending.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENDING, attempts=1, next_attempt_at=T0 + dt.timedelta(minutes=5)
    )
    assert outbox_deliver(now=T0 + dt.timedelta(minutes=1))["claimed"] == 0
    # Its sender died: after the lease the message goes back to the queue and is sent.
    counts = outbox_deliver(now=T0 + dt.timedelta(minutes=5))
    assert (counts["recovered"], counts["sent"]) == (1, 1)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


def test_each_message_is_claimed_by_one_worker_only() -> None:
    # Two workers read the same due id; only the first claim changes the row.
    notification_queue(recipients=[UserFactory()], kind="k", title="t", body="b")
    message = OutboxMessage.objects.get()
    assert outbox_claim(message_id=message.pk, now=T0) is True
    assert outbox_claim(message_id=message.pk, now=T0) is False
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENDING, 1)


def test_the_backoff_doubles_from_one_minute() -> None:
    assert [outbox_backoff(n).total_seconds() / 60 for n in range(1, 6)] == [1, 2, 4, 8, 16]


def test_the_command_centre_can_requeue_dead_messages(settings: Any, robot: Robot) -> None:
    settings.GRIDGOV_OUTBOX_MAX_ATTEMPTS = 1
    robot.status = 502
    street = make_task_street()
    task = make_task(area=street["g11"], task_type=street.types["patrol"])
    _queue(settings, [f"wecom+{robot.url}/send"], task=task)
    assert outbox_deliver(now=T0)["dead"] == 1
    # The group message is about a task of its street: that street's centre may requeue
    # it, another street's centre may not.
    elsewhere = MembershipFactory(role=Role.COMMAND_CENTRE).user
    assert outbox_retry(actor=elsewhere, messages=OutboxMessage.objects.all(), now=T0) == 0
    assert outbox_retry(actor=street["zhou"], messages=OutboxMessage.objects.all(), now=T0) == 1
    robot.status = 200
    assert outbox_deliver(now=T0)["sent"] == 1


def test_a_grid_worker_cannot_requeue_messages() -> None:
    chen = MembershipFactory(role=Role.GRID_WORKER).user
    with pytest.raises(PermissionDenied):
        outbox_retry(actor=chen, messages=OutboxMessage.objects.all())


def test_the_command_delivers_and_reports() -> None:
    import io
    import json

    from django.core.management import call_command

    notification_queue(recipients=[UserFactory()], kind="k", title="t", body="b")
    out = io.StringIO()
    call_command("outbox_deliver", json=True, stdout=out)
    report = json.loads(out.getvalue())
    assert report["run"]["sent"] == 1
    assert report["outbox"] == {"sent": 1}
    out = io.StringIO()
    call_command("outbox_deliver", stdout=out)
    assert "Sent 0, failed 0 (will retry), dead 0." in out.getvalue()
    assert "Outbox: sent 1" in out.getvalue()
