"""Writes of the task engine: create, number, and one service per transition.

Every transition service follows one pattern (docs/tasks.md, "Life cycle"):

1. an ``idempotency_key`` already on the task's timeline → return the task unchanged;
2. in one ``transaction.atomic()``: load the task fresh (``SELECT … FOR UPDATE`` where the
   database has it), check the actor's role and area (``actor=None`` is the system and
   may do anything), call the django-fsm transition (a wrong state →
   ``Conflict(code="state_conflict")``), set the step's timestamp and fields, ``save()``
   — a compare-and-set on ``state`` (``ConcurrentTransitionMixin``): a racing actor who
   moved the task first makes it fail with ``Conflict(code="state_conflict")`` — write
   the timeline row, queue the notifications (outbox rows in the same transaction, so
   they are delivered only if it commits).

Roles (``people.choices.Role``), checked over the task's area:

- dispatchers (register, reject, dispatch, transfer, cancel, suspend, resume, decide an
  extension): command centre, community admin, grid leader;
- verifiers: the same roles, never the task's assignee;
- handlers (accept, send back, submit feedback, request an extension): the assignee, or
  for a task in a department's queue a handler of that department.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from gridgov.areas.models import Area, AreaLevel
from gridgov.areas.selectors import area_locate
from gridgov.catalog.choices import Priority
from gridgov.catalog.models import TaskRule, TaskType
from gridgov.core.calendar import CALENDAR_UNITS, deadline_compute, working_time_between
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.core.validators import YEAR_MAX, YEAR_MIN, year_in_range
from gridgov.people.choices import Role
from gridgov.people.models import Department, Household, Membership, Place
from gridgov.people.selectors import user_can_access_area, user_memberships
from gridgov.tasks import evidence
from gridgov.tasks.choices import (
    OPEN_STATES,
    EscalationLevel,
    ExtensionStatus,
    TaskAction,
    TaskSource,
    TaskState,
)
from gridgov.tasks.models import Directive, Task, TaskAttachment, TaskEvent, TaskNumberCounter
from gridgov.tasks.routing import Route, route_task
from gridgov.tasks.selectors import task_clock_start, task_yellow_at

logger = logging.getLogger(__name__)

__all__ = [
    "DISPATCHER_ROLES",
    "EXTENSION_STATES",
    "VERIFIER_ROLES",
    "task_accept",
    "task_cancel",
    "task_create",
    "task_deadline_set",
    "task_dispatch",
    "task_duplicate_find",
    "task_event_record",
    "task_extension_decide",
    "task_extension_request",
    "task_numbers_allocate",
    "task_register",
    "task_reject",
    "task_resume",
    "task_send_back",
    "task_started",
    "task_submit_feedback",
    "task_suspend",
    "task_transfer",
    "task_verify",
]

#: Roles that register, dispatch, transfer, cancel, suspend and decide extensions.
DISPATCHER_ROLES: frozenset[str] = frozenset(
    {Role.COMMAND_CENTRE, Role.COMMUNITY_ADMIN, Role.GRID_LEADER}
)
#: Roles that verify handled tasks (核查); never the assignee themself.
VERIFIER_ROLES: frozenset[str] = DISPATCHER_ROLES
#: States in which the handler still works on a task, so an extension may be asked for
#: (not once it is handed in: handled, nor before dispatch or after a send-back).
EXTENSION_STATES: frozenset[str] = frozenset(
    {TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.RETURNED}
)
#: Sources whose tasks start dispatched (no report to register first).
DISPATCHED_SOURCES = frozenset(
    {TaskSource.ROUTINE, TaskSource.DIRECTIVE, TaskSource.CAMPAIGN, TaskSource.ALARM}
)
#: Sources any staff member with a role over the area may create (reports); the others
#: need a dispatcher role.
REPORT_SOURCES = frozenset({TaskSource.WORKER_REPORT, TaskSource.RESIDENT_REPORT})
#: Levels a task's area may have when transferred (a task belongs to a grid's team).
TASK_AREA_LEVELS = frozenset({AreaLevel.GRID, AreaLevel.MICRO_GRID})
IDEMPOTENCY_KEY_MAX = 100

User = get_user_model()


# --- small helpers ---------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise ValidationFailed(
            _("now %(now)s has no time zone; give an offset like +08:00.")
            % {"now": now.isoformat()}
        )
    return now


def _iso(value: dt.datetime) -> str:
    """A datetime for a timeline row's ``data``: ISO 8601 in local time (``+08:00``)."""
    return timezone.localtime(value).isoformat()


def _state_conflict(task: Task, wanted: str) -> Conflict:
    return Conflict(
        _("Task %(number)s is %(state)s; it cannot be %(wanted)s now.")
        % {"number": task.number, "state": task.get_state_display(), "wanted": wanted},
        code="state_conflict",
        details={"task": task.pk, "state": task.state},
    )


def task_started(task: Task, *, now: dt.datetime) -> bool:
    """Whether ``task``'s work may begin at ``now`` (aware): ``dispatched_at`` is unset or
    not after ``now``. Routine tasks are generated ahead with ``dispatched_at`` at their
    occurrence (docs/tasks.md, "Routine generation"); before it they are not to be taken."""
    return task.dispatched_at is None or task.dispatched_at <= now


def _not_started(task: Task, wanted: str) -> Conflict:
    start = timezone.localtime(task.dispatched_at)
    return Conflict(
        _("Task %(number)s starts at %(start)s; it can be %(wanted)s from then on.")
        % {"number": task.number, "start": start.strftime("%Y-%m-%d %H:%M"), "wanted": wanted},
        code="not_started",
        details={"task": task.pk, "starts_at": _iso(start)},
    )


def _started_check(
    authorize: Callable[[Task], None], *, now: dt.datetime, wanted: str
) -> Callable[[Task], None]:
    """``authorize``, then ``Conflict(code="not_started")`` for a task whose
    ``dispatched_at`` is after ``now`` (``task_started``)."""

    def check(task: Task) -> None:
        authorize(task)
        if not task_started(task, now=now):
            raise _not_started(task, wanted)

    return check


def _lost_race(task: Task) -> Conflict:
    return Conflict(
        _("Task %(number)s was changed by someone else at the same time; reload it.")
        % {"number": task.number},
        code="state_conflict",
        details={"task": task.pk},
    )


