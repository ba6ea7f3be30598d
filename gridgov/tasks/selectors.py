"""Reads of the task engine: scoped lists, one task, its timeline, the traffic light.

The traffic light (红黄绿灯, GLOSSARY) measures how much of a task's time limit is used:
green below 80%, yellow from 80% up to the deadline, red past it. Time is counted from
the moment the clock started (``dispatched_at``, else ``reported_at``, else
``created_at``) to the deadline — in *working* time when the task's rule counts in
working days or hours (``core.calendar.working_time_between``: a weekend or a holiday
in the window does not use up the limit), in elapsed time otherwise. The 80% instant is
stored on the task as ``yellow_at`` (``task_yellow_at`` computes it) whenever the
deadline is set or moved, so the list filter is a plain indexed comparison. A finished
task keeps the light it had when it finished; a suspended task the light it had when it
was suspended; a task without a deadline is green.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.areas.models import Area
from gridgov.core.calendar import CALENDAR_UNITS, WorkingCalendar, calendar_current
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.people.choices import Role
from gridgov.people.selectors import scope_queryset, user_memberships
from gridgov.tasks.choices import OPEN_STATES, TaskSource, TaskState, TrafficLight
from gridgov.tasks.models import Task, TaskEvent

__all__ = [
    "YELLOW_SHARE",
    "task_clock_start",
    "task_get_visible",
    "task_light_annotate",
    "task_light_q",
    "task_list_visible_to",
    "task_timeline",
    "task_traffic_light",
    "task_yellow_at",
]

#: Roles that see every task in their areas. A department handler's membership sits on
#: the area the department serves (often the whole street) and does not open every grid's
#: tasks to them: they see their department's queue and their own tasks.
AREA_ROLES = frozenset(set(Role.values) - {Role.DEPARTMENT_HANDLER})
#: Share of the time limit after which the light turns yellow (GLOSSARY: 红黄绿灯).
YELLOW_SHARE = Decimal("0.8")
_MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)


# --- the traffic light -----------------------------------------------------------------


def task_yellow_at(
    *,
    start: dt.datetime,
    deadline: dt.datetime,
    unit: str | None = None,
    calendar: WorkingCalendar | None = None,
) -> dt.datetime:
    """Return the instant 80% of the time from ``start`` to ``deadline`` is used up.

    ``start``, ``deadline``: aware datetimes (the clock start and the deadline);
    ``unit``: the time limit's unit (a ``TimeLimitUnit`` value). For ``work_day`` and
    ``work_hour`` the time counted is working time on the working calendar (periods of
    ``GRIDGOV_WORKING_HOURS`` on working days), otherwise elapsed time. ``calendar``: a
    snapshot from ``calendar_current()`` for bulk use (no queries). A deadline at or
    before ``start`` (or a window without working time) gives ``start``: the limit is
    used up at once. Source of the 80%: the traffic light of GLOSSARY (红黄绿灯).
    """
    if deadline <= start:
        return start
    if unit in CALENDAR_UNITS:
        cal = calendar if calendar is not None else calendar_current()
        total = cal.working_time_between(start, deadline, warn=False)
        micro = total // dt.timedelta(microseconds=1)
        if micro <= 0:
            return start
        hours = (Decimal(micro) * YELLOW_SHARE) / _MICROSECONDS_PER_HOUR
        if hours <= 0:
            return start
        return cal.deadline(start, hours, "work_hour", warn=False)
    elapsed = deadline - start
    return start + dt.timedelta(microseconds=int((elapsed // dt.timedelta(microseconds=1)) * 0.8))


def task_clock_start(task: Task) -> dt.datetime:
    """Return when the task's time limit started: dispatched, else reported, else created."""
    return task.dispatched_at or task.reported_at or task.created_at or timezone.now()


def _light_instant(task: Task, now: dt.datetime) -> dt.datetime:
    """The instant the light is read at: the finish, the suspension, or ``now``."""
    return task.closed_at or task.cancelled_at or task.suspended_at or now


