"""Vocabularies of the task engine."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskSource(models.TextChoices):
    ROUTINE = "routine", _("Routine (from a task rule)")
    DIRECTIVE = "directive", _("Directive (from the command centre)")
    WORKER_REPORT = "worker_report", _("Grid worker's report")
    RESIDENT_REPORT = "resident_report", _("Resident's report")
    ALARM = "alarm", _("IoT alarm")
    CAMPAIGN = "campaign", _("Campaign assignment slip")
    IMPORT = "import", _("Imported historical case")


#: The sources that are events (something happened), not planned work: reports by grid
#: workers and residents, IoT alarms and imported historical cases. Routine, directive and
#: campaign tasks repeat by design; hot spots count only events.
EVENT_SOURCES: tuple[str, ...] = (
    TaskSource.WORKER_REPORT,
    TaskSource.RESIDENT_REPORT,
    TaskSource.ALARM,
    TaskSource.IMPORT,
)


class TaskState(models.TextChoices):
    """The states of the one task life cycle (see ``Task`` and docs/tasks.md).

    Overdue, escalation, suspension and extension are flags on the task, not states.
    """

    REPORTED = "reported", _("Reported")
    REGISTERED = "registered", _("Registered")
    REJECTED = "rejected", _("Rejected")
    DISPATCHED = "dispatched", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted")
    SENT_BACK = "sent_back", _("Sent back")
    HANDLED = "handled", _("Handled")
    RETURNED = "returned", _("Returned for rework")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


#: States in which a task is still open (work remains).
OPEN_STATES: frozenset[str] = frozenset(
    {
        TaskState.REPORTED,
        TaskState.REGISTERED,
        TaskState.DISPATCHED,
        TaskState.ACCEPTED,
        TaskState.SENT_BACK,
        TaskState.HANDLED,
        TaskState.RETURNED,
    }
)
#: Final states.
FINAL_STATES: frozenset[str] = frozenset(
    {TaskState.REJECTED, TaskState.CLOSED, TaskState.CANCELLED}
)


class TaskAction(models.TextChoices):
    """What a timeline row records: a transition, or an action on a flag."""

    CREATE = "create", _("Created")
    REGISTER = "register", _("Registered")
    REJECT = "reject", _("Rejected")
    DISPATCH = "dispatch", _("Dispatched")
    ACCEPT = "accept", _("Accepted")
    SEND_BACK = "send_back", _("Sent back")
    SUBMIT_FEEDBACK = "submit_feedback", _("Feedback submitted")
    VERIFY_PASS = "verify_pass", _("Verified and closed")
    VERIFY_FAIL = "verify_fail", _("Returned for rework")
    TRANSFER = "transfer", _("Transferred")
    CANCEL = "cancel", _("Cancelled")
    SUSPEND = "suspend", _("Suspended")
    RESUME = "resume", _("Resumed")
    EXTENSION_REQUEST = "extension_request", _("Extension requested")
    EXTENSION_APPROVE = "extension_approve", _("Extension approved")
    EXTENSION_REJECT = "extension_reject", _("Extension refused")
    OVERDUE = "overdue", _("Overdue")
    ESCALATE = "escalate", _("Escalated")
    DUPLICATE = "duplicate", _("Duplicate report linked")
    COMMENT = "comment", _("Comment")


class ExtensionStatus(models.TextChoices):
    NONE = "", _("None")
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Refused")


class TrafficLight(models.TextChoices):
    """Green below 80% of the time limit used, yellow 80–100%, red past the deadline
    (GLOSSARY: 红黄绿灯)."""

    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class EscalationLevel(models.IntegerChoices):
    """The escalation ladder of an overdue task (督办): each step once."""

    NONE = 0, _("Not escalated")
    REMIND_ASSIGNEE = 1, _("Assignee reminded")
    NOTIFY_GRID_LEADER = 2, _("Grid leader notified")
    SUPERVISION = 3, _("Supervision by the command centre")
