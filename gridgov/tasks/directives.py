"""Directives: an instruction from the command centre to a set of areas, one task per grid.

A directive (指令) names areas; each expands to its grids (a street or a community to
every grid valid in it on the day of issue, a grid to itself) and every grid gets one
task of source ``directive``, starting ``dispatched``, keyed ``directive:<id>:<grid id>``
so that re-running the fan-out creates nothing twice. Its progress is the aggregate of
those tasks. A directive may carry an indicator target for a period — today
``patrol_coverage`` (巡查覆盖率, GLOSSARY: households visited / households in the grid) —
tracked per grid from the tasks that count towards it. See docs/campaigns.md.

Services (writes) and selectors (reads) live together here because they share the grid
expansion and the indicator table; both follow the HackSoft split by name
(``directive_issue`` writes, ``directive_progress`` reads).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gridgov.areas.models import CODE_LENGTH, Area, AreaLevel
from gridgov.areas.selectors import area_list_valid, area_valid_q
from gridgov.catalog.choices import Priority, TargetKind
from gridgov.catalog.models import TaskType
from gridgov.core.calendar import deadline_set_by_hand_check
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.people.choices import Role
from gridgov.people.models import Household
from gridgov.people.selectors import scope_queryset, user_can_access_area, user_holds_role
from gridgov.tasks.choices import OPEN_STATES, TaskSource, TaskState
from gridgov.tasks.models import Directive, Task

__all__ = [
    "DIRECTIVE_ISSUER_ROLES",
    "INDICATORS",
    "Indicator",
    "directive_grids",
    "directive_issue",
    "directive_list_visible_to",
    "directive_progress",
    "directive_tasks_create",
    "patrol_coverage_by_grid",
    "percent",
]

#: Roles that may issue directives, over every chosen area: the command centre over its
#: street, a community admin inside their community.
DIRECTIVE_ISSUER_ROLES: frozenset[str] = frozenset({Role.COMMAND_CENTRE, Role.COMMUNITY_ADMIN})

_GRID_LEN = CODE_LENGTH[AreaLevel.GRID]
#: Levels a directive may name: the ones that expand to grids, and grids.
_EXPANDING_LEVELS = frozenset({AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY})
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


def percent(numerator: int, denominator: int) -> Decimal | None:
    """Return ``numerator / denominator`` as a percentage rounded half-up to 0.01.

    ``None`` when the denominator is 0 (the rate is undefined, not 0% or 100%).
    E.g. ``percent(2, 3) == Decimal("66.67")``.
    """
    if not denominator:
        return None
    return (Decimal(numerator) * _HUNDRED / Decimal(denominator)).quantize(
        _CENT, rounding=ROUND_HALF_UP
    )


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- indicators -----------------------------------------------------------------------------


def patrol_coverage_by_grid(
    *, grids: Iterable[Area], start: dt.date, end: dt.date
) -> dict[int, dict[str, int]]:
    """Count, per grid, the households in it and the distinct households visited in a period.

    ``grids``: grid areas; ``start``/``end``: local dates, both inclusive. A household is
    "in the grid" when its area is the grid or one of its micro-grids (code prefix). It is
    "visited" when a **closed routine task of a rule targeting households**
    (``rule.target_kind = household``) names it and was handled (feedback submitted)
    between ``start`` 00:00 and ``end`` 24:00 local time; several visits to one household
    count once. Returns ``{grid id: {"households": n, "visited": m}}`` (two queries).

    Source: GLOSSARY 巡查覆盖率 (patrol coverage = households visited / households in the
    grid); the choice of tasks that count is ours, documented in docs/campaigns.md.
    """
    by_code = {g.code: g.pk for g in grids}
    result = {pk: {"households": 0, "visited": 0} for pk in by_code.values()}
    if not by_code:
        return result
    codes = list(by_code)
    households = (
        Household.objects.annotate(grid_code=Substr("area__code", 1, _GRID_LEN))
        .filter(grid_code__in=codes)
        .values("grid_code")
        .annotate(n=Count("id"))
    )
    for row in households:
        result[by_code[row["grid_code"]]]["households"] = row["n"]
    visits = (
        Task.objects.filter(
            source=TaskSource.ROUTINE,
            rule__target_kind=TargetKind.HOUSEHOLD,
            state=TaskState.CLOSED,
            target_household__isnull=False,
            handled_at__gte=_day_start(start),
            handled_at__lt=_day_start(end + dt.timedelta(days=1)),
        )
        .annotate(grid_code=Substr("target_household__area__code", 1, _GRID_LEN))
        .filter(grid_code__in=codes)
        .values("grid_code")
        .annotate(n=Count("target_household", distinct=True))
    )
    for row in visits:
        result[by_code[row["grid_code"]]]["visited"] = row["n"]
    return result


@dataclass(frozen=True)
class Indicator:
    """An indicator a directive may target: its label, formula, source, and the function
    that counts ``{grid id: {"households"|…: numerator/denominator parts}}``.

    ``numerator``/``denominator`` name the keys of the counts the value is made of.
    """

    label: Any
    formula: str
    source: str
    numerator: str
    denominator: str
    count: Callable[..., dict[int, dict[str, int]]]


#: The indicators a directive may carry (the key is ``Directive.indicator``).
INDICATORS: dict[str, Indicator] = {
    "patrol_coverage": Indicator(
        label=gettext_lazy("Patrol coverage"),
        formula="households visited / households in the grid",
        source="GLOSSARY 巡查覆盖率",
        numerator="visited",
        denominator="households",
        count=patrol_coverage_by_grid,
    ),
}


# --- expansion and permissions --------------------------------------------------------------


def directive_grids(*, areas: Iterable[Area], on: dt.date) -> list[Area]:
    """Expand the areas a directive names to the grids that receive a task.

    A district, street or community → every grid inside it valid on ``on``; a grid →
    itself (it must be valid on ``on``). Duplicates (a grid named alone and through its
    community) count once. Returns grids ordered by code.
    Raises ``ValidationFailed`` for a micro-grid, an invalid grid, or no grid at all.
    """
    grids: dict[int, Area] = {}
    for area in areas:
        if area.level == AreaLevel.GRID:
            if not Area.objects.filter(area_valid_q(on), pk=area.pk).exists():
                raise ValidationFailed(
                    _("The grid %(area)s is not in force on %(day)s.") % {"area": area, "day": on}
                )
            grids[area.pk] = area
        elif area.level in _EXPANDING_LEVELS:
            inside = area_list_valid(on=on).filter(level=AreaLevel.GRID, code__startswith=area.code)
            grids.update((g.pk, g) for g in inside)
        else:
            raise ValidationFailed(
                _("A directive goes to grids or to the areas above them, not to %(area)s.")
                % {"area": area}
            )
    if not grids:
        raise ValidationFailed(_("The chosen areas contain no grid in force."))
    return sorted(grids.values(), key=lambda g: g.code)


def _require_issuer(actor: Any, areas: Iterable[Area]) -> None:
    """Raise ``PermissionDenied`` unless ``actor`` (``None`` = system) may issue over every
    one of ``areas``."""
    if actor is None:
        return
    if not user_holds_role(actor, DIRECTIVE_ISSUER_ROLES):
        raise PermissionDenied(
            _("Only the command centre or a community admin may issue directives.")
        )
    for area in areas:
        if not user_can_access_area(actor, area, roles=DIRECTIVE_ISSUER_ROLES):
            raise PermissionDenied(
                _("%(area)s is outside the areas you may issue directives to.") % {"area": area}
            )


def _grid_id_of(task: Task) -> int:
    """The grid a directive task was issued to (from its source key, which a transfer to
    another grid does not change); the task's area if the key is missing."""
    if task.source_key:
        grid_id = task.source_key.rpartition(":")[2]
        if grid_id.isdigit():
            return int(grid_id)
    return task.area_id


