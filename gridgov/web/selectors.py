"""Reads the web pages need, built on the task engine's scoped selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgov.core.errors import PermissionDenied
from gridgov.people.choices import Role
from gridgov.people.selectors import user_memberships
from gridgov.tasks.choices import OPEN_STATES, ExtensionStatus, TaskState, TrafficLight
from gridgov.tasks.models import Task
from gridgov.tasks.selectors import task_light_annotate, task_list_visible_to
from gridgov.tasks.services import (
    EXTENSION_STATES,
    _require_handler,
    _require_handler_strict,
    task_started,
)

#: States in which a task is on its assignee's list of work to do: to accept, to handle,
#: to rework. (Handled tasks wait for the check; sent-back ones have no assignee.)
TODO_STATES = [TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.RETURNED]
#: Roles whose home is a list of tasks to work on (the today list).
LIST_ROLES = frozenset({Role.GRID_WORKER, Role.DEPARTMENT_HANDLER})
#: The order of the groups on the today page: the most urgent first.
LIGHT_ORDER = [TrafficLight.RED, TrafficLight.YELLOW, TrafficLight.GREEN]


@dataclass
class LightGroup:
    """The tasks of one traffic light, in due order."""

    light: str
    label: str
    tasks: list[Task] = field(default_factory=list)


def user_is_grid_worker(user: Any) -> bool:
    """Whether ``user`` holds the grid-worker role anywhere (their home is the today list)."""
    return any(m.role == Role.GRID_WORKER for m in user_memberships(user))


def user_has_task_list(user: Any) -> bool:
    """Whether ``user``'s home is the today list: they hold a role in ``LIST_ROLES`` (grid
    worker, department handler) anywhere."""
    return any(m.role in LIST_ROLES for m in user_memberships(user))


def user_department_ids(user: Any) -> list[int]:
    """The departments ``user`` handles tasks for (their department-handler memberships)."""
    return sorted(
        {
            m.department_id
            for m in user_memberships(user)
            if m.role == Role.DEPARTMENT_HANDLER and m.department_id is not None
        }
    )


def user_role_labels(user: Any) -> list[str]:
    """The labels of ``user``'s roles, each once, in the order of ``Role``."""
    held = {m.role for m in user_memberships(user)}
    return [str(label) for value, label in Role.choices if value in held]


def task_list_todo_for(user: Any, *, now: dt.datetime) -> QuerySet[Task]:
    """Return the open tasks ``user`` has to work on, with ``light``.

    The tasks the task engine lets them act on (``tasks.services._require_handler``): those
    assigned to ``user``, and those waiting unassigned in the queue of a department they
    handle (``user_department_ids``). Scoped by ``tasks.selectors.task_list_visible_to``;
    states in ``TODO_STATES``; routine tasks generated ahead (``dispatched_at`` after
    ``now``) are left out until their day. Ordered by deadline (none last), then number;
    targets joined (no query per row).
    """
    mine = Q(assignee_id=user.pk)
    if departments := user_department_ids(user):
        mine |= Q(assignee__isnull=True, department_id__in=departments)
    qs = task_list_visible_to(user, state=list(TODO_STATES)).filter(mine)
    qs = qs.filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=now))
    qs = task_light_annotate(qs, now=now).select_related("target_household", "target_place")
    return qs.order_by(F("deadline").asc(nulls_last=True), "number")


def task_actions_for(user: Any, task: Task, *, now: dt.datetime | None = None) -> dict[str, bool]:
    """Which of the worker's actions ``user`` may take on ``task`` at ``now`` (aware;
    default the current time), as the task engine decides: ``accept`` (dispatched),
    ``send_back`` (dispatched), ``extension`` (``services.EXTENSION_STATES``: dispatched,
    accepted, returned; none pending) need ``tasks.services._require_handler`` (the
    assignee, or a handler of the department of an unassigned task); ``feedback``
    (accepted or returned) needs ``_require_handler_strict`` (the assignee only).
    ``accept``, ``feedback`` and ``extension`` also need the task to have started
    (``services.task_started``: ``dispatched_at`` not after ``now``); ``not_started`` is
    true before then, for the page to say when it starts. The services check again on
    POST."""
    now = now or timezone.now()

    def allowed(check: Any, *args: Any) -> bool:
        try:
            check(user, task, *args)
        except PermissionDenied:
            return False
        return True

    handler = user.is_authenticated and allowed(_require_handler, "")
    assignee = user.is_authenticated and allowed(_require_handler_strict)
    started = task_started(task, now=now)
    return {
        "accept": handler and started and task.state == TaskState.DISPATCHED,
        "send_back": handler and task.state == TaskState.DISPATCHED,
        "feedback": assignee and started and task.state in (TaskState.ACCEPTED, TaskState.RETURNED),
        "extension": handler
        and started
        and task.state in EXTENSION_STATES
        and task.extension_status != ExtensionStatus.REQUESTED,
        "not_started": not started,
    }


