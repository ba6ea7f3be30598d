"""Vocabularies of the notifications app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    """Where an outbox message is in its delivery (see ``services.outbox_deliver``)."""

    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Dead (gave up)")


#: Statuses from which a message may be claimed for delivery (once due).
DELIVERABLE_STATUSES: tuple[str, ...] = (OutboxStatus.PENDING, OutboxStatus.FAILED)


class NotificationKind(models.TextChoices):
    """The kinds gridgov itself sends. ``Notification.kind`` accepts any short string, so
    other apps may add theirs; these are the ones the sweep uses."""

    OVERDUE_REMINDER = "overdue_reminder", _("Overdue: reminder to the assignee")
    ESCALATION_GRID_LEADER = "escalation_grid_leader", _("Overdue: grid leader notified")
    SUPERVISION = "supervision", _("Supervision by the command centre")


class SupervisionResolution(models.TextChoices):
    """Why a supervision (督办) record was resolved."""

    TASK_FINISHED = "task_finished", _("The task was closed, rejected or cancelled")
    MANUAL = "manual", _("Resolved by the command centre")