# --- services --------------------------------------------------------------------------------


def directive_issue(
    *,
    actor: Any,
    title: str,
    instruction: str,
    task_type: TaskType,
    deadline: dt.datetime,
    areas: Iterable[Area],
    priority: str | None = None,
    indicator: str = "",
    indicator_target: Decimal | float | int | str | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Directive:
    """Issue a directive and create one dispatched task per grid of ``areas``.

    ``actor``: a command-centre user over every area, or a community admin inside their
    community (``None`` = the system). ``areas``: districts, streets, communities (→ every
    grid valid in them today) or grids. ``deadline``: aware datetime after ``now`` and within
    366 days of it (``core.calendar.deadline_set_by_hand_check``); each
    task gets it as its deadline. ``priority``: a ``catalog.choices.Priority`` value
    (default normal). ``indicator``: a key of ``INDICATORS`` (e.g. ``"patrol_coverage"``)
    with ``indicator_target`` a percentage in 0–100, tracked from ``period_start`` to
    ``period_end`` (local dates, inclusive; default: the day of issue to the deadline's day).
    Returns the directive; its tasks are ``directive.tasks``.

    Raises ``PermissionDenied`` (role, or an area outside the actor's), ``ValidationFailed``
    (empty or too long title, empty instruction, deadline not after now, unknown priority
    or indicator, target out of range, period reversed, areas with no grid in force).
    """
    now = now or timezone.now()
    areas = list(areas)
    _require_issuer(actor, areas)
    title = (title or "").strip()
    instruction = (instruction or "").strip()
    if not title:
        raise ValidationFailed(_("A directive needs a title."))
    if len(title) > 200:
        raise ValidationFailed(_("A title has at most 200 characters."))
    if not instruction:
        raise ValidationFailed(_("A directive needs an instruction."))
    if not areas:
        raise ValidationFailed(_("Choose at least one area."))
    if timezone.is_naive(deadline):
        raise ValidationFailed(_("The deadline must carry a time zone."))
    deadline_set_by_hand_check(deadline, now=now)
    priority = priority or Priority.NORMAL
    if priority not in Priority.values:
        raise ValidationFailed(_("Unknown priority %(priority)r.") % {"priority": priority})
    target: Decimal | None = None
    if indicator:
        if indicator not in INDICATORS:
            raise ValidationFailed(
                _("Unknown indicator %(indicator)r; known: %(known)s.")
                % {"indicator": indicator, "known": ", ".join(sorted(INDICATORS))}
            )
        try:
            target = Decimal(str(indicator_target)) if indicator_target is not None else None
        except ArithmeticError:
            target = None
        if target is None or not target.is_finite() or not (0 <= target <= 100):
            raise ValidationFailed(
                _("The indicator target must be a percentage between 0 and 100, not %(target)r.")
                % {"target": indicator_target}
            )
        target = target.quantize(_CENT, rounding=ROUND_HALF_UP)
        period_start = period_start or timezone.localdate(now)
        period_end = period_end or timezone.localdate(deadline)
        if period_end < period_start:
            raise ValidationFailed(
                _("The indicator period ends (%(end)s) before it starts (%(start)s).")
                % {"start": period_start, "end": period_end}
            )
    elif indicator_target is not None:
        raise ValidationFailed(_("An indicator target needs an indicator."))
    else:
        period_start = period_end = None

    with transaction.atomic():
        grids = directive_grids(areas=areas, on=timezone.localdate(now))
        directive = Directive.objects.create(
            title=title,
            instruction=instruction,
            task_type=task_type,
            deadline=deadline,
            priority=priority,
            issued_by=actor,
            indicator=indicator,
            indicator_target=target,
            indicator_period_start=period_start,
            indicator_period_end=period_end,
        )
        directive.areas.set(areas)
        _create_missing_tasks(actor=actor, directive=directive, grids=grids, now=now)
    return directive


def directive_tasks_create(
    *, actor: Any, directive: Directive, now: dt.datetime | None = None
) -> list[Task]:
    """Create the tasks a directive still lacks: one per grid of its areas valid today.

    Idempotent: a grid that already has its task (source key ``directive:<id>:<grid id>``)
    gets nothing, so a rerun after a crash, or after a grid was added to a community,
    creates only what is missing. Returns the tasks created (possibly none).
    Raises ``PermissionDenied`` as ``directive_issue``.
    """
    now = now or timezone.now()
    areas = list(directive.areas.all())
    _require_issuer(actor, areas)
    with transaction.atomic():
        grids = directive_grids(areas=areas, on=timezone.localdate(now))
        return _create_missing_tasks(actor=actor, directive=directive, grids=grids, now=now)


def _create_missing_tasks(
    *, actor: Any, directive: Directive, grids: list[Area], now: dt.datetime
) -> list[Task]:
    # Imported here: services.py imports the models this module also uses, and a module
    # level import would make the two modules' import order matter.
    from gridgov.tasks.services import task_create

    keys = {grid.pk: f"directive:{directive.pk}:{grid.pk}" for grid in grids}
    existing = set(
        Task.objects.filter(source_key__in=keys.values()).values_list("source_key", flat=True)
    )
    created = []
    for grid in grids:
        if keys[grid.pk] in existing:
            continue
        created.append(
            task_create(
                actor=actor,
                source=TaskSource.DIRECTIVE,
                task_type=directive.task_type,
                area=grid,
                title=directive.title,
                description=directive.instruction,
                directive=directive,
                priority=directive.priority,
                deadline=directive.deadline,
                source_key=keys[grid.pk],
                now=now,
            )
        )
    return created


# --- selectors --------------------------------------------------------------------------------


def directive_list_visible_to(user: Any) -> QuerySet[Directive]:
    """Return the directives with at least one task inside ``user``'s areas (superusers:
    all), newest first."""
    visible = scope_queryset(Task.objects.filter(directive__isnull=False), user)
    return (
        Directive.objects.filter(Q(pk__in=visible.values("directive_id")))
        .select_related("task_type", "issued_by")
        .order_by("-created_at", "-id")
    )


def directive_progress(*, directive: Directive, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return a directive's progress: the aggregate of its tasks, overall and per grid.

    Keys: ``issued`` (tasks), ``closed``, ``open``, ``cancelled``, ``overdue`` (open, not
    suspended, deadline before ``now``), ``closed_on_time`` (closed at or before the task's
    deadline, extensions included), ``due`` (issued − cancelled), ``closure_rate`` =
    closed / due and ``on_time_rate`` = closed on time / due (GLOSSARY 结案率, 按期结案率;
    percentages, ``Decimal`` to 0.01, ``None`` when nothing is due), ``grids``: one dict
    per grid ordered by code (``grid_id``, ``grid_code``, ``grid_name``, ``task_id``,
    ``task_number``, ``state``, ``closed``, ``overdue``, ``closed_on_time``, and with an
    indicator ``indicator``: ``{numerator, denominator, value, met}``), and ``indicator``:
    ``None`` or ``{name, label, formula, source, target, period_start, period_end,
    numerator, denominator, value, grids_met, grids_not_met, grids_undefined, met}`` where a
    grid meets the target when its value ≥ target; ``met`` is true when every grid with a
    defined value meets it. Two queries (tasks, grids), two more for patrol coverage.
    """
    now = now or timezone.now()
    tasks = list(directive.tasks.select_related("area").order_by("id"))
    grid_ids = {_grid_id_of(t) for t in tasks}
    grids = {g.pk: g for g in Area.objects.filter(pk__in=grid_ids)}
    spec = INDICATORS.get(directive.indicator) if directive.indicator else None
    counts: dict[int, dict[str, int]] = {}
    if spec is not None and directive.indicator_period_start and directive.indicator_period_end:
        counts = spec.count(
            grids=grids.values(),
            start=directive.indicator_period_start,
            end=directive.indicator_period_end,
        )

    totals: dict[str, int] = defaultdict(int)
    rows = []
    for task in tasks:
        grid = grids.get(_grid_id_of(task), task.area)
        closed = task.state == TaskState.CLOSED
        cancelled = task.state == TaskState.CANCELLED
        is_open = task.state in OPEN_STATES
        overdue = bool(
            is_open
            and task.suspended_at is None
            and task.deadline is not None
            and task.deadline < now
        )
        on_time = bool(
            closed and task.closed_at and (task.deadline is None or task.closed_at <= task.deadline)
        )
        totals["issued"] += 1
        totals["closed"] += closed
        totals["cancelled"] += cancelled
        totals["open"] += is_open
        totals["overdue"] += overdue
        totals["closed_on_time"] += on_time
        row: dict[str, Any] = {
            "grid_id": grid.pk,
            "grid_code": grid.code,
            "grid_name": grid.name,
            "task_id": task.pk,
            "task_number": task.number,
            "state": task.state,
            "closed": closed,
            "overdue": overdue,
            "closed_on_time": on_time,
        }
        rows.append(row)

    indicator: dict[str, Any] | None = None
    if spec is not None:
        target = directive.indicator_target
        summary = {"numerator": 0, "denominator": 0, "met": 0, "not_met": 0, "undefined": 0}
        for row in rows:
            c = counts.get(row["grid_id"], {})
            numerator, denominator = c.get(spec.numerator, 0), c.get(spec.denominator, 0)
            value = percent(numerator, denominator)
            met = None if value is None or target is None else value >= target
            row["indicator"] = {
                "numerator": numerator,
                "denominator": denominator,
                "value": value,
                "met": met,
            }
            summary["numerator"] += numerator
            summary["denominator"] += denominator
            summary["undefined" if met is None else ("met" if met else "not_met")] += 1
        indicator = {
            "name": directive.indicator,
            "label": str(spec.label),
            "formula": spec.formula,
            "source": spec.source,
            "target": target,
            "period_start": directive.indicator_period_start,
            "period_end": directive.indicator_period_end,
            "numerator": summary["numerator"],
            "denominator": summary["denominator"],
            "value": percent(summary["numerator"], summary["denominator"]),
            "grids_met": summary["met"],
            "grids_not_met": summary["not_met"],
            "grids_undefined": summary["undefined"],
            "met": summary["not_met"] == 0 and summary["met"] > 0,
        }

    rows.sort(key=lambda r: r["grid_code"])
    due = totals["issued"] - totals["cancelled"]
    return {
        "directive_id": directive.pk,
        "title": directive.title,
        "deadline": directive.deadline,
        "issued": totals["issued"],
        "closed": totals["closed"],
        "open": totals["open"],
        "cancelled": totals["cancelled"],
        "overdue": totals["overdue"],
        "closed_on_time": totals["closed_on_time"],
        "due": due,
        "closure_rate": percent(totals["closed"], due),
        "on_time_rate": percent(totals["closed_on_time"], due),
        "grids": rows,
        "indicator": indicator,
    }