def _required_text(value: str | None, name: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(
            _("A %(name)s is required.") % {"name": name}, details={"field": name}
        )
    return text


def _clean_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = str(key).strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationFailed(
            _("An idempotency key has at most %(max)d characters.") % {"max": IDEMPOTENCY_KEY_MAX},
            details={"idempotency_key": key[:40]},
        )
    return key


def _replayed(task_pk: int, key: str | None) -> Task | None:
    """The task, fresh, when an event with ``key`` is already on its timeline."""
    if key and TaskEvent.objects.filter(task_id=task_pk, idempotency_key=key).exists():
        return Task.objects.get(pk=task_pk)
    return None


def _load(task: Task | int) -> Task:
    pk = task.pk if isinstance(task, Task) else task
    fresh = Task.objects.select_for_update().filter(pk=pk).first()
    if fresh is None:
        raise NotFound(_("Task %(pk)s not found.") % {"pk": pk}, details={"id": pk})
    return fresh


def _who(actor: Any) -> str:
    return actor.get_username() if actor is not None else "system"


def _require_roles(actor: Any, area: Area, roles: Iterable[str], doing: str) -> None:
    """Refuse unless ``actor`` (``None``: the system) holds one of ``roles`` over ``area``."""
    if actor is None:
        return
    if not user_can_access_area(actor, area, roles=roles):
        raise PermissionDenied(
            _("%(user)s may not %(doing)s tasks in %(area)s.")
            % {"user": _who(actor), "doing": doing, "area": area.name},
            details={"area": area.code, "roles": sorted(roles)},
        )


def _handles_department(actor: Any, department_id: int | None) -> bool:
    return department_id is not None and any(
        m.role == Role.DEPARTMENT_HANDLER and m.department_id == department_id
        for m in user_memberships(actor)
    )


def _require_handler(actor: Any, task: Task, doing: str) -> None:
    """Refuse unless ``actor`` is the assignee or a handler of the task's department."""
    if actor is None:
        return
    if task.assignee_id is not None and task.assignee_id == actor.pk:
        return
    if task.assignee_id is None and _handles_department(actor, task.department_id):
        return
    raise PermissionDenied(
        _("Only the task's assignee may %(doing)s task %(number)s.")
        % {"doing": doing, "number": task.number},
        details={"task": task.pk},
    )


def _check_location(lon: float | None, lat: float | None) -> None:
    _distance, problems = evidence.checkin_check(radius_m=None, lon=lon, lat=lat, target=None)
    if problems:
        raise ValidationFailed(
            problems[0].message, details={"problems": [p.as_dict() for p in problems]}
        )


def _department_handlers(department_id: int) -> list[Any]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__role=Role.DEPARTMENT_HANDLER,
            memberships__department_id=department_id,
        ).distinct()
    )


