"""The task (case) engine's data: one ``Task`` for every piece of work, its append-only
timeline of ``TaskEvent`` rows, attachments, directives and the number counter.

The life cycle is declared once, here, as django-fsm-2 transitions on ``Task.state``
(``ConcurrentTransitionMixin`` turns every save after a transition into a compare-and-set
on the state, so two racing actors cannot both win). Services in ``services.py`` call the
transitions; nothing else changes ``state``. See docs/tasks.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from gridgov.catalog.choices import Priority
from gridgov.core.models import TimeStampedModel
from gridgov.tasks.choices import (
    OPEN_STATES,
    EscalationLevel,
    ExtensionStatus,
    TaskAction,
    TaskSource,
    TaskState,
)

S = TaskState
#: States from which a task may be transferred to another grid, worker or department.
TRANSFERABLE_STATES = [S.DISPATCHED, S.ACCEPTED, S.SENT_BACK, S.RETURNED]


class Directive(TimeStampedModel):
    """An instruction from the command centre to a set of areas, with a deadline.

    One task per grid of ``areas`` (see ``services.directive_issue``); progress is the
    aggregate of those tasks. An optional indicator target (e.g. patrol coverage ≥ 95%)
    is tracked per grid over ``indicator_period_start``–``indicator_period_end``.
    """

    title = models.CharField(_("title"), max_length=200)
    instruction = models.TextField(_("instruction"))
    task_type = models.ForeignKey(
        "catalog.TaskType", verbose_name=_("task type"), on_delete=models.PROTECT
    )
    deadline = models.DateTimeField(_("deadline"))
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    areas = models.ManyToManyField("areas.Area", verbose_name=_("areas"), related_name="+")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    indicator = models.CharField(_("indicator"), max_length=64, blank=True)
    indicator_target = models.DecimalField(
        _("indicator target (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    indicator_period_start = models.DateField(_("indicator period from"), null=True, blank=True)
    indicator_period_end = models.DateField(_("indicator period to"), null=True, blank=True)

    class Meta:
        verbose_name = _("directive")
        verbose_name_plural = _("directives")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class TaskNumberCounter(models.Model):
    """The last number handed out on a day: task numbers are ``YYYYMMDD-NNNNNN``.

    Numbers are allocated in blocks with one ``UPDATE … SET last = last + n`` so bulk
    generation costs one statement per batch (see ``services.task_numbers_allocate``).
    """

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("task number counter")
        verbose_name_plural = _("task number counters")

    def __str__(self) -> str:
        return f"{self.day:%Y%m%d}: {self.last}"


class Task(ConcurrentTransitionMixin, TimeStampedModel):
    """One piece of work, whatever its source, in one life cycle.

    ``source_key`` makes every automatic source idempotent: ``routine:<rule>:<target>:
    <occurrence>``, ``import:<old number>``, ``alarm:<alarm id>``, ``campaign:<slip id>``;
    a rerun that would create the same task hits the unique key instead. ``location`` is
    WGS84 (``lon``, ``lat``). ``deadline`` comes from the rule's or type's time limit on the
    working calendar; ``deadline_original`` keeps it before any extension.
    """

    number = models.CharField(_("number"), max_length=20, unique=True)
    source = models.CharField(_("source"), max_length=16, choices=TaskSource.choices)
    source_key = models.CharField(
        _("source key"), max_length=200, null=True, blank=True, unique=True, editable=False
    )
    task_type = models.ForeignKey(
        "catalog.TaskType", verbose_name=_("task type"), on_delete=models.PROTECT
    )
    rule = models.ForeignKey(
        "catalog.TaskRule",
        verbose_name=_("task rule"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    directive = models.ForeignKey(
        Directive,
        verbose_name=_("directive"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    occurrence = models.DateTimeField(_("occurrence"), null=True, blank=True)
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="tasks"
    )
    target_household = models.ForeignKey(
        "people.Household",
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    target_place = models.ForeignKey(
        "people.Place",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    state = FSMField(
        _("state"), max_length=16, choices=TaskState.choices, default=S.REPORTED, protected=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tasks",
    )
    department = models.ForeignKey(
        "people.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    needs_attention = models.BooleanField(
        _("needs attention"),
        default=False,
        help_text=_("No grid worker could be found: the task waits in the grid leader's queue."),
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_tasks",
    )
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    deadline_original = models.DateTimeField(_("original deadline"), null=True, blank=True)
    # Derived from deadline, stored so that the traffic-light filter is a plain indexed
    # comparison (see selectors.task_yellow_at); every service that moves the deadline
    # moves it too.
    yellow_at = models.DateTimeField(
        _("yellow from"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When 80 per cent of the time limit is used up and the light turns yellow."),
    )
    # The timestamp of each step.
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # Flags, not states.
    is_overdue = models.BooleanField(_("overdue"), default=False)
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("rework count"), default=0)
    extension_status = models.CharField(
        _("extension"), max_length=10, choices=ExtensionStatus.choices, blank=True, default=""
    )
    extension_requested_until = models.DateTimeField(
        _("extension requested until"), null=True, blank=True
    )
    extension_count = models.PositiveSmallIntegerField(_("extensions granted"), default=0)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspension_reason = models.CharField(_("suspension reason"), max_length=200, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        help_text=_(
            "A resident's report of a problem already reported here: linked to the first "
            "task, never dispatched itself (see services.task_duplicate_find)."
        ),
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "deadline"], name="task_state_deadline_idx"),
            models.Index(fields=["area", "state"], name="task_area_state_idx"),
            models.Index(fields=["assignee", "state"], name="task_assignee_state_idx"),
            models.Index(fields=["deadline"], name="task_deadline_idx"),
            models.Index(fields=["state", "yellow_at"], name="task_state_yellow_idx"),
            models.Index(fields=["source", "created_at"], name="task_source_created_idx"),
            # Generation reads the keys of a rule's occurrences in its window.
            models.Index(fields=["rule", "occurrence"], name="task_rule_occurrence_idx"),
            # The figures (analytics): an area's tasks created, due or closed in a period.
            models.Index(fields=["area", "created_at"], name="task_area_created_idx"),
            models.Index(fields=["area", "deadline"], name="task_area_deadline_idx"),
            models.Index(fields=["area", "closed_at"], name="task_area_closed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=TaskState.values), name="task_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=TaskSource.values), name="task_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(escalation_level__gte=0, escalation_level__lte=3),
                name="task_escalation_level_valid",
            ),
            models.CheckConstraint(
                condition=Q(lon__isnull=True, lat__isnull=True)
                | Q(lon__gte=-180, lon__lte=180, lat__gte=-90, lat__lte=90),
                name="task_location_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    # --- the life cycle: every state change is one of these transitions --------------------
    # Each only moves ``state``; the services set timestamps, assignee and the timeline row.

    @transition(field=state, source=S.REPORTED, target=S.REGISTERED)
    def register(self) -> None:
        """立案: a report accepted as a case."""

    @transition(field=state, source=S.REPORTED, target=S.REJECTED)
    def reject(self) -> None:
        """不予立案: a report that is not a case."""

    @transition(field=state, source=[S.REGISTERED, S.SENT_BACK], target=S.DISPATCHED)
    def dispatch(self) -> None:
        """派遣: to a grid worker, a department or a grid leader's queue."""

    @transition(field=state, source=S.DISPATCHED, target=S.ACCEPTED)
    def accept(self) -> None:
        """签收: the assignee takes the task."""

    @transition(field=state, source=S.DISPATCHED, target=S.SENT_BACK)
    def send_back(self) -> None:
        """回退: the assignee returns it to the dispatcher as not theirs."""

    @transition(field=state, source=[S.ACCEPTED, S.RETURNED], target=S.HANDLED)
    def submit_feedback(self) -> None:
        """处置反馈: handled, with evidence."""

    @transition(field=state, source=S.HANDLED, target=S.CLOSED)
    def verify_pass(self) -> None:
        """核查通过 → 结案."""

    @transition(field=state, source=S.HANDLED, target=S.RETURNED)
    def verify_fail(self) -> None:
        """核查不通过 → 返工 (back to the assignee)."""

    @transition(field=state, source=TRANSFERABLE_STATES, target=S.DISPATCHED)
    def transfer(self) -> None:
        """转派: to another grid, worker or department; it arrives dispatched."""

    @transition(field=state, source=list(OPEN_STATES), target=S.CANCELLED)
    def cancel(self) -> None:
        """作废: from any open state."""