def task_traffic_light(task: Task, *, now: dt.datetime | None = None) -> TrafficLight:
    """Return the task's traffic light at ``now`` (default: the current time).

    Green before ``yellow_at`` (80% of the time limit used), yellow from then up to and
    including the deadline, red after it (see the module docstring for how time is
    counted, and for finished and suspended tasks). No deadline: green. Uses the stored
    ``yellow_at``; computes it (one calendar check) when it is missing.
    """
    if task.deadline is None:
        return TrafficLight.GREEN
    at = _light_instant(task, now or timezone.now())
    if at > task.deadline:
        return TrafficLight.RED
    yellow_at = task.yellow_at
    if yellow_at is None:
        unit = task.rule.time_limit_unit if task.rule is not None else None
        yellow_at = task_yellow_at(start=task_clock_start(task), deadline=task.deadline, unit=unit)
    return TrafficLight.YELLOW if at >= yellow_at else TrafficLight.GREEN


def task_light_annotate(qs: QuerySet[Task], *, now: dt.datetime) -> QuerySet[Task]:
    """Annotate each task with ``light`` (a ``TrafficLight`` value) at ``now``.

    The same rules as ``task_traffic_light``, in SQL: red when the deadline is before the
    reading instant (the finish, the suspension or ``now``), yellow from ``yellow_at``,
    else green (and green without a deadline).
    """
    instant = Coalesce("closed_at", "cancelled_at", "suspended_at", Value(now))
    return qs.annotate(
        light=Case(
            When(deadline__isnull=True, then=Value(TrafficLight.GREEN.value)),
            When(deadline__lt=instant, then=Value(TrafficLight.RED.value)),
            When(yellow_at__lte=instant, then=Value(TrafficLight.YELLOW.value)),
            default=Value(TrafficLight.GREEN.value),
            output_field=CharField(),
        )
    )


def task_light_q(light: str, *, now: dt.datetime) -> Q:
    """Return the filter "the light is ``light`` at ``now``", as comparisons on indexed columns.

    Open, unsuspended tasks compare with ``now``; finished and suspended tasks with the
    instant they stopped (see ``task_light_annotate``), which needs a column comparison.
    """
    running = Q(closed_at__isnull=True, cancelled_at__isnull=True, suspended_at__isnull=True)
    stopped = ~running
    instant = Coalesce("closed_at", "cancelled_at", "suspended_at")
    red = Q(deadline__isnull=False) & (
        (running & Q(deadline__lt=now)) | (stopped & Q(deadline__lt=instant))
    )
    yellow = Q(deadline__isnull=False) & (
        (running & Q(yellow_at__lte=now, deadline__gte=now))
        | (stopped & Q(yellow_at__lte=instant, deadline__gte=instant))
    )
    if light == TrafficLight.RED:
        return red
    if light == TrafficLight.YELLOW:
        return yellow
    if light == TrafficLight.GREEN:
        return Q(deadline__isnull=True) | (Q(deadline__isnull=False) & ~red & ~yellow)
    raise ValidationFailed(
        _("Unknown traffic light %(light)r; use one of %(lights)s.")
        % {"light": light, "lights": ", ".join(TrafficLight.values)},
        details={"light": light},
    )


# --- lists -------------------------------------------------------------------------------


def _department_ids(user: Any) -> list[int]:
    return [
        m.department_id
        for m in user_memberships(user)
        if m.role == Role.DEPARTMENT_HANDLER and m.department_id
    ]