def _dispatcher_of(task: Task) -> list[Any]:
    """Who dispatched the task: the last dispatch/transfer actor, else its grid leaders."""
    last = (
        TaskEvent.objects.filter(
            task=task, action__in=[TaskAction.DISPATCH, TaskAction.TRANSFER], actor__isnull=False
        )
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if last is not None:
        return [last.actor]
    codes = [task.area.code[:n] for n in range(1, len(task.area.code) + 1)]
    return list(
        User.objects.filter(
            is_active=True,
            memberships__role=Role.GRID_LEADER,
            memberships__area__code__in=codes,
        ).distinct()
    )


def _notify(recipients: Iterable[Any], kind: str, task: Task, title: str, body: str = "") -> None:
    """Queue a notification about ``task`` in the current transaction (outbox pattern)."""
    from gridgov.notifications.services import notification_queue

    people = [r for r in recipients if r is not None]
    if not people:
        return
    notification_queue(
        recipients=people,
        kind=kind,
        title=title,
        body=body,
        task=task,
        data={"task": task.pk, "number": task.number, "state": task.state},
    )


def _notify_receivers(task: Task, kind: str, title: str) -> None:
    """Tell whoever now holds the task: its assignee, else its department's handlers."""
    if task.assignee_id is not None:
        _notify([task.assignee], kind, task, title, task.title)
    elif task.department_id is not None:
        _notify(_department_handlers(task.department_id), kind, task, title, task.title)


# --- the timeline and numbers ------------------------------------------------------------


def task_event_record(
    *,
    task: Task,
    action: str,
    actor: Any,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    lon: float | None = None,
    lat: float | None = None,
    data: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    at: dt.datetime | None = None,
) -> TaskEvent:
    """Append one row to the task's timeline and return it.

    ``action``: a ``TaskAction`` value; ``actor``: a user or ``None`` (the system);
    ``from_state``/``to_state``: the transition's states (blank for a flag action such as
    suspend or escalate); ``lon``/``lat``: the actor's WGS84 location; ``data``: JSON
    details (form answers, the new deadline…); ``idempotency_key``: unique per task (a
    second row with the same key raises ``IntegrityError``); ``at``: default now. Call it
    inside the transaction that made the change.
    """
    return TaskEvent.objects.create(
        task=task,
        action=action,
        actor=actor,
        at=at or timezone.now(),
        from_state=from_state,
        to_state=to_state,
        note=note or "",
        lon=lon,
        lat=lat,
        data=data or {},
        idempotency_key=_clean_key(idempotency_key),
    )


def task_numbers_allocate(*, day: dt.date, count: int) -> list[str]:
    """Allocate ``count`` consecutive task numbers for local date ``day``.

    Output: ``["YYYYMMDD-NNNNNN", …]`` (the sequence restarts at 1 each day, zero-padded to
    6 digits and wider past 999,999). One ``INSERT … ON CONFLICT DO NOTHING`` for the
    day's counter row, one ``UPDATE … SET last = last + count`` and one read: the UPDATE
    locks the row, so concurrent callers (threads, processes; SQLite or PostgreSQL) get
    disjoint blocks. Called inside a longer transaction, the lock is held until it ends:
    task creations of one day queue behind each other — keep bulk callers to one call per
    batch. Raises ``ValidationFailed`` for ``count`` < 1.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValidationFailed(
            _("count must be a whole number ≥ 1, not %(count)r.") % {"count": count}
        )
    with transaction.atomic():
        TaskNumberCounter.objects.bulk_create(
            [TaskNumberCounter(day=day, last=0)], ignore_conflicts=True
        )
        TaskNumberCounter.objects.filter(day=day).update(last=F("last") + count)
        last = TaskNumberCounter.objects.filter(day=day).values_list("last", flat=True).get()
    prefix = f"{day:%Y%m%d}"
    return [f"{prefix}-{n:06d}" for n in range(last - count + 1, last + 1)]


# --- deadlines ---------------------------------------------------------------------------


def _deadline_from_rule(rule: TaskRule | None, start: dt.datetime) -> dt.datetime | None:
    if rule is None:
        return None
    return deadline_compute(start=start, amount=rule.time_limit_value, unit=rule.time_limit_unit)


def _unit(task: Task) -> str | None:
    return task.rule.time_limit_unit if task.rule is not None else None


def task_deadline_set(task: Task, deadline: dt.datetime | None) -> None:
    """Set ``deadline`` and the derived ``yellow_at`` on an in-memory task (no save).

    ``yellow_at`` is 80% of the time from the clock start (``selectors.task_clock_start``)
    to the deadline, in working time for rules counted in working days or hours (see
    ``selectors.task_yellow_at``). ``deadline_original`` is set the first time only.
    Bulk creators (routine generation) should compute ``yellow_at`` the same way.
    """
    task.deadline = deadline
    if deadline is None:
        task.yellow_at = None
        return
    if task.deadline_original is None:
        task.deadline_original = deadline
    task.yellow_at = task_yellow_at(
        start=task_clock_start(task), deadline=deadline, unit=_unit(task)
    )


# --- creation --------------------------------------------------------------------------


def _event_rule(task_type: TaskType) -> TaskRule | None:
    """The type's active event-driven rule with the lowest code (its time limit and
    evidence apply to reports of the type)."""
    return (
        TaskRule.objects.filter(task_type=task_type, active=True, recurrence="")
        .order_by("code")
        .first()
    )


def task_duplicate_find(
    *,
    task_type: TaskType,
    lon: float,
    lat: float,
    now: dt.datetime | None = None,
    radius_m: float | None = None,
    window: dt.timedelta | None = None,
) -> Task | None:
    """Return the first open report of the same problem at the same place, or ``None``.

    Input: the new report's ``task_type`` and location (WGS84 ``lon``, ``lat`` degrees);
    ``radius_m`` (metres, default ``GRIDGOV_OPEN311_DUPLICATE_RADIUS_M``) and ``window``
    (default ``GRIDGOV_OPEN311_DUPLICATE_WINDOW_HOURS`` hours before ``now``). A match is a
    worker's or resident's report of the same type, still open, itself not a duplicate,
    reported at most ``window`` before ``now`` (a report made while this one waited for
    its turn counts too) and within ``radius_m`` by the haversine distance
    (``evidence.haversine_m``). Output: the earliest match (by report time, then id). One
    query, narrowed by a bounding box before the exact distance.
    """
    now = _now(now)
    radius = float(
        radius_m if radius_m is not None else settings.GRIDGOV_OPEN311_DUPLICATE_RADIUS_M
    )
    window = window or dt.timedelta(hours=settings.GRIDGOV_OPEN311_DUPLICATE_WINDOW_HOURS)
    dlat = math.degrees(radius / evidence.EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    candidates = Task.objects.filter(
        task_type=task_type,
        source__in=REPORT_SOURCES,
        state__in=OPEN_STATES,
        duplicate_of__isnull=True,
        reported_at__gte=now - window,
        lon__gte=lon - dlon,
        lon__lte=lon + dlon,
        lat__gte=lat - dlat,
        lat__lte=lat + dlat,
    ).order_by("reported_at", "id")
    return next(
        (
            task
            for task in candidates
            if task.lon is not None
            and task.lat is not None
            and evidence.haversine_m(lon, lat, task.lon, task.lat) <= radius
        ),
        None,
    )


def _apply_route(task: Task, route: Route) -> None:
    task.area = route.area
    task.assignee_id = route.assignee_id
    task.department_id = route.department_id
    task.needs_attention = route.needs_attention


def task_create(
    *,
    actor: Any,
    source: str,
    task_type: TaskType,
    area: Area | None = None,
    lon: float | None = None,
    lat: float | None = None,
    title: str,
    description: str = "",
    rule: TaskRule | None = None,
    directive: Directive | None = None,
    target_household: Household | None = None,
    target_place: Place | None = None,
    priority: str | None = None,
    deadline: dt.datetime | None = None,
    source_key: str | None = None,
    reporter: Any = None,
    photos: Sequence[Any] = (),
    now: dt.datetime | None = None,
) -> Task:
    """Create one task, number it, route it and write its first timeline rows.

    ``photos``: uploaded files (e.g. a report's photo), checked like feedback photos
    (``evidence.photos_check``: JPEG/PNG/WebP/HEIC by their bytes, at most 10 MB each) and
    attached to the CREATE row.

    Area: ``area`` if given; else the deepest area (grid or micro-grid) ``area_locate``
    finds at (``lon``, ``lat``) (WGS84); else the target household's or place's area. The
    location defaults to the target's. Rule: ``rule``, else — for reports, alarms and
    imports — the type's active event-driven rule with the lowest code (its time limit
    and evidence apply). State: ``routine``, ``directive``, ``campaign`` and ``alarm``
    tasks start ``dispatched`` (routed now, see ``routing``; a CREATE and a DISPATCH row);
    reports and imports start ``reported`` (a CREATE row; routed when dispatched). A
    resident's report with a location that ``task_duplicate_find`` matches is a duplicate:
    it is created ``rejected`` with ``duplicate_of`` the first task (never dispatched; a
    CREATE row with ``data.duplicate_of``), and the first task gets a DUPLICATE row.
    Deadline: ``deadline``, else the directive's, else — when the task is dispatched — the
    rule's time limit from ``now`` on the working calendar. Priority: ``priority``, else
    the rule's, else the directive's, else normal. ``source_key`` (unique) makes the call
    idempotent: an existing task with that key is returned unchanged. A grid worker's
    report (``worker_report`` by a staff actor) is registered and dispatched at once by
    the system when ``GRIDGOV_WORKER_REPORT_AUTO_REGISTER`` is true (the default; see
    ``_worker_report_auto_register``), else it waits ``reported`` for a dispatcher.

    The actor (``None``: the system) needs a role over the area: any role to report
    (``worker_report``, ``resident_report``), a dispatcher role for the other sources.
    Raises ``ValidationFailed`` (no title, a location in no area, an unknown source,
    priority, or a rule of another type), ``PermissionDenied``.
    """
    now = _now(now)
    if source not in TaskSource.values:
        raise ValidationFailed(
            _("Unknown source %(source)s; use one of %(sources)s.")
            % {"source": source, "sources": ", ".join(TaskSource.values)},
            details={"source": source},
        )
    title = _required_text(title, _("title"))
    if len(title) > 200:
        raise ValidationFailed(_("A title has at most 200 characters."), details={"field": "title"})
    if priority is not None and priority not in Priority.values:
        raise ValidationFailed(
            _("Unknown priority %(priority)s; use one of %(priorities)s.")
            % {"priority": priority, "priorities": ", ".join(Priority.values)},
            details={"priority": priority},
        )
    if rule is not None and rule.task_type_id != task_type.pk:
        raise ValidationFailed(
            _("Rule %(rule)s belongs to another task type than %(type)s.")
            % {"rule": rule.code, "type": task_type.code},
            details={"rule": rule.code, "task_type": task_type.code},
        )
    if deadline is not None and timezone.is_naive(deadline):
        raise ValidationFailed(_("The deadline needs a time zone."), details={"field": "deadline"})
    _check_location(lon, lat)
    checked, problems = evidence.photos_check(photos, min_photos=0)
    if problems:
        raise ValidationFailed(
            _("The photos are not acceptable: %(problems)s")
            % {"problems": "; ".join(p.message for p in problems)},
            details={"problems": [p.as_dict() for p in problems]},
        )
    target = target_household or target_place
    if area is None and target is not None:
        area = target.area
    if lon is None and target is not None and target.lon is not None:
        lon, lat = target.lon, target.lat
    if area is None and lon is not None and lat is not None:
        area = area_locate(lon, lat, on=timezone.localdate(now))
        if area is None:
            raise ValidationFailed(
                _("The location (%(lon)s, %(lat)s) lies in no area.") % {"lon": lon, "lat": lat},
                details={"lon": lon, "lat": lat},
            )
    if area is None:
        raise ValidationFailed(
            _("Give an area, a location (lon, lat) or a target household or place."),
            details={"field": "area"},
        )
    if source in REPORT_SOURCES:
        _require_roles(actor, area, set(Role.values), _("report"))
    else:
        _require_roles(actor, area, DISPATCHER_ROLES, _("create"))
    if source_key and (existing := Task.objects.filter(source_key=source_key).first()):
        return existing
    if rule is None and source not in (TaskSource.ROUTINE, TaskSource.DIRECTIVE):
        rule = _event_rule(task_type)

    initial = TaskState.DISPATCHED if source in DISPATCHED_SOURCES else TaskState.REPORTED
    first: Task | None = None
    saved: list[str] = []
    try:
        with transaction.atomic():
            if source == TaskSource.RESIDENT_REPORT and lon is not None and lat is not None:
                # Reports of one type take turns (a row lock on the type), so that two
                # residents reporting the same problem at once cannot both be first.
                list(TaskType.objects.select_for_update().filter(pk=task_type.pk).values("pk"))
                first = task_duplicate_find(task_type=task_type, lon=lon, lat=lat, now=now)
                if first is not None:
                    initial = TaskState.REJECTED
            task = Task(
                number=task_numbers_allocate(day=timezone.localdate(now), count=1)[0],
                source=source,
                source_key=source_key or None,
                task_type=task_type,
                rule=rule,
                directive=directive,
                area=area,
                target_household=target_household,
                target_place=target_place,
                lon=lon,
                lat=lat,
                title=title,
                description=description or "",
                priority=priority
                or (rule.priority if rule else None)
                or (directive.priority if directive else None)
                or Priority.NORMAL,
                state=initial,
                reporter=reporter,
                duplicate_of=first,
            )
            if initial == TaskState.DISPATCHED:
                task.dispatched_at = now
                _apply_route(
                    task,
                    route_task(
                        task_type=task_type,
                        area=area,
                        target_household=target_household,
                        target_place=target_place,
                    ),
                )
            else:
                task.reported_at = now
            chosen = deadline or (directive.deadline if directive else None)
            if chosen is None and initial == TaskState.DISPATCHED:
                chosen = _deadline_from_rule(rule, now)
            task_deadline_set(task, chosen)
            task.save()
            created = task_event_record(
                task=task,
                action=TaskAction.CREATE,
                actor=actor,
                to_state=initial,
                lon=lon,
                lat=lat,
                data={
                    "source": source,
                    **({"source_key": source_key} if source_key else {}),
                    **({"photos": len(checked)} if checked else {}),
                    **({"duplicate_of": first.number} if first else {}),
                },
                at=now,
            )
            _attachments_store(task, created, checked, (), saved)
            if first is not None:
                task_event_record(
                    task=first,
                    action=TaskAction.DUPLICATE,
                    actor=actor,
                    lon=lon,
                    lat=lat,
                    data={"duplicate": task.number},
                    at=now,
                )
            if initial == TaskState.DISPATCHED:
                task_event_record(
                    task=task,
                    action=TaskAction.DISPATCH,
                    actor=actor,
                    to_state=TaskState.DISPATCHED,
                    data=_route_data(task),
                    at=now,
                )
                _notify_receivers(
                    task, "task_dispatched", _("New task %(number)s") % {"number": task.number}
                )
            elif source == TaskSource.WORKER_REPORT and actor is not None:
                _worker_report_auto_register(task, now=now)
    except IntegrityError:
        # Two creators raced on the same source key: the other one's task stands.
        _files_delete(saved)
        if source_key and (existing := Task.objects.filter(source_key=source_key).first()):
            return existing
        raise
    except BaseException:
        _files_delete(saved)  # the transaction rolled back: so do the files
        raise
    return task


def _attachments_store(
    task: Task,
    event: TaskEvent,
    photos: Sequence[evidence.CheckedPhoto],
    kinds: Sequence[str],
    saved: list[str],
) -> None:
    """Store checked photos as attachments of ``event``; append each stored file name to
    ``saved`` so that the caller can delete them if its transaction rolls back."""
    for index, photo in enumerate(photos):
        attachment = TaskAttachment(
            task=task,
            event=event,
            content_type=photo.content_type,
            size=photo.size,
            sha256=photo.sha256,
            kind=kinds[index] if kinds else "",
        )
        name = f"{event.pk}-{index + 1}{_EXTENSIONS.get(photo.content_type, '')}"
        attachment.file.save(name, photo.upload, save=False)
        saved.append(attachment.file.name or name)
        attachment.save()


def _files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _route_data(task: Task) -> dict[str, Any]:
    return {
        "area": task.area.code,
        "assignee": task.assignee_id,
        "department": task.department_id,
        "needs_attention": task.needs_attention,
    }


def _worker_report_auto_register(task: Task, *, now: dt.datetime) -> None:
    """Register and dispatch a grid worker's fresh report at once, as the system.

    Policy ``GRIDGOV_WORKER_REPORT_AUTO_REGISTER`` (default true): the reporter is staff
    on patrol, so the report needs no dispatcher's 立案 before it is worked on. The task
    goes reported → registered → dispatched (a REGISTER and a DISPATCH row, actor the
    system, ``data.policy`` naming the setting), routed by the engine (``routing``), its
    deadline from the rule's time limit starting ``now``; the receiver is notified. With
    the setting false nothing happens and the report waits for a dispatcher. Runs inside
    ``task_create``'s transaction.
    """
    if not getattr(settings, "GRIDGOV_WORKER_REPORT_AUTO_REGISTER", True):
        return
    policy = {"policy": "GRIDGOV_WORKER_REPORT_AUTO_REGISTER"}
    task.register()
    task.registered_at = now
    task.save()
    task_event_record(
        task=task,
        action=TaskAction.REGISTER,
        actor=None,
        from_state=TaskState.REPORTED,
        to_state=TaskState.REGISTERED,
        note=_("Registered automatically: a grid worker's report."),
        data=policy,
        at=now,
    )
    task.dispatch()
    _apply_route(task, _resolve_route(task, area=task.area))
    task.dispatched_at = now
    if task.deadline is None:
        task_deadline_set(task, _deadline_from_rule(task.rule, now))
    task.save()
    task_event_record(
        task=task,
        action=TaskAction.DISPATCH,
        actor=None,
        from_state=TaskState.REGISTERED,
        to_state=TaskState.DISPATCHED,
        data={**_route_data(task), **policy},
        at=now,
    )
    _notify_receivers(task, "task_dispatched", _("New task %(number)s") % {"number": task.number})


def _verifiers_of(task: Task) -> list[Any]:
    """Who checks the task's feedback: the active users holding a verifier role
    (``VERIFIER_ROLES``) on the deepest area above or at the task's area that has any —
    the grid's leader, else the community's admin or leader, else the command centre —
    never the assignee. One query."""
    codes = [task.area.code[:n] for n in range(1, len(task.area.code) + 1)]
    rows = list(
        Membership.objects.filter(
            role__in=VERIFIER_ROLES, area__code__in=codes, user__is_active=True
        )
        .exclude(user_id=task.assignee_id or 0)
        .select_related("user", "area")
    )
    if not rows:
        return []
    deepest = max(len(m.area.code) for m in rows)
    users = {m.user_id: m.user for m in rows if len(m.area.code) == deepest}
    return [users[pk] for pk in sorted(users)]


# --- the transition engine --------------------------------------------------------------


#: What may happen to a suspended (挂账) task: resume it, cancel it, comment on it; the
#: rest of the loop waits until it is resumed (its clock is stopped).
WHILE_SUSPENDED = frozenset(
    {TaskAction.RESUME, TaskAction.CANCEL, TaskAction.SUSPEND, TaskAction.COMMENT}
)


def _run(
    *,
    task: Task,
    actor: Any,
    action: str,
    transition: str | None,
    wanted: str,
    authorize: Callable[[Task], None],
    apply: Callable[[Task], dict[str, Any] | None] | None = None,
    after: Callable[[Task, TaskEvent], None] | None = None,
    note: str = "",
    lon: float | None = None,
    lat: float | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime,
) -> Task:
    """Apply one action to a task (the pattern in this module's docstring).

    ``transition``: the ``Task`` method to call, or ``None`` for a flag action (the state
    must then be open); ``wanted``: the verb for the wrong-state message; ``authorize``
    raises for an actor who may not; ``apply`` sets the fields and returns the event's
    ``data``; ``after`` runs once the event is written (attachments, notifications).
    A suspended task takes only the actions of ``WHILE_SUSPENDED`` (else ``Conflict``).
    """
    key = _clean_key(idempotency_key)
    if (done := _replayed(task.pk, key)) is not None:
        return done
    try:
        with transaction.atomic():
            fresh = _load(task)
            authorize(fresh)
            if fresh.suspended_at is not None and action not in WHILE_SUSPENDED:
                raise Conflict(
                    _("Task %(number)s is suspended: resume it first.") % {"number": fresh.number},
                    code="suspended",
                )
            from_state = fresh.state
            if transition is None:
                if fresh.state not in OPEN_STATES:
                    raise _state_conflict(fresh, wanted)
            else:
                try:
                    getattr(fresh, transition)()
                except TransitionNotAllowed:
                    raise _state_conflict(fresh, wanted) from None
            data = apply(fresh) if apply is not None else None
            try:
                fresh.save()
            except ConcurrentTransition:
                raise _lost_race(fresh) from None
            event = task_event_record(
                task=fresh,
                action=action,
                actor=actor,
                from_state=from_state if transition else "",
                to_state=fresh.state if transition else "",
                note=note,
                lon=lon,
                lat=lat,
                data=data,
                idempotency_key=key,
                at=now,
            )
            if after is not None:
                after(fresh, event)
    except (Conflict, IntegrityError):
        # A double submission that raced the first one: the first one's row stands.
        if (done := _replayed(task.pk, key)) is not None:
            return done
        raise
    return fresh


def _dispatchers(actor: Any, doing: str) -> Callable[[Task], None]:
    def authorize(task: Task) -> None:
        _require_roles(actor, task.area, DISPATCHER_ROLES, doing)

    return authorize


def _handlers(actor: Any, doing: str) -> Callable[[Task], None]:
    def authorize(task: Task) -> None:
        _require_handler(actor, task, doing)

    return authorize


def _check_assignee(assignee: Any, area: Area) -> None:
    if not getattr(assignee, "is_active", False):
        raise ValidationFailed(
            _("%(user)s is not an active user.") % {"user": _who(assignee)},
            details={"assignee": getattr(assignee, "pk", None)},
        )
    if not user_can_access_area(assignee, area):
        raise ValidationFailed(
            _("%(user)s has no role in %(area)s.") % {"user": _who(assignee), "area": area.name},
            details={"assignee": assignee.pk, "area": area.code},
        )


def _check_department(department: Department) -> None:
    if not department.is_active:
        raise ValidationFailed(
            _("Department %(department)s is not active.") % {"department": department.name},
            details={"department": department.code},
        )


def _resolve_route(
    task: Task, *, area: Area, assignee: Any = None, department: Department | None = None
) -> Route:
    """Where a dispatch or transfer sends the task: the given assignee or department,
    else the routing rules in ``area``."""
    if assignee is not None and department is not None:
        raise ValidationFailed(
            _("Give an assignee or a department, not both."),
            details={"field": "assignee"},
        )
    if assignee is not None:
        _check_assignee(assignee, area)
        return Route(area=area, assignee_id=assignee.pk, department_id=None, needs_attention=False)
    if department is not None:
        _check_department(department)
        return Route(
            area=area, assignee_id=None, department_id=department.pk, needs_attention=False
        )
    return route_task(
        task_type=task.task_type,
        area=area,
        target_household=task.target_household,
        target_place=task.target_place,
    )


# --- report → case -----------------------------------------------------------------------


def task_register(
    *,
    actor: Any,
    task: Task,
    note: str = "",
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Register a reported task as a case (立案): reported → registered.

    Actor: a dispatcher (command centre, community admin, grid leader) over the task's
    area. Raises ``PermissionDenied``, ``Conflict(code="state_conflict")``.
    """
    now = _now(now)

    def apply(t: Task) -> None:
        t.registered_at = now

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.REGISTER,
        transition="register",
        wanted=_("registered"),
        authorize=_dispatchers(actor, _("register")),
        apply=apply,
        note=note,
        idempotency_key=idempotency_key,
        now=now,
    )