def task_groups_by_light(tasks: list[Task]) -> list[LightGroup]:
    """Group ``tasks`` (annotated with ``light``) red, yellow, green, keeping their order."""
    groups = {light: LightGroup(light.value, str(light.label)) for light in LIGHT_ORDER}
    for task in tasks:
        groups[TrafficLight(task.light)].tasks.append(task)  # type: ignore[attr-defined]
    return list(groups.values())


def task_target_label(task: Task) -> str:
    """Where the task is, for a list: the household's masked address, the place's name,
    else the area's name. Personal data is masked (``people.masking``)."""
    if task.target_household is not None:
        return str(task.target_household)
    if task.target_place is not None:
        return str(task.target_place)
    return task.area.name


def task_map_point(task: Task) -> tuple[float, float] | None:
    """Where to put the task on a map (WGS84 lon, lat): its target's location, else its own."""
    for target in (task.target_household, task.target_place):
        if target is not None and target.lon is not None and target.lat is not None:
            return (target.lon, target.lat)
    if task.lon is not None and task.lat is not None:
        return (task.lon, task.lat)
    return None


@dataclass(frozen=True)
class Attention:
    """One figure of a manager's home: what waits for them, and where it is listed."""

    key: str
    label: str
    count: int
    url: str


#: What a manager's home puts first: key, label, the task list's filters that list
#: exactly those tasks (``forms_manage.TaskFilterForm``), and the condition counted.
ATTENTION = (
    ("to_register", _("Reports to register"), {"state": TaskState.REPORTED.value}),
    ("to_dispatch", _("Registered, to dispatch"), {"state": TaskState.REGISTERED.value}),
    ("sent_back", _("Sent back, to dispatch again"), {"state": TaskState.SENT_BACK.value}),
    ("to_verify", _("Handled, to verify"), {"state": TaskState.HANDLED.value}),
    ("overdue_now", _("Overdue now"), {"overdue": "now"}),
)


def manager_attention_for(user: Any, *, now: dt.datetime) -> list[Attention]:
    """What waits for a manager in their areas at ``now``, for their home page: reports
    to register, tasks to dispatch (registered, sent back), handled tasks to verify and
    open tasks past their deadline (not suspended; the dashboard's "overdue now"). Each
    count is the number of rows the task list shows for ``Attention.filters`` (same
    scope, ``tasks.selectors.task_list_visible_to``); ``Attention.url`` lists them (the
    verification queue for the handled ones). One query."""
    conditions = {
        "to_register": Q(state=TaskState.REPORTED),
        "to_dispatch": Q(state=TaskState.REGISTERED),
        "sent_back": Q(state=TaskState.SENT_BACK),
        "to_verify": Q(state=TaskState.HANDLED),
        "overdue_now": Q(state__in=OPEN_STATES, suspended_at__isnull=True, deadline__lt=now),
    }
    counts = task_list_visible_to(user).aggregate(
        **{key: Count("pk", filter=condition) for key, condition in conditions.items()}
    )
    task_list = reverse("manage:tasks")
    return [
        Attention(
            key=key,
            label=str(label),
            count=counts[key] or 0,
            # The handled tasks are worked in the verification queue, the rest in the list.
            url=reverse("manage:verify")
            if key == "to_verify"
            else f"{task_list}?{urlencode(filters)}",
        )
        for key, label, filters in ATTENTION
    ]
