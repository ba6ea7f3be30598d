"""Test helpers for the task engine: a small street with its staff, and ``make_task``.

``make_task_street()`` builds on ``areas.tests.factories.make_street_tree()`` (two
communities × two grids × one micro-grid; grid ``g11`` is lon 120.00–120.01, lat
30.00–30.01, micro-grid ``m11`` its south-west quarter) and adds:

=====================  =========================  ============================================
user                   role                       where
=====================  =========================  ============================================
``zhou``               command centre             the street
``lin``                community admin            community ``c1``
``wu``                 grid leader                community ``c1``
``chen``, ``chen2``    grid workers               grid ``g11`` (two, for load balancing)
``li``                 grid worker                grid ``g12``
``zhao``               grid worker                grid ``g21`` (community ``c2`` has no leader)
``pm``                 party member               micro-grid ``m11``
``he``                 department handler         department ``law_enforcement`` (street)
``root``               superuser
``nobody``             staff without a role
=====================  =========================  ============================================

Grid ``g22`` has no worker and community ``c2`` no grid leader: a task there ends up
unassigned and flagged. Task types (``types``): ``patrol`` (grid worker), ``volunteer``
(party member), ``enforcement`` (department ``law_enforcement``), ``leader`` (grid
leader), ``community`` (community admin). Rules (``rules``): ``visit`` (household
target, 1 photo, check-in within 200 m, form fields ``health`` (choice, required),
``people_met`` (number, required), ``note`` (text) and ``visited_on`` (date)),
``patrol`` (grid target, 3 work_day), ``quick`` (no target, 4 work_hour). A household
``home`` sits in ``m11`` at (120.002, 30.002); a shop ``shop`` in ``g12``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User

from gridgov.areas.models import Area
from gridgov.areas.tests.factories import make_street_tree
from gridgov.catalog.choices import FormFieldType, Priority, TargetKind
from gridgov.catalog.models import TaskRule, TaskType
from gridgov.catalog.tests.factories import CategoryFactory, TaskRuleFactory, TaskTypeFactory
from gridgov.core.choices import TimeLimitUnit
from gridgov.people.choices import PlaceKind, ResidentTag, Role
from gridgov.people.models import Department, Household, Place
from gridgov.people.tests.factories import (
    DepartmentFactory,
    HouseholdFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
)
from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.models import Task

__all__ = ["HOME_LONLAT", "TaskStreet", "make_task", "make_task_street"]

#: Where the household ``home`` is (WGS84 lon, lat), inside micro-grid m11.
HOME_LONLAT = (120.002, 30.002)

_numbers = itertools.count(1)

#: Staff of the street: username → (area key, role).
STAFF: dict[str, tuple[str, str]] = {
    "zhou": ("street", Role.COMMAND_CENTRE),
    "lin": ("c1", Role.COMMUNITY_ADMIN),
    "wu": ("c1", Role.GRID_LEADER),
    "chen": ("g11", Role.GRID_WORKER),
    "chen2": ("g11", Role.GRID_WORKER),
    "li": ("g12", Role.GRID_WORKER),
    "zhao": ("g21", Role.GRID_WORKER),
    "pm": ("m11", Role.PARTY_MEMBER),
    "he": ("street", Role.DEPARTMENT_HANDLER),
}

VISIT_FORM_FIELDS: list[dict[str, Any]] = [
    {
        "name": "health",
        "label_zh": "健康状况",
        "label_en": "Health",
        "type": FormFieldType.CHOICE.value,
        "required": True,
        "choices": [
            {"value": "good", "label_zh": "良好", "label_en": "Good"},
            {"value": "poor", "label_zh": "较差", "label_en": "Poor"},
        ],
    },
    {
        "name": "people_met",
        "label_zh": "见到人数",
        "label_en": "People met",
        "type": FormFieldType.NUMBER.value,
        "required": True,
    },
    {"name": "note", "label_zh": "备注", "label_en": "Note", "type": "text", "required": False},
    {
        "name": "visited_on",
        "label_zh": "走访日期",
        "label_en": "Visited on",
        "type": FormFieldType.DATE.value,
        "required": False,
    },
    {
        "name": "alone",
        "label_zh": "是否独居",
        "label_en": "Living alone",
        "type": FormFieldType.BOOLEAN.value,
        "required": False,
    },
]


@dataclass
class TaskStreet:
    """The street of ``make_task_street``: areas, users, department, types, rules, targets."""

    tree: dict[str, Area]
    users: dict[str, User] = field(default_factory=dict)
    department: Department | None = None
    types: dict[str, TaskType] = field(default_factory=dict)
    rules: dict[str, TaskRule] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        """``street["chen"]`` → a user, ``street["g11"]`` → an area."""
        return self.users[key] if key in self.users else self.tree[key]


def make_task_street() -> TaskStreet:
    """Build the street described in this module's docstring (needs the ``db`` fixture)."""
    street = TaskStreet(tree=make_street_tree())
    tree = street.tree
    street.department = DepartmentFactory(
        code="law_enforcement", name="综合行政执法队", area=tree["street"]
    )
    for username, (area_key, role) in STAFF.items():
        user = UserFactory(username=username)
        MembershipFactory(
            user=user,
            area=tree[area_key],
            role=role,
            department=street.department if role == Role.DEPARTMENT_HANDLER else None,
        )
        street.users[username] = user
    street.users["root"] = UserFactory(username="root", is_superuser=True)
    street.users["nobody"] = UserFactory(username="nobody")

    category = CategoryFactory(code="88")
    handlers = {
        "patrol": {"handler_role": Role.GRID_WORKER},
        "volunteer": {"handler_role": Role.PARTY_MEMBER},
        "enforcement": {"handler_role": "", "handler_department": "law_enforcement"},
        "leader": {"handler_role": Role.GRID_LEADER},
        "community": {"handler_role": Role.COMMUNITY_ADMIN},
    }
    for n, (key, handler) in enumerate(handlers.items(), start=1):
        street.types[key] = TaskTypeFactory(
            category=category, code=f"88{n:02d}", name_zh=f"类型{key}", **handler
        )
    patrol = street.types["patrol"]
    street.rules["visit"] = TaskRuleFactory(
        task_type=patrol,
        code=f"{patrol.code}01",
        target_kind=TargetKind.HOUSEHOLD,
        target_tag=ResidentTag.ELDERLY,
        recurrence="FREQ=WEEKLY;BYDAY=MO",
        time_limit_value=2,
        time_limit_unit=TimeLimitUnit.WORK_DAY,
        priority=Priority.HIGH,
        min_photos=1,
        checkin_radius_m=200,
        form_fields=VISIT_FORM_FIELDS,
    )
    street.rules["patrol"] = TaskRuleFactory(
        task_type=patrol,
        code=f"{patrol.code}02",
        target_kind=TargetKind.GRID,
        recurrence="FREQ=WEEKLY;BYDAY=MO",
        time_limit_value=3,
        time_limit_unit=TimeLimitUnit.WORK_DAY,
    )
    street.rules["quick"] = TaskRuleFactory(
        task_type=patrol,
        code=f"{patrol.code}03",
        target_kind=TargetKind.NONE,
        recurrence="",
        time_limit_value=4,
        time_limit_unit=TimeLimitUnit.WORK_HOUR,
    )
    lon, lat = HOME_LONLAT
    street.households["home"] = HouseholdFactory(
        area=tree["m11"], address="古荡新村1幢1单元101室", lon=lon, lat=lat
    )
    street.places["shop"] = PlaceFactory(
        area=tree["g12"], kind=PlaceKind.SHOP, name="示例商店", lon=120.015, lat=30.005
    )
    return street