def task_reject(
    *,
    actor: Any,
    task: Task,
    reason: str,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Refuse a report as not a case (不予立案): reported → rejected (final).

    ``reason`` is required. Actor: a dispatcher over the task's area. Notifies the
    reporter. Raises ``ValidationFailed``, ``PermissionDenied``, ``Conflict``.
    """
    now = _now(now)
    reason = _required_text(reason, _("reason"))

    def notify(t: Task, _event: TaskEvent) -> None:
        _notify(
            [t.reporter],
            "task_rejected",
            t,
            _("Your report %(number)s was not registered") % {"number": t.number},
            reason,
        )

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.REJECT,
        transition="reject",
        wanted=_("rejected"),
        authorize=_dispatchers(actor, _("reject")),
        after=notify,
        note=reason,
        idempotency_key=idempotency_key,
        now=now,
    )


# --- dispatch, accept, send back -----------------------------------------------------------


def task_dispatch(
    *,
    actor: Any,
    task: Task,
    assignee: Any = None,
    department: Department | None = None,
    note: str = "",
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Dispatch a task (派遣): registered or sent back → dispatched.

    To ``assignee`` (a user with a role over the task's area) or ``department`` (active)
    if given, else by the routing rules (``routing.route_task``). The deadline, if not yet
    set, is computed from the rule's time limit starting now. Actor: a dispatcher over the
    task's area. Notifies the assignee (or the department's handlers). Raises
    ``ValidationFailed``, ``PermissionDenied``, ``Conflict``.
    """
    now = _now(now)

    def apply(t: Task) -> dict[str, Any]:
        _apply_route(t, _resolve_route(t, area=t.area, assignee=assignee, department=department))
        t.dispatched_at = now
        t.accepted_at = None
        if t.deadline is None:
            task_deadline_set(t, _deadline_from_rule(t.rule, now))
        return _route_data(t)

    def notify(t: Task, _event: TaskEvent) -> None:
        _notify_receivers(t, "task_dispatched", _("New task %(number)s") % {"number": t.number})

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.DISPATCH,
        transition="dispatch",
        wanted=_("dispatched"),
        authorize=_dispatchers(actor, _("dispatch")),
        apply=apply,
        after=notify,
        note=note,
        idempotency_key=idempotency_key,
        now=now,
    )


