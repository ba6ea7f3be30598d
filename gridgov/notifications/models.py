"""Notifications: the in-app inbox, the outbox of external messages and the supervision
(督办) records the command centre works from.

A notification is written in the caller's transaction (``services.notification_queue``):
one ``Notification`` row per recipient (the inbox) and one ``OutboxMessage`` per external
channel target. The outbox is delivered later, by ``services.outbox_deliver`` (the worker,
nudged on commit), with retries — so a rolled-back action sends nothing and a webhook that
is down delays messages instead of failing the action. See docs/notifications.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgov.notifications.choices import OutboxStatus, SupervisionResolution


class Notification(models.Model):
    """One message in one user's in-app inbox (unread while ``read_at`` is empty)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    task = models.ForeignKey(
        "tasks.Task",
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class OutboxMessage(models.Model):
    """One message for one external channel target, delivered with retries.

    ``target`` names where it goes without any secret: a user id for per-user channels
    (``log``), a label like ``wecom:qyapi.weixin.qq.com:1a2b3c4d5e6f`` for a webhook (the
    URL with its token stays in the environment; the label is its hash). ``next_attempt_at``
    is when the message is next due; while ``sending`` it is the end of the sender's lease,
    after which another worker may take the message over.
    """

    channel = models.CharField(_("channel"), max_length=32)
    target = models.CharField(_("target"), max_length=200)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=40)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # NULL, not "": most rows have none, and NULLs never clash under the unique constraint.
    dedupe_key = models.CharField(
        _("deduplication key"), max_length=200, null=True, blank=True, unique=True
    )

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.target}: {self.payload.get('title', '')}"


class SupervisionRecord(models.Model):
    """A 督办 (supervision) record: an overdue task put before the command centre.

    Written by the sweep at escalation level 3; resolved (``resolved_at``) by the sweep
    when the task is closed, rejected or cancelled, or by hand in the admin. At most one
    open record per task.
    """

    task = models.ForeignKey(
        "tasks.Task",
        verbose_name=_("task"),
        on_delete=models.CASCADE,
        related_name="supervision_records",
    )
    level = models.PositiveSmallIntegerField(_("escalation level"), default=3)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.CharField(
        _("resolution"), max_length=16, choices=SupervisionResolution.choices, blank=True
    )

    class Meta:
        verbose_name = _("supervision record")
        verbose_name_plural = _("supervision records")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(resolved_at__isnull=True),
                name="supervision_one_open_per_task",
            ),
        ]
        indexes = [models.Index(fields=["resolved_at"], name="supervision_resolved_idx")]

    def __str__(self) -> str:
        return f"督办 {self.task_id} L{self.level}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
