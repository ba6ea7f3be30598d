"""Writes of the notifications app: queue notifications, deliver the outbox, mark read,
resolve supervision records.

``notification_queue`` is what other apps call, inside their own transaction: the inbox
rows and outbox messages commit or roll back with the action that caused them, and a
delivery run is nudged only once the transaction has committed. ``outbox_deliver`` is the
worker's side (see docs/notifications.md for the claim, the lease and the backoff).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import PermissionDenied
from gridgov.notifications import selectors
from gridgov.notifications.bulk import rows_insert
from gridgov.notifications.channels import (
    DeliveryError,
    channel_get,
    channels_enabled,
    setting,
)
from gridgov.notifications.choices import (
    DELIVERABLE_STATUSES,
    OutboxStatus,
    SupervisionResolution,
)
from gridgov.notifications.models import Notification, OutboxMessage, SupervisionRecord
from gridgov.people.choices import Role
from gridgov.people.names import user_display_name
from gridgov.people.selectors import scope_queryset, user_holds_role

logger = logging.getLogger("gridgov.notifications")

#: Retries: after the n-th failed attempt wait 2^(n-1) minutes (1, 2, 4 … 64); after
#: ``GRIDGOV_OUTBOX_MAX_ATTEMPTS`` (default 8, ≈ 2 h of trying) the message is dead.
DEFAULT_MAX_ATTEMPTS = 8
#: How long a claimed message stays with its sender before another worker may retry it
#: (a sender killed mid-send must not strand the message). Far above one send's timeout.
CLAIM_LEASE = dt.timedelta(minutes=5)
NOTIFICATION_COLUMNS = ("recipient_id", "kind", "title", "body", "task_id", "data", "created_at")
OUTBOX_COLUMNS = (
    "channel",
    "target",
    "recipient_id",
    "kind",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "dedupe_key",
)


@dataclass(frozen=True)
class NotificationSpec:
    """One notification for ``notification_queue_many``: the same message to each of
    ``recipient_ids``. ``recipient_names`` (optional) are shown in group messages;
    ``dedupe_key``, when given, makes each outbox message unique (``<key>:<channel>:<target>``)
    so that queueing the same event twice sends it once."""

    recipient_ids: Sequence[int]
    kind: str
    title: str
    body: str = ""
    task_id: int | None = None
    task_number: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    recipient_names: Sequence[str] = ()
    dedupe_key: str | None = None


def _payload(spec: NotificationSpec, *, group: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"title": spec.title, "body": spec.body, "kind": spec.kind}
    if spec.task_id is not None:
        payload["task_id"] = spec.task_id
    if spec.task_number:
        payload["task_number"] = spec.task_number
    if spec.data:
        payload["data"] = spec.data
    if group and spec.recipient_names:
        payload["recipients"] = list(spec.recipient_names)
    return payload


def notification_queue_many(
    *, items: Iterable[NotificationSpec], now: dt.datetime | None = None
) -> int:
    """Queue many notifications at once (bulk inserts; for the sweep and other batch jobs).

    For each item and each recipient: an inbox row (when the ``inbox`` channel is on) and
    an outbox message per per-recipient channel; for each item, one outbox message per
    group-channel target (webhook robots). Duplicate recipient ids within an item are sent
    once. Returns the number of inbox rows written. Call it inside the caller's transaction;
    delivery is nudged after commit.
    """
    now = now or timezone.now()
    channels = channels_enabled()
    inbox = any(not c.uses_outbox for c in channels)
    outbound = [c for c in channels if c.uses_outbox]
    group_targets = {c.name: c.group_targets() for c in outbound if not c.per_recipient}
    notifications: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    for spec in items:
        recipients = list(dict.fromkeys(r for r in spec.recipient_ids if r is not None))
        if not recipients:
            continue
        if inbox:
            data = spec.data or {}
            title = spec.title[:200]
            notifications.extend(
                (user_id, spec.kind, title, spec.body, spec.task_id, data, now)
                for user_id in recipients
            )
        for channel in outbound:
            if not channel.accepts(spec.kind):
                continue
            targets: list[tuple[str, int | None]]
            if channel.per_recipient:
                targets = [(str(user_id), user_id) for user_id in recipients]
            else:
                targets = [(label, None) for label in group_targets[channel.name]]
            payload = _payload(spec, group=not channel.per_recipient)
            messages.extend(
                (
                    channel.name,
                    target,
                    user_id,
                    spec.kind,
                    payload,
                    OutboxStatus.PENDING.value,
                    0,
                    now,
                    "",
                    now,
                    f"{spec.dedupe_key}:{channel.name}:{target}"[:200] if spec.dedupe_key else None,
                )
                for target, user_id in targets
            )
    with transaction.atomic():
        rows_insert(Notification, NOTIFICATION_COLUMNS, notifications)
        # A dedupe key already queued means "already sent or on its way": skip the row.
        deduped = any(m[-1] is not None for m in messages)
        rows_insert(OutboxMessage, OUTBOX_COLUMNS, messages, ignore_conflicts=deduped)
    if messages:
        _nudge_delivery()
    return len(notifications)


def notification_queue(
    *,
    recipients: Iterable[Any],
    kind: str,
    title: str,
    body: str,
    task: Any = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Queue one notification to ``recipients`` (users; ``None`` and duplicates skipped).

    Inputs: ``kind`` a short code (e.g. ``"task_dispatched"``, see ``NotificationKind``),
    ``title`` (≤ 200 characters) and ``body`` as the user should read them (already
    translated), ``task`` the task it is about, ``data`` extra JSON for the UI. Writes the
    inbox rows and outbox messages of the enabled channels
    (``GRIDGOV_NOTIFICATION_CHANNELS``) in the caller's transaction; nothing is sent here.
    """
    users = [u for u in recipients if u is not None and getattr(u, "pk", None)]
    spec = NotificationSpec(
        recipient_ids=[u.pk for u in users],
        kind=kind,
        title=title,
        body=body,
        task_id=getattr(task, "pk", None),
        task_number=getattr(task, "number", "") or "",
        data=data or {},
        recipient_names=[user_display_name(u) for u in users],
    )
    notification_queue_many(items=[spec])