def _as_aware(value: dt.date | dt.datetime, *, end: bool) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            raise ValidationFailed(
                _("%(value)s has no time zone; give an offset like +08:00.")
                % {"value": value.isoformat()}
            )
        return value
    day = value + dt.timedelta(days=1) if end else value
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def task_list_visible_to(
    user: Any,
    *,
    state: str | list[str] | None = None,
    area: Area | None = None,
    assignee: Any = None,
    source: str | None = None,
    task_type: Any = None,
    overdue: bool | None = None,
    light: str | None = None,
    date_from: dt.date | dt.datetime | None = None,
    date_to: dt.date | dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Task]:
    """Return the tasks ``user`` may see, filtered.

    Scope: tasks whose area lies inside the user's areas (``people.selectors
    .scope_queryset`` over every role but department handler; superusers see all), plus
    the tasks assigned to the user (a grid worker sees a task transferred to them from
    another grid) and, for a department handler, the tasks of their department.

    Filters (all optional, combined with AND): ``state`` (a value or a list), ``area``
    (the area and everything inside it), ``assignee`` (a user or id), ``source``,
    ``task_type`` (a ``TaskType`` or id), ``overdue`` (the flag), ``light``
    (``green``/``yellow``/``red`` at ``now``), ``date_from`` / ``date_to`` (creation
    time; dates are local days, ``date_to`` inclusive).

    Ordered newest first; ``area``, ``task_type``, ``assignee`` and
    ``department`` are joined. Raises ``ValidationFailed`` for an unknown state, source
    or light.
    """
    base = Task.objects.all()
    scoped = scope_queryset(base, user, roles=AREA_ROLES)
    user_id = getattr(user, "pk", None) if getattr(user, "is_active", False) else None
    if user_id and _is_limited(user):
        extra = Q(assignee_id=user_id)
        departments = _department_ids(user)
        if departments:
            extra |= Q(department_id__in=departments)
        scoped = scoped | base.filter(extra)
    qs = scoped.select_related("area", "task_type", "assignee", "department")
    if state:
        states = [state] if isinstance(state, str) else list(state)
        unknown = sorted(set(states) - set(TaskState.values))
        if unknown:
            raise ValidationFailed(
                _("Unknown state %(state)s; use one of %(states)s.")
                % {"state": ", ".join(unknown), "states": ", ".join(TaskState.values)},
                details={"state": unknown},
            )
        qs = qs.filter(state__in=states)
    if area is not None:
        qs = qs.filter(area__code__startswith=area.code)
    if assignee is not None:
        qs = qs.filter(assignee_id=getattr(assignee, "pk", assignee))
    if source:
        if source not in TaskSource.values:
            raise ValidationFailed(
                _("Unknown source %(source)s; use one of %(sources)s.")
                % {"source": source, "sources": ", ".join(TaskSource.values)},
                details={"source": source},
            )
        qs = qs.filter(source=source)
    if task_type is not None:
        qs = qs.filter(task_type_id=getattr(task_type, "pk", task_type))
    if overdue is not None:
        qs = qs.filter(is_overdue=overdue)
    if light:
        qs = qs.filter(task_light_q(light, now=now or timezone.now()))
    if date_from is not None:
        qs = qs.filter(created_at__gte=_as_aware(date_from, end=False))
    if date_to is not None:
        if isinstance(date_to, dt.datetime):
            qs = qs.filter(created_at__lte=_as_aware(date_to, end=True))
        else:
            qs = qs.filter(created_at__lt=_as_aware(date_to, end=True))
    return qs.order_by("-created_at", "-id")


def _is_limited(user: Any) -> bool:
    """Whether the user's scope is limited (not a superuser with every area)."""
    return not (getattr(user, "is_active", False) and getattr(user, "is_superuser", False))


def task_get_visible(user: Any, pk: int) -> Task:
    """Return task ``pk`` if ``user`` may see it (as ``task_list_visible_to``).

    Raises ``NotFound`` when it does not exist or lies outside the user's scope (the two
    are not told apart, so that task ids do not leak).
    """
    task = task_list_visible_to(user).filter(pk=pk).first()
    if task is None:
        raise NotFound(_("Task %(pk)s not found.") % {"pk": pk}, details={"id": pk})
    return task


def task_timeline(task: Task) -> QuerySet[TaskEvent]:
    """Return the task's timeline rows, oldest first, with actors and attachments."""
    return (
        TaskEvent.objects.filter(task=task)
        .select_related("actor")
        .prefetch_related("attachments")
        .order_by("at", "id")
    )


def task_is_open_q() -> Q:
    """The filter "the task is open" (see ``choices.OPEN_STATES``)."""
    return Q(state__in=OPEN_STATES)
