"""Routing: who a new (or re-dispatched) task goes to.

The rules, in order (issue 3, "Dispatch"; see docs/tasks.md):

1. A task type handled by a functional department (``TaskType.handler_department`` = a
   ``Department.code``) goes to that department's queue: ``department_id`` set, no assignee.
2. A type whose handler role is ``party_member``, for a task in a micro-grid, goes to one of
   that micro-grid's party members (least loaded), when it has any.
3. A type whose handler role is ``grid_leader``, ``community_admin`` or ``command_centre``
   goes to a holder of that role over the task's area, the nearest first (a grid's own
   leader before the community's), least loaded among the nearest.
4. Everything else (``grid_worker``, and the fall-backs of 2) goes to the grid worker of
   the task's grid (a micro-grid's grid is its parent) with the fewest open tasks; ties go
   to the lowest user id.
5. Nobody found → the grid leader's queue: a grid leader of the grid or of its community
   (nearest first, least loaded), with ``needs_attention`` set so that a person looks at
   it. An unknown or inactive department goes there too.
6. No grid leader either → unassigned, ``needs_attention`` set.

"Open tasks" for the load are those in the assignee's hands: dispatched, accepted or
returned for rework (a handled task waits for the verifier, a sent-back one for the
dispatcher). Only active users are candidates.

Areas are related by their hierarchical codes (``areas.models.CODE_LENGTH``): the grid of
a micro-grid is the first 15 digits of its code, the community the first 12, so an area's
ancestors are found without walking parent links.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count

from gridgov.areas.models import CODE_LENGTH, Area, AreaLevel
from gridgov.catalog.models import TaskType
from gridgov.people.choices import Role
from gridgov.people.models import Department, Household, Membership, Place
from gridgov.tasks.choices import TaskState

__all__ = ["LOAD_STATES", "Route", "RoutingTable", "route_task"]

#: States in which a task counts towards its assignee's load.
LOAD_STATES: frozenset[str] = frozenset(
    {TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.RETURNED}
)

_GRID_LEN = CODE_LENGTH[AreaLevel.GRID]
_MICRO_LEN = CODE_LENGTH[AreaLevel.MICRO_GRID]
#: Roles routed to "their holder over the area", nearest first (rule 3).
_SUPERVISOR_ROLES = frozenset({Role.GRID_LEADER, Role.COMMUNITY_ADMIN, Role.COMMAND_CENTRE})
#: Ancestor-or-self code lengths, deepest first.
_LENGTHS_DEEPEST_FIRST = sorted(CODE_LENGTH.values(), reverse=True)
#: Chunk size of ``IN (...)`` lists: well under SQLite's 32,766 bound variables.
_CHUNK = 5000


@dataclass(frozen=True)
class Route:
    """Where a task goes.

    ``area``: the task's area (as given: a micro-grid stays a micro-grid);
    ``assignee_id``: the user who receives it, or ``None``; ``department_id``: the
    department whose queue receives it, or ``None``; ``needs_attention``: nobody fitting
    was found (grid leader's queue, or unassigned).
    """

    area: Area
    assignee_id: int | None
    department_id: int | None
    needs_attention: bool


def _ancestor_codes(code: str) -> list[str]:
    """The codes of ``code``'s area and its ancestors, deepest first."""
    return [code[:n] for n in _LENGTHS_DEEPEST_FIRST if n <= len(code)]


def _chunks(values: Sequence[str] | Sequence[int]) -> Iterable[list]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


class RoutingTable:
    """An in-memory routing snapshot for many areas: build once, route many, no queries.

    Build with ``RoutingTable.build(areas=...)`` (three queries plus one per 5,000 codes or
    users). ``route`` counts each task it hands out towards its assignee's load, so a batch
    of tasks for one grid spreads over the grid's workers.
    """

    def __init__(
        self,
        *,
        holders: dict[tuple[str, str], list[int]],
        departments: dict[str, int],
        load: dict[int, int],
    ) -> None:
        #: (area code, role) → active user ids holding that role on exactly that area.
        self._holders = holders
        #: department code → id (active departments only).
        self._departments = departments
        #: user id → open tasks in their hands (``LOAD_STATES``), plus those handed out.
        self._load = load

    @classmethod
    def build(cls, *, areas: Iterable[Area]) -> RoutingTable:
        """Load what routing into ``areas`` needs: role holders, departments, loads.

        ``areas``: the areas tasks will be routed into (grids, micro-grids or any level);
        their ancestors' role holders are loaded too. Returns a ``RoutingTable``.
        """
        from gridgov.tasks.models import Task

        codes: set[str] = set()
        for area in areas:
            codes.update(_ancestor_codes(area.code))
        holders: dict[tuple[str, str], list[int]] = defaultdict(list)
        for chunk in _chunks(sorted(codes)):
            rows = (
                Membership.objects.filter(area__code__in=chunk, user__is_active=True)
                .values_list("area__code", "role", "user_id")
                .order_by("user_id")
            )
            for code, role, user_id in rows:
                holders[(code, role)].append(user_id)
        departments = dict(Department.objects.filter(is_active=True).values_list("code", "id"))
        users = sorted({uid for ids in holders.values() for uid in ids})
        load: dict[int, int] = dict.fromkeys(users, 0)
        for chunk in _chunks(users):
            counts = (
                Task.objects.filter(assignee_id__in=chunk, state__in=LOAD_STATES)
                .values("assignee_id")
                .annotate(n=Count("id"))
                .values_list("assignee_id", "n")
                .order_by()
            )
            for user_id, n in counts:
                load[user_id] = n
        return cls(holders=dict(holders), departments=departments, load=load)

    # -- picking ---------------------------------------------------------------------------

    def _pick(self, candidates: list[int]) -> int | None:
        """The least-loaded candidate (ties: lowest id); count the task towards them."""
        if not candidates:
            return None
        chosen = min(candidates, key=lambda uid: (self._load.get(uid, 0), uid))
        self._load[chosen] = self._load.get(chosen, 0) + 1
        return chosen

    def _nearest(self, code: str, role: str, *, max_len: int | None = None) -> list[int]:
        """Holders of ``role`` on the nearest of ``code``'s area and its ancestors."""
        for ancestor in _ancestor_codes(code):
            if max_len is not None and len(ancestor) > max_len:
                continue
            ids = self._holders.get((ancestor, role))
            if ids:
                return ids
        return []

    def _leader_queue(self, area: Area) -> Route:
        """Rule 5 and 6: a grid leader of the grid or its community, flagged; else nobody."""
        leader = self._pick(self._nearest(area.code, Role.GRID_LEADER, max_len=_GRID_LEN))
        return Route(area=area, assignee_id=leader, department_id=None, needs_attention=True)

    # -- routing ---------------------------------------------------------------------------

    def route(self, task_type: TaskType, area: Area) -> Route:
        """Return where a task of ``task_type`` in ``area`` goes (rules in the module doc).

        No queries. Counts the chosen assignee's new task towards their load.
        """
        if task_type.handler_department:
            department_id = self._departments.get(task_type.handler_department)
            if department_id is not None:
                return Route(
                    area=area, assignee_id=None, department_id=department_id, needs_attention=False
                )
            return self._leader_queue(area)
        role = task_type.handler_role or Role.GRID_WORKER
        assignee: int | None = None
        if role == Role.PARTY_MEMBER and len(area.code) == _MICRO_LEN:
            assignee = self._pick(self._holders.get((area.code, Role.PARTY_MEMBER), []))
        elif role in _SUPERVISOR_ROLES:
            assignee = self._pick(self._nearest(area.code, role))
        if assignee is None and role not in _SUPERVISOR_ROLES and len(area.code) >= _GRID_LEN:
            grid_code = area.code[:_GRID_LEN]
            assignee = self._pick(self._holders.get((grid_code, Role.GRID_WORKER), []))
        if assignee is not None:
            return Route(area=area, assignee_id=assignee, department_id=None, needs_attention=False)
        return self._leader_queue(area)


def route_task(
    *,
    task_type: TaskType,
    area: Area | None,
    target_household: Household | None = None,
    target_place: Place | None = None,
) -> Route:
    """Decide where one task goes (the rules in this module's docstring).

    ``area``: the task's area (grid or micro-grid, usually from ``area_locate``); when
    ``None`` the target household's or place's area is used. Returns a ``Route``. Three
    queries (role holders, departments, loads). Raises ``ValueError`` when neither an area
    nor a target is given (a programming error: ``task_create`` checks its input first).
    """
    if area is None:
        target = target_household or target_place
        if target is None:
            raise ValueError("route_task needs an area or a target household / place")
        area = target.area
    return RoutingTable.build(areas=[area]).route(task_type, area)
