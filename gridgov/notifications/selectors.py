"""Reads of the notifications app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from gridgov.notifications.models import Notification, OutboxMessage, SupervisionRecord
from gridgov.people.choices import Role
from gridgov.people.models import Membership
from gridgov.people.selectors import area_codes_visible_to, scope_queryset
from gridgov.tasks.models import Task


def notification_list_for(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    """Return ``user``'s inbox, newest first (only their own notifications)."""
    qs = Notification.objects.filter(recipient_id=getattr(user, "pk", None) or 0)
    if unread_only:
        qs = qs.filter(read_at=None)
    return qs.select_related("task")


def notification_unread_count(user: Any) -> int:
    """Return how many of ``user``'s notifications are unread (one indexed COUNT)."""
    return Notification.objects.filter(
        recipient_id=getattr(user, "pk", None) or 0, read_at=None
    ).count()


def supervision_list_open_visible_to(user: Any) -> QuerySet[SupervisionRecord]:
    """Return the open 督办 records of tasks inside ``user``'s areas, oldest first: the
    command centre's list of supervised tasks."""
    qs = SupervisionRecord.objects.filter(resolved_at=None).select_related(
        "task", "task__area", "task__assignee"
    )
    return scope_queryset(qs, user, area_field="task__area").order_by("created_at", "id")


def outbox_list_visible_to(user: Any) -> QuerySet[OutboxMessage]:
    """The outbox messages ``user`` may read: all for a superuser; for the command centre,
    the messages to people who hold a role inside its areas and the group messages (a
    webhook robot, no recipient) about tasks inside its areas — a street's centre never
    reads another street's traffic; none for anybody else."""
    codes = area_codes_visible_to(user, roles=[Role.COMMAND_CENTRE])
    if codes == [""]:
        return OutboxMessage.objects.all()
    if not codes:
        return OutboxMessage.objects.none()
    people = scope_queryset(Membership.objects.all(), user, roles=[Role.COMMAND_CENTRE])
    tasks = scope_queryset(Task.objects.all(), user, roles=[Role.COMMAND_CENTRE])
    return OutboxMessage.objects.annotate(
        task_ref=Cast(KeyTextTransform("task_id", "payload"), IntegerField())
    ).filter(
        Q(recipient__in=people.values("user_id"))
        | Q(recipient=None, task_ref__in=tasks.values("pk"))
    )


def outbox_status_counts() -> dict[str, int]:
    """Return ``{status: count}`` over the whole outbox (for the CLI and monitoring)."""
    rows = OutboxMessage.objects.values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}