def task_accept(
    *,
    actor: Any,
    task: Task,
    note: str = "",
    lon: float | None = None,
    lat: float | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Accept a dispatched task (签收): dispatched → accepted.

    Actor: the assignee, or — for a task in a department's queue — a handler of that
    department, who becomes the assignee. ``lon``/``lat``: the actor's WGS84 location
    (optional). Raises ``PermissionDenied``, ``Conflict`` (``state_conflict``: e.g.
    accepted by someone else; ``not_started``: ``dispatched_at`` — a routine task's
    occurrence, generated ahead — is after ``now``, the message says from when).
    """
    now = _now(now)
    _check_location(lon, lat)

    def apply(t: Task) -> None:
        if t.assignee_id is None and actor is not None:
            t.assignee = actor
        t.accepted_at = now
        t.needs_attention = False

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.ACCEPT,
        transition="accept",
        wanted=_("accepted"),
        authorize=_started_check(_handlers(actor, _("accept")), now=now, wanted=_("accepted")),
        apply=apply,
        note=note,
        lon=lon,
        lat=lat,
        idempotency_key=idempotency_key,
        now=now,
    )


def task_send_back(
    *,
    actor: Any,
    task: Task,
    reason: str,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Send a dispatched task back to its dispatcher as not one's own (回退).

    dispatched → sent_back; the assignee and department are cleared and the task is
    flagged ``needs_attention`` until it is dispatched again. ``reason`` is required.
    Actor: the assignee or a handler of the task's department. Notifies the dispatcher
    (the last actor who dispatched or transferred it, else the area's grid leaders).
    Allowed before the task's ``dispatched_at`` too: saying "not mine" starts no work, and
    early gives the dispatcher time. Raises ``ValidationFailed``, ``PermissionDenied``,
    ``Conflict``.
    """
    now = _now(now)
    reason = _required_text(reason, _("reason"))

    def apply(t: Task) -> dict[str, Any]:
        data = {"assignee": t.assignee_id, "department": t.department_id}
        t.assignee = None
        t.department = None
        t.needs_attention = True
        return data

    def notify(t: Task, _event: TaskEvent) -> None:
        _notify(
            _dispatcher_of(t),
            "task_sent_back",
            t,
            _("Task %(number)s was sent back") % {"number": t.number},
            reason,
        )

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.SEND_BACK,
        transition="send_back",
        wanted=_("sent back"),
        authorize=_handlers(actor, _("send back")),
        apply=apply,
        after=notify,
        note=reason,
        idempotency_key=idempotency_key,
        now=now,
    )