def attachment_path(instance: TaskAttachment, filename: str) -> str:
    return f"tasks/{instance.task_id}/{filename}"


class TaskEvent(models.Model):
    """One row of a task's append-only timeline: who did what, when, from which state to
    which, with a note, the actor's location (WGS84 lon/lat) and structured ``data``
    (form answers, the new deadline of an extension, the escalation level…).

    ``idempotency_key`` (unique per task) makes a double submission of the same action
    harmless: the second finds the first's row and changes nothing.
    """

    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("action"), max_length=20, choices=TaskAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), db_index=True)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    # NULL, not "": many rows have no key, and NULLs never clash under the unique constraint.
    idempotency_key = models.CharField(  # noqa: DJ001
        _("idempotency key"), max_length=100, null=True, blank=True
    )

    class Meta:
        verbose_name = _("task event")
        verbose_name_plural = _("task events")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "idempotency_key"], name="task_event_idempotency_unique"
            ),
            models.CheckConstraint(
                condition=Q(action__in=TaskAction.values), name="task_event_action_valid"
            ),
        ]
        indexes = [models.Index(fields=["task", "at"], name="task_event_task_at_idx")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.action} @ {self.at:%Y-%m-%d %H:%M}"


class TaskAttachment(models.Model):
    """A photo or file attached to a timeline row (size and type checked by the service)."""

    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="attachments"
    )
    event = models.ForeignKey(
        TaskEvent,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    kind = models.CharField(
        _("kind"), max_length=16, blank=True, help_text=_("e.g. before / after for campaigns")
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.file.name or ""