# --- Delivery ------------------------------------------------------------------------------


def _enqueue_delivery() -> None:
    try:
        from gridgov.tasks.jobs import outbox_deliver_soon

        outbox_deliver_soon()
    except Exception:
        # The periodic delivery job picks the messages up within a minute anyway.
        logger.warning("could not nudge the outbox delivery job", exc_info=True)


def _nudge_delivery() -> None:
    """Ask the worker to deliver soon, once per transaction, after it commits."""
    if not setting("GRIDGOV_OUTBOX_NUDGE", True):
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        func is _enqueue_delivery for _savepoints, func, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(_enqueue_delivery, robust=True)


def outbox_backoff(attempts: int) -> dt.timedelta:
    """Return the wait before the next try after ``attempts`` failed tries: 2^(n-1) minutes."""
    return dt.timedelta(minutes=2 ** max(attempts - 1, 0))


def outbox_deliver(*, now: dt.datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Deliver up to ``limit`` due outbox messages; return counts by outcome.

    Each message is claimed with a compare-and-set (``UPDATE … SET status='sending' WHERE
    id=? AND status IN ('pending','failed') AND next_attempt_at <= now``) so that any
    number of workers can run this at once and each message is sent by one of them. A
    claim is a lease of ``CLAIM_LEASE``: a message left ``sending`` past it (its sender
    died) is returned to the queue first. A failed send is retried after 1, 2, 4 …
    minutes; after ``GRIDGOV_OUTBOX_MAX_ATTEMPTS`` (default 8) it is ``dead``.

    Deliberately not one transaction: each claim and each outcome commits on its own, so
    other workers see them at once and a network wait holds no lock. Output keys:
    ``claimed``, ``sent``, ``failed`` (will retry), ``dead``, ``lost`` (another worker
    claimed it first), ``recovered`` (stale claims put back).
    """
    now = now or timezone.now()
    max_attempts = int(setting("GRIDGOV_OUTBOX_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    counts = dict.fromkeys(("claimed", "sent", "failed", "dead", "lost", "recovered"), 0)
    counts["recovered"] = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, next_attempt_at__lte=now
    ).update(status=OutboxStatus.FAILED, last_error=_("The sender's claim expired."))
    due = list(
        OutboxMessage.objects.filter(status__in=DELIVERABLE_STATUSES, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for message_id in due:
        if not outbox_claim(message_id=message_id, now=now):
            counts["lost"] += 1  # another worker got there first
            continue
        counts["claimed"] += 1
        message = OutboxMessage.objects.get(id=message_id)
        outcome = _send_one(message, now=now, max_attempts=max_attempts)
        counts[outcome] += 1
    return counts


def outbox_claim(*, message_id: int, now: dt.datetime) -> bool:
    """Claim one due message for sending (compare-and-set); tell whether this call won.

    ``UPDATE … SET status='sending', attempts=attempts+1, next_attempt_at=now+lease WHERE
    id=? AND status IN ('pending','failed') AND next_attempt_at <= now``: of any number of
    workers holding the same id, exactly one changes the row.
    """
    claimed = OutboxMessage.objects.filter(
        id=message_id, status__in=DELIVERABLE_STATUSES, next_attempt_at__lte=now
    ).update(
        status=OutboxStatus.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + CLAIM_LEASE,
    )
    return claimed == 1


def _send_one(message: OutboxMessage, *, now: dt.datetime, max_attempts: int) -> str:
    mine = OutboxMessage.objects.filter(id=message.pk, status=OutboxStatus.SENDING)
    channel = channel_get(message.channel)
    try:
        if channel is None:
            raise DeliveryError(f"unknown channel {message.channel!r}")
        channel.send(message)
    except Exception as exc:
        if not isinstance(exc, DeliveryError):
            logger.exception("outbox message %s: unexpected error", message.pk)
        error = str(exc) or exc.__class__.__name__
        if message.attempts >= max_attempts or channel is None:
            mine.update(status=OutboxStatus.DEAD, last_error=error[:2000])
            logger.error("outbox message %s is dead: %s", message.pk, error)
            return "dead"
        mine.update(
            status=OutboxStatus.FAILED,
            last_error=error[:2000],
            next_attempt_at=now + outbox_backoff(message.attempts),
        )
        return "failed"
    mine.update(status=OutboxStatus.SENT, sent_at=now, last_error="")
    return "sent"


def _require_outbox_admin(actor: Any) -> None:
    superuser = getattr(actor, "is_superuser", False) and getattr(actor, "is_active", False)
    if not superuser and not user_holds_role(actor, [Role.COMMAND_CENTRE]):
        raise PermissionDenied(_("Only the command centre may do this."))


def outbox_retry(
    *, actor: Any, messages: QuerySet[OutboxMessage], now: dt.datetime | None = None
) -> int:
    """Put failed or dead ``messages`` back in the queue, due now, with a fresh count of
    attempts. Only messages ``actor`` may read count (``selectors.outbox_list_visible_to``).
    Returns how many were requeued. Raises ``PermissionDenied`` unless ``actor`` is a
    superuser or holds the command-centre role."""
    _require_outbox_admin(actor)
    now = now or timezone.now()
    visible = selectors.outbox_list_visible_to(actor).values("pk")
    with transaction.atomic():
        count = (
            messages.filter(pk__in=visible)
            .filter(status__in=[OutboxStatus.FAILED, OutboxStatus.DEAD])
            .update(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now)
        )
    if count:
        _nudge_delivery()
    return count


# --- Inbox and supervision -----------------------------------------------------------------


def notification_mark_read(
    *, actor: Any, ids: Iterable[int] | None = None, now: dt.datetime | None = None
) -> int:
    """Mark ``actor``'s unread notifications read (those with ``ids``, else all of them).

    Other users' notifications are never touched. Returns how many were marked.
    """
    now = now or timezone.now()
    qs = Notification.objects.filter(recipient_id=getattr(actor, "pk", None), read_at=None)
    if ids is not None:
        qs = qs.filter(id__in=list(ids))
    with transaction.atomic():
        return qs.update(read_at=now)


def supervision_resolve(
    *,
    actor: Any,
    records: QuerySet[SupervisionRecord],
    note: str = "",
    now: dt.datetime | None = None,
) -> int:
    """Resolve open supervision records by hand: the command centre, in its own areas.

    Records outside the areas where ``actor`` holds the command-centre role (all, for a
    superuser) are left alone. Returns how many were resolved. Raises ``PermissionDenied``
    for an actor without that role. (The sweep resolves, on its own, the records of tasks
    that have finished.)
    """
    _require_outbox_admin(actor)
    now = now or timezone.now()
    with transaction.atomic():
        qs = scope_queryset(
            records.filter(resolved_at=None),
            actor,
            area_field="task__area",
            roles=[Role.COMMAND_CENTRE],
        )
        if note:
            qs.filter(note="").update(note=note)
        return qs.update(
            resolved_at=now, resolved_by=actor, resolution=SupervisionResolution.MANUAL
        )