# --- feedback and verification ---------------------------------------------------------------


def _target_location(task: Task) -> tuple[float, float] | None:
    for target in (task.target_household, task.target_place):
        if target is not None and target.lon is not None and target.lat is not None:
            return (target.lon, target.lat)
    if task.lon is not None and task.lat is not None:
        return (task.lon, task.lat)
    return None


_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
}


def task_submit_feedback(
    *,
    actor: Any,
    task: Task,
    note: str,
    lon: float | None,
    lat: float | None,
    answers: dict[str, Any] | None,
    photos: list[UploadedFile],
    kinds: list[str] | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Submit the feedback of a handled task (处置反馈 / 回单): accepted or returned → handled.

    Evidence, checked against the task's rule (none without a rule) and refused together
    in one ``ValidationFailed`` whose ``details["problems"]`` lists every problem
    (``{field, message}``):

    - ``photos``: at least the rule's ``min_photos``; each a JPEG, PNG, WebP or HEIC by its
      magic number (the declared content type must agree) and at most 10 MB
      (``evidence.PHOTO_MAX_BYTES``);
    - check-in: with a ``checkin_radius_m``, the worker's (``lon``, ``lat``) (WGS84) must lie
      within that many metres of the target household's or place's location (else the
      task's own) — great-circle distance by the haversine formula on the IUGG mean Earth
      radius (``evidence.haversine_m``); a target without a known location needs only a
      location;
    - ``answers``: ``{field name: value}`` for the rule's ``form_fields``: required fields
      answered, values of the right type or among the choices, no unknown names.

    ``kinds``: an optional label per photo (e.g. ``before`` / ``after`` for campaigns).
    Stores the photos as ``TaskAttachment`` rows of the event (named by event and index,
    never by the uploaded name); the event's ``data`` holds the normalised answers and the
    distance in metres. Actor: the assignee. Raises ``ValidationFailed``,
    ``PermissionDenied``, ``Conflict`` (``state_conflict``; ``not_started`` for a task whose
    ``dispatched_at`` is after ``now``, one accepted early before ``task_accept`` refused).
    """
    now = _now(now)
    note = (note or "").strip()
    photos = list(photos or [])
    kinds = list(kinds or [])
    if kinds and len(kinds) != len(photos):
        raise ValidationFailed(_("Give one kind per photo, or none."), details={"field": "kinds"})
    key = _clean_key(idempotency_key)
    if (done := _replayed(task.pk, key)) is not None:
        return done
    saved: list[str] = []

    def authorize(t: Task) -> None:
        _require_handler_strict(actor, t)
        if not task_started(t, now=now):
            raise _not_started(t, _("handled"))

    def apply(t: Task) -> dict[str, Any]:
        rule = t.rule
        checked, problems = evidence.photos_check(photos, min_photos=rule.min_photos if rule else 0)
        distance, where = evidence.checkin_check(
            radius_m=rule.checkin_radius_m if rule else None,
            lon=lon,
            lat=lat,
            target=_target_location(t),
        )
        clean, wrong = evidence.answers_check(rule.form_fields if rule else [], answers)
        problems += where + wrong
        if problems:
            raise ValidationFailed(
                _("The feedback is incomplete: %(problems)s")
                % {"problems": "; ".join(p.message for p in problems)},
                details={"problems": [p.as_dict() for p in problems]},
            )
        t.handled_at = now
        t._checked_photos = checked  # type: ignore[attr-defined]
        data: dict[str, Any] = {"answers": clean, "photos": len(checked)}
        if distance is not None:
            data["distance_m"] = round(distance, 1)
        return data

    def store_photos(t: Task, event: TaskEvent) -> None:
        _attachments_store(t, event, t._checked_photos, kinds or (), saved)  # type: ignore[attr-defined]
        _notify(
            _verifiers_of(t),
            "task_handled",
            t,
            _("Task %(number)s handled: please check it") % {"number": t.number},
            t.title,
        )

    try:
        return _run(
            task=task,
            actor=actor,
            action=TaskAction.SUBMIT_FEEDBACK,
            transition="submit_feedback",
            wanted=_("handled"),
            authorize=authorize,
            apply=apply,
            after=store_photos,
            note=note,
            lon=lon,
            lat=lat,
            idempotency_key=key,
            now=now,
        )
    except BaseException:
        _files_delete(saved)  # the transaction rolled back: so do the files
        raise


def _require_handler_strict(actor: Any, task: Task) -> None:
    """Feedback comes from the assignee only (a department handler accepts first)."""
    if actor is None or (task.assignee_id is not None and task.assignee_id == actor.pk):
        return
    raise PermissionDenied(
        _("Only the task's assignee may submit feedback on task %(number)s.")
        % {"number": task.number},
        details={"task": task.pk},
    )


def task_verify(
    *,
    actor: Any,
    task: Task,
    passed: bool,
    note: str = "",
    lon: float | None = None,
    lat: float | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Verify a handled task (核查): passed → closed (结案); failed → returned (返工).

    A failure needs a ``note`` (the reason), adds 1 to ``rework_count`` and notifies the
    assignee; a pass notifies the reporter. Actor: a grid leader, community admin or
    command centre over the task's area, and not the task's assignee. Raises
    ``ValidationFailed``, ``PermissionDenied``, ``Conflict``.
    """
    now = _now(now)
    if not passed:
        note = _required_text(note, _("reason"))
    _check_location(lon, lat)

    def authorize(t: Task) -> None:
        _require_roles(actor, t.area, VERIFIER_ROLES, _("verify"))
        if actor is not None and t.assignee_id == actor.pk:
            raise PermissionDenied(
                _("%(user)s handled task %(number)s and may not verify it.")
                % {"user": _who(actor), "number": t.number},
                details={"task": t.pk},
            )

    def apply(t: Task) -> dict[str, Any]:
        if passed:
            t.closed_at = now
        else:
            t.rework_count += 1
        return {"passed": passed, "rework_count": t.rework_count}

    def notify(t: Task, _event: TaskEvent) -> None:
        if passed:
            _notify(
                [t.reporter],
                "task_closed",
                t,
                _("Task %(number)s is closed") % {"number": t.number},
                t.title,
            )
        else:
            _notify(
                [t.assignee],
                "task_returned",
                t,
                _("Task %(number)s was returned for rework") % {"number": t.number},
                note,
            )

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.VERIFY_PASS if passed else TaskAction.VERIFY_FAIL,
        transition="verify_pass" if passed else "verify_fail",
        wanted=_("verified"),
        authorize=authorize,
        apply=apply,
        after=notify,
        note=note,
        lon=lon,
        lat=lat,
        idempotency_key=idempotency_key,
        now=now,
    )


# --- transfer and cancel ---------------------------------------------------------------------


def task_transfer(
    *,
    actor: Any,
    task: Task,
    area: Area | None = None,
    assignee: Any = None,
    department: Department | None = None,
    note: str,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Transfer a task (转派) to another grid, worker or department; it arrives dispatched.

    From dispatched, accepted, sent back or returned. ``area``: the new grid or micro-grid
    (routed there by the routing rules unless ``assignee`` or ``department`` is also
    given); ``assignee``: a user with a role over the (new) area; ``department``: an
    active department. At least one of the three, and a ``note`` (the reason). The
    deadline does not change. Actor: a dispatcher over the task's area and over the new
    area. Notifies the new assignee (or the department's handlers). Raises
    ``ValidationFailed``, ``PermissionDenied``, ``Conflict``.
    """
    now = _now(now)
    note = _required_text(note, _("reason"))
    if area is None and assignee is None and department is None:
        raise ValidationFailed(
            _("Transfer to an area, an assignee or a department."), details={"field": "area"}
        )
    if area is not None and area.level not in TASK_AREA_LEVELS:
        raise ValidationFailed(
            _("%(area)s is not a grid or a micro-grid.") % {"area": area.name},
            details={"area": area.code},
        )

    def authorize(t: Task) -> None:
        _require_roles(actor, t.area, DISPATCHER_ROLES, _("transfer"))
        if area is not None:
            _require_roles(actor, area, DISPATCHER_ROLES, _("transfer"))

    def apply(t: Task) -> dict[str, Any]:
        before = {"area": t.area.code, "assignee": t.assignee_id, "department": t.department_id}
        _apply_route(
            t, _resolve_route(t, area=area or t.area, assignee=assignee, department=department)
        )
        t.dispatched_at = now
        t.accepted_at = None
        return {"from": before, "to": _route_data(t)}

    def notify(t: Task, _event: TaskEvent) -> None:
        _notify_receivers(
            t,
            "task_transferred",
            _("Task %(number)s was transferred to you") % {"number": t.number},
        )

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.TRANSFER,
        transition="transfer",
        wanted=_("transferred"),
        authorize=authorize,
        apply=apply,
        after=notify,
        note=note,
        idempotency_key=idempotency_key,
        now=now,
    )


def task_cancel(
    *,
    actor: Any,
    task: Task,
    reason: str,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Cancel an open task (作废): any open state → cancelled (final).

    ``reason`` is required. Actor: a dispatcher over the task's area. Notifies the
    assignee. Raises ``ValidationFailed``, ``PermissionDenied``, ``Conflict``.
    """
    now = _now(now)
    reason = _required_text(reason, _("reason"))

    def apply(t: Task) -> None:
        t.cancelled_at = now

    def notify(t: Task, _event: TaskEvent) -> None:
        _notify(
            [t.assignee],
            "task_cancelled",
            t,
            _("Task %(number)s was cancelled") % {"number": t.number},
            reason,
        )

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.CANCEL,
        transition="cancel",
        wanted=_("cancelled"),
        authorize=_dispatchers(actor, _("cancel")),
        apply=apply,
        after=notify,
        note=reason,
        idempotency_key=idempotency_key,
        now=now,
    )


# --- flags: suspension and extension ---------------------------------------------------------


def task_suspend(
    *,
    actor: Any,
    task: Task,
    reason: str,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Suspend an open task (挂账): it stays in its state, its clock stops.

    Sets ``suspended_at`` and ``suspension_reason`` (required, ≤ 200 characters). A
    suspended task is not marked overdue or escalated by the sweep, and its traffic light
    is frozen. Actor: a dispatcher over the task's area. Raises ``ValidationFailed``,
    ``PermissionDenied``, ``Conflict`` (not open, or already suspended).
    """
    now = _now(now)
    reason = _required_text(reason, _("reason"))
    if len(reason) > 200:
        raise ValidationFailed(
            _("A suspension reason has at most 200 characters."), details={"field": "reason"}
        )

    def apply(t: Task) -> None:
        if t.suspended_at is not None:
            raise Conflict(
                _("Task %(number)s is already suspended.") % {"number": t.number},
                code="state_conflict",
                details={"task": t.pk},
            )
        t.suspended_at = now
        t.suspension_reason = reason

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.SUSPEND,
        transition=None,
        wanted=_("suspended"),
        authorize=_dispatchers(actor, _("suspend")),
        apply=apply,
        note=reason,
        idempotency_key=idempotency_key,
        now=now,
    )


def _shift(
    deadline: dt.datetime, unit: str | None, start: dt.datetime, end: dt.datetime
) -> dt.datetime:
    """``deadline`` moved later by the time between ``start`` and ``end``: working time
    for working-time units, elapsed time otherwise."""
    if unit in CALENDAR_UNITS:
        worked = working_time_between(start, end)
        if worked <= dt.timedelta():
            return deadline
        hours = Decimal(worked // dt.timedelta(microseconds=1)) / Decimal(3_600_000_000)
        return deadline_compute(start=deadline, amount=hours, unit="work_hour")
    return deadline + (end - start)


def _clear_overdue_if_future(t: Task, now: dt.datetime) -> None:
    """After the deadline moved (extension, resume): a task no longer late loses its overdue
    flag and escalation level, so the sweep starts the ladder again from the new deadline."""
    if t.deadline is not None and t.deadline > now and t.is_overdue:
        t.is_overdue = False
        t.overdue_at = None
        t.escalation_level = EscalationLevel.NONE
        t.escalated_at = None


def task_resume(
    *,
    actor: Any,
    task: Task,
    note: str = "",
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Resume a suspended task: its clock runs again from where it stopped.

    The deadline moves later by the time the task was suspended — working time (as work
    hours on the calendar) when the rule counts in working days or hours, elapsed time
    otherwise — so that the suspension does not use up the time limit;
    ``deadline_original`` keeps the first deadline, ``yellow_at`` moves with it, and an
    overdue flag is cleared if the new deadline is still ahead (the escalation level
    stays). Actor: a dispatcher over the task's area. Raises ``PermissionDenied``,
    ``Conflict`` (not suspended).
    """
    now = _now(now)

    def apply(t: Task) -> dict[str, Any]:
        if t.suspended_at is None:
            raise Conflict(
                _("Task %(number)s is not suspended.") % {"number": t.number},
                code="state_conflict",
                details={"task": t.pk},
            )
        data: dict[str, Any] = {"suspended_at": _iso(t.suspended_at)}
        if t.deadline is not None:
            data["deadline_before"] = _iso(t.deadline)
            new = _shift(t.deadline, _unit(t), t.suspended_at, now)
            task_deadline_set(t, new)
            data["deadline"] = _iso(new)
        t.suspended_at = None
        t.suspension_reason = ""
        _clear_overdue_if_future(t, now)
        return data

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.RESUME,
        transition=None,
        wanted=_("resumed"),
        authorize=_dispatchers(actor, _("resume")),
        apply=apply,
        note=note,
        idempotency_key=idempotency_key,
        now=now,
    )


#: How far an extension may move a deadline, in days: at most a year (and a day) past the
#: current deadline (or past now, for a task without one). An extension (延期) buys time
#: for work already under way; a longer delay is a new task or a suspension (挂账), and a
#: date like 9998-12-31 is a typing mistake that would leave the task never due.
EXTENSION_MAX_DAYS = 366


def _extension_bound_check(
    until: dt.datetime, *, deadline: dt.datetime | None, now: dt.datetime
) -> None:
    """Raise ``ValidationFailed`` (``details={"field": "until"}``) when ``until`` lies
    outside the years ``YEAR_MIN…YEAR_MAX`` or more than ``EXTENSION_MAX_DAYS`` days after
    ``deadline`` (``now`` when the task has none)."""
    if not year_in_range(until):
        raise ValidationFailed(
            _("The new deadline %(until)s is outside the years %(min)d to %(max)d.")
            % {"until": _iso(until), "min": YEAR_MIN, "max": YEAR_MAX},
            details={"field": "until"},
        )
    base = deadline or now
    if until - base > dt.timedelta(days=EXTENSION_MAX_DAYS):
        raise ValidationFailed(
            _("The new deadline %(until)s is more than %(days)d days after %(base)s; an "
              "extension moves a deadline by at most a year.")
            % {"until": _iso(until), "days": EXTENSION_MAX_DAYS, "base": _iso(base)},
            details={"field": "until", "max_days": EXTENSION_MAX_DAYS},
        )  # fmt: skip


def task_extension_request(
    *,
    actor: Any,
    task: Task,
    until: dt.datetime,
    reason: str,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Request an extension (延期申请) of the deadline of a task in hand to ``until``.

    ``until``: an aware datetime after the current deadline and after now, at most
    ``EXTENSION_MAX_DAYS`` (366) days after the current deadline (after now for a task
    without one) and in the years 1970–9998; ``reason`` required. Sets
    ``extension_status = requested``. Actor: the assignee (or a handler of the task's
    department). Notifies the dispatcher. Raises ``ValidationFailed``,
    ``PermissionDenied``, ``Conflict``: ``state_conflict`` when the task is not in
    ``EXTENSION_STATES`` (dispatched, accepted, returned — an extension buys time for work
    under way, not for a task already handed in) or a request is already pending;
    ``not_started`` when its ``dispatched_at`` is after ``now``.
    """
    now = _now(now)
    reason = _required_text(reason, _("reason"))
    if not isinstance(until, dt.datetime) or timezone.is_naive(until):
        raise ValidationFailed(
            _("The new deadline must be a date and time with a time zone."),
            details={"field": "until"},
        )
    if until <= now:
        raise ValidationFailed(
            _("The new deadline %(until)s is in the past.") % {"until": _iso(until)},
            details={"field": "until"},
        )

    def in_hand(t: Task) -> None:
        _handlers(actor, _("request an extension of"))(t)
        if t.state not in EXTENSION_STATES:
            raise _state_conflict(t, _("extended"))
        if not task_started(t, now=now):
            raise _not_started(t, _("extended"))

    def apply(t: Task) -> dict[str, Any]:
        if t.extension_status == ExtensionStatus.REQUESTED:
            raise Conflict(
                _("Task %(number)s already has an extension request waiting.")
                % {"number": t.number},
                code="state_conflict",
                details={"task": t.pk},
            )
        if t.deadline is not None and until <= t.deadline:
            raise ValidationFailed(
                _("The new deadline %(until)s is not after the current one %(deadline)s.")
                % {"until": _iso(until), "deadline": _iso(t.deadline)},
                details={"field": "until"},
            )
        _extension_bound_check(until, deadline=t.deadline, now=now)
        t.extension_status = ExtensionStatus.REQUESTED
        t.extension_requested_until = until
        return {
            "until": _iso(until),
            "deadline": _iso(t.deadline) if t.deadline else None,
        }

    def notify(t: Task, _event: TaskEvent) -> None:
        _notify(
            _dispatcher_of(t),
            "task_extension_requested",
            t,
            _("Extension requested for task %(number)s") % {"number": t.number},
            reason,
        )

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.EXTENSION_REQUEST,
        transition=None,
        wanted=_("extended"),
        authorize=in_hand,
        apply=apply,
        after=notify,
        note=reason,
        idempotency_key=idempotency_key,
        now=now,
    )


def task_extension_decide(
    *,
    actor: Any,
    task: Task,
    approve: bool,
    note: str = "",
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Approve or refuse a pending extension request (延期审批).

    Approve: ``deadline`` becomes the requested date (``deadline_original`` keeps the
    first deadline), ``extension_count`` += 1, ``yellow_at`` moves, an overdue flag is
    cleared if the new deadline is ahead; a request beyond ``EXTENSION_MAX_DAYS`` after the
    current deadline (one made before that rule) cannot be approved, only refused. Refuse:
    needs a ``note``; the deadline stays.
    Actor: a dispatcher over the task's area who did not request it. Notifies the
    assignee. Raises ``ValidationFailed``, ``PermissionDenied``, ``Conflict`` (no request
    pending).
    """
    now = _now(now)
    if not approve:
        note = _required_text(note, _("reason"))

    def authorize(t: Task) -> None:
        _require_roles(actor, t.area, DISPATCHER_ROLES, _("decide extensions of"))
        if actor is not None:
            requester = (
                t.events.filter(action=TaskAction.EXTENSION_REQUEST)
                .order_by("-at", "-id")
                .values_list("actor_id", flat=True)
                .first()
            )
            if requester == actor.pk:
                raise PermissionDenied(
                    _("%(user)s requested this extension and may not decide it.")
                    % {"user": _who(actor)},
                    details={"task": t.pk},
                )

    def apply(t: Task) -> dict[str, Any]:
        if t.extension_status != ExtensionStatus.REQUESTED or t.extension_requested_until is None:
            raise Conflict(
                _("Task %(number)s has no extension request waiting.") % {"number": t.number},
                code="state_conflict",
                details={"task": t.pk},
            )
        data: dict[str, Any] = {
            "approved": approve,
            "until": _iso(t.extension_requested_until),
            "deadline_before": _iso(t.deadline) if t.deadline else None,
        }
        if approve:
            _extension_bound_check(t.extension_requested_until, deadline=t.deadline, now=now)
            task_deadline_set(t, t.extension_requested_until)
            t.extension_count += 1
            t.extension_status = ExtensionStatus.APPROVED
            _clear_overdue_if_future(t, now)
        else:
            t.extension_status = ExtensionStatus.REJECTED
        return data

    def notify(t: Task, _event: TaskEvent) -> None:
        title = (
            _("Extension of task %(number)s approved")
            if approve
            else _("Extension of task %(number)s refused")
        ) % {"number": t.number}
        _notify([t.assignee], "task_extension_decided", t, title, note)

    return _run(
        task=task,
        actor=actor,
        action=TaskAction.EXTENSION_APPROVE if approve else TaskAction.EXTENSION_REJECT,
        transition=None,
        wanted=_("extended"),
        authorize=authorize,
        apply=apply,
        after=notify,
        note=note,
        idempotency_key=idempotency_key,
        now=now,
    )
