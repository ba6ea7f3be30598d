"""Reads of the notifications app."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from gridgov.notifications.models import Notification, OutboxMessage, SupervisionRecord
from gridgov.people.selectors import scope_queryset


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


def outbox_status_counts() -> dict[str, int]:
    """Return ``{status: count}`` over the whole outbox (for the CLI and monitoring)."""
    rows = OutboxMessage.objects.values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}