#: The step timestamp each state implies (a task in that state has passed those steps).
_STEPS: dict[str, tuple[str, ...]] = {
    TaskState.REPORTED: ("reported_at",),
    TaskState.REGISTERED: ("reported_at", "registered_at"),
    TaskState.REJECTED: ("reported_at",),
    TaskState.DISPATCHED: ("dispatched_at",),
    TaskState.SENT_BACK: ("dispatched_at",),
    TaskState.ACCEPTED: ("dispatched_at", "accepted_at"),
    TaskState.HANDLED: ("dispatched_at", "accepted_at", "handled_at"),
    TaskState.RETURNED: ("dispatched_at", "accepted_at", "handled_at"),
    TaskState.CLOSED: ("dispatched_at", "accepted_at", "handled_at", "closed_at"),
    TaskState.CANCELLED: ("dispatched_at", "cancelled_at"),
}


def make_task(
    *,
    area: Area,
    task_type: TaskType,
    state: str = TaskState.DISPATCHED,
    assignee: User | None = None,
    at: dt.datetime | None = None,
    deadline: dt.datetime | None = None,
    **fields: Any,
) -> Task:
    """Create a task row directly, in ``state``, bypassing the services (no timeline rows).

    ``at``: the time of every step the state implies (``dispatched_at`` …), default
    2025-06-02 09:00 Asia/Shanghai (a Monday); ``deadline`` defaults to 3 days after ``at``.
    Any other ``Task`` field may be given in ``fields`` (``source`` defaults to
    ``worker_report``, ``title`` to "测试任务 N", ``number`` to a unique ``T…`` number).
    """
    at = at or dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    n = next(_numbers)
    values: dict[str, Any] = {
        "number": f"T{n:08d}",
        "source": TaskSource.WORKER_REPORT,
        "title": f"测试任务 {n}",
        "deadline": deadline or at + dt.timedelta(days=3),
    }
    values.update(dict.fromkeys(_STEPS[state], at))
    values.update(fields)
    values.setdefault("deadline_original", values["deadline"])
    return Task.objects.create(
        area=area, task_type=task_type, state=state, assignee=assignee, **values
    )
