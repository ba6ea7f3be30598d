"""The standard figures of the task engine (GLOSSARY.md, "Figures"), in a few aggregate queries.

One function, ``task_figures``, serves the dashboard (``/dashboard/``) and ``gridgov stats``
alike, so the two always agree. See docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gridgov.areas.models import CODE_LENGTH, Area
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.people.choices import Role
from gridgov.people.selectors import scope_queryset, user_can_access_area
from gridgov.tasks.choices import OPEN_STATES, TaskSource, TaskState
from gridgov.tasks.models import Task

#: The roles that read the figures and the dashboard (the managers).
MANAGER_ROLES = frozenset({Role.COMMAND_CENTRE, Role.COMMUNITY_ADMIN, Role.GRID_LEADER})
#: Every role whose areas scope the figures (a department handler's scope is its department).
AREA_ROLES = frozenset(set(Role.values) - {Role.DEPARTMENT_HANDLER})

#: Weights of the composite score, in per cent of 100 points. Source: CATALOGUE-FACTS §3,
#: the Jiangshan 贺村镇 网格考核实施细则 (2023) 50/30/20 monthly layout, mapped onto the
#: standard rates: closure rate 50, on-time closure rate 30, (100 − rework rate) 20.
SCORE_WEIGHTS: dict[str, Decimal] = {
    "closure_rate": Decimal("0.5"),
    "on_time_rate": Decimal("0.3"),
    "no_rework_rate": Decimal("0.2"),
}
#: Grade thresholds of the composite score (GLOSSARY: 综合评分): A ≥ 90, B ≥ 75, C ≥ 60,
#: D ≥ 40, E below.
GRADES: tuple[tuple[Decimal, str], ...] = (
    (Decimal(90), "A"),
    (Decimal(75), "B"),
    (Decimal(60), "C"),
    (Decimal(40), "D"),
)
#: Task states that are not counted as due: a rejected or cancelled case has nothing to close.
NOT_DUE_STATES = (TaskState.REJECTED, TaskState.CANCELLED)

_CENT = Decimal("0.01")


def rate(part: int, whole: int) -> Decimal | None:
    """Return ``part / whole`` as a percentage rounded half-up to 2 decimals (``None`` if
    ``whole`` is 0): ``rate(911, 972) == Decimal("93.72")``."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_CENT, rounding=ROUND_HALF_UP)


def score_and_grade(
    *, closure_rate: Decimal | None, on_time_rate: Decimal | None, rework_rate: Decimal | None
) -> tuple[Decimal | None, str | None]:
    """Return the composite score (0–100, 2 decimals) and its grade A–E.

    Score = 0.5 × closure rate + 0.3 × on-time closure rate + 0.2 × (100 − rework rate)
    (``SCORE_WEIGHTS``, CATALOGUE-FACTS §3); grades as ``GRADES`` (GLOSSARY). ``(None,
    None)`` when a rate is ``None`` (nothing due).
    """
    if closure_rate is None or on_time_rate is None or rework_rate is None:
        return None, None
    score = (
        SCORE_WEIGHTS["closure_rate"] * closure_rate
        + SCORE_WEIGHTS["on_time_rate"] * on_time_rate
        + SCORE_WEIGHTS["no_rework_rate"] * (100 - rework_rate)
    ).quantize(_CENT, rounding=ROUND_HALF_UP)
    grade = next((letter for floor, letter in GRADES if score >= floor), "E")
    return score, grade


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """Return the last 7 days before ``today`` (``today`` excluded): ``(start, end)``."""
    return today - dt.timedelta(days=7), today - dt.timedelta(days=1)


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Return the aware instants ``[start 00:00, end + 1 day 00:00)`` in the local time zone.

    Raises ``ValidationFailed`` when ``end`` is before ``start``.
    """
    if end < start:
        raise ValidationFailed(
            _("The period ends (%(end)s) before it starts (%(start)s).")
            % {"start": start.isoformat(), "end": end.isoformat()},
            details={"start": start.isoformat(), "end": end.isoformat()},
        )
    since = timezone.make_aware(dt.datetime.combine(start, dt.time()))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    return since, until


def _counts(since: dt.datetime, until: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    """The conditional counts of every figure, for ``.aggregate()`` or ``.annotate()``."""
    due = Q(deadline__gte=since, deadline__lt=until, suspended_at__isnull=True) & ~Q(
        state__in=NOT_DUE_STATES
    )
    closed = due & Q(state=TaskState.CLOSED)
    return {
        "issued": Count("pk", filter=Q(created_at__gte=since, created_at__lt=until)),
        "due": Count("pk", filter=due),
        "closed": Count("pk", filter=closed),
        "closed_on_time": Count("pk", filter=closed & Q(closed_at__lte=F("deadline"))),
        "reworked": Count("pk", filter=due & Q(rework_count__gt=0)),
        "extended": Count("pk", filter=due & Q(extension_count__gt=0)),
        "overdue_open": Count(
            "pk",
            filter=Q(state__in=OPEN_STATES, suspended_at__isnull=True, deadline__lt=now),
        ),
    }


def _rates(counts: dict[str, Any]) -> dict[str, Any]:
    """Add the four rates (and, for ``by_area``, score and grade) to one row of counts."""
    due = counts["due"]
    row = dict(counts)
    row["closure_rate"] = rate(counts["closed"], due)
    row["on_time_rate"] = rate(counts["closed_on_time"], due)
    row["rework_rate"] = rate(counts["reworked"], due)
    row["extension_rate"] = rate(counts["extended"], due)
    return row


def task_figures(
    *,
    user: Any = None,
    area: Area | None = None,
    start: dt.date,
    end: dt.date,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Return the standard figures of the tasks in ``area`` for the days ``start``–``end``.

    Inputs: ``user`` (optional) scopes the tasks to their areas (``people.selectors
    .scope_queryset``; every role but department handler); ``area`` (optional) is the area
    and everything inside it; ``start`` and ``end`` are local dates, both included; ``now``
    (default: the current time) is the instant of "overdue now".

    Output (definitions from GLOSSARY.md "Figures" and issue 4):

    - ``issued``: tasks created in the period;
    - ``due`` (应结案数): tasks whose deadline falls in the period, minus suspended
      (挂账/缓办) ones and rejected or cancelled (不予立案/作废) ones;
    - ``closed``: of the due, closed; ``closed_on_time``: closed with ``closed_at`` ≤
      ``deadline``; ``reworked`` (``rework_count`` > 0) and ``extended``
      (``extension_count`` > 0): of the due;
    - ``closure_rate`` = closed / due, ``on_time_rate`` = closed on time / due,
      ``rework_rate`` = reworked / due, ``extension_rate`` = extended / due: ``Decimal``
      percentages with 2 decimals, ``None`` when nothing is due;
    - ``overdue_open``: open, not suspended, deadline before ``now`` (whatever the period);
    - ``by_source``, ``by_category``: lists of rows ``{"source" | "category", "name",
      <the counts and rates above>}``, biggest ``issued`` + ``due`` first;
    - ``trend``: one row per day of the period, ``{"day": date, "issued", "closed"}``
      (closed: tasks whose ``closed_at`` falls on that day);
    - ``by_area``: one row per child area of ``area`` (per district without an area):
      ``{"code", "name", counts, rates, "score", "grade"}`` (``score_and_grade``), by code;
    - ``area`` (code or ``None``), ``start``, ``end``.

    Queries: 6 (headline, by source, by category, trend issued, trend closed, by area) plus
    one for the child areas, whatever the number of tasks. Raises ``ValidationFailed`` for
    ``end`` before ``start`` and ``PermissionDenied`` when ``area`` lies outside ``user``'s
    areas.
    """
    now = now or timezone.now()
    since, until = period_bounds(start, end)
    qs: QuerySet[Task] = Task.objects.all()
    if user is not None:
        if area is not None and not user_can_access_area(user, area, roles=AREA_ROLES):
            raise PermissionDenied(
                _("Area %(code)s lies outside your areas.") % {"code": area.code},
                details={"area": area.code},
            )
        qs = scope_queryset(qs, user, roles=AREA_ROLES)
    if area is not None:
        qs = qs.filter(area__code__startswith=area.code)
    counts = _counts(since, until, now)
    figures: dict[str, Any] = {
        "area": area.code if area is not None else None,
        "start": start,
        "end": end,
    }
    figures.update(_rates(qs.aggregate(**counts)))

    sources = dict(TaskSource.choices)
    by_source = []
    for source_row in qs.order_by().values("source").annotate(**counts):
        values: dict[str, Any] = dict(source_row)
        by_source.append(
            {"source": values["source"], "name": str(sources.get(values["source"], ""))}
            | _rates({k: values[k] for k in counts})
        )
    figures["by_source"] = _largest_first(by_source)

    by_category = []
    for category in (
        qs.order_by()
        .values(
            "task_type__category__code",
            "task_type__category__name_zh",
            "task_type__category__name_en",
        )
        .annotate(**counts)
    ):
        english = (get_language() or "").startswith("en")
        cat: dict[str, Any] = dict(category)
        by_category.append(
            {
                "category": cat["task_type__category__code"],
                "name": cat[
                    "task_type__category__name_en" if english else "task_type__category__name_zh"
                ]
                or cat["task_type__category__name_zh"],
            }
            | _rates({k: cat[k] for k in counts})
        )
    figures["by_category"] = _largest_first(by_category)

    figures["trend"] = _trend(qs, start, end, since, until)
    figures["by_area"] = _by_area(qs, area, counts)
    return figures


def _largest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop rows with nothing issued or due; biggest first, then by key."""
    rows = [r for r in rows if r["issued"] or r["due"] or r["overdue_open"]]
    return sorted(rows, key=lambda r: (-(r["issued"] + r["due"]), str(next(iter(r.values())))))


def _trend(
    qs: QuerySet[Task], start: dt.date, end: dt.date, since: dt.datetime, until: dt.datetime
) -> list[dict[str, Any]]:
    """Issued and closed per local day of the period (two grouped queries)."""
    tz = timezone.get_current_timezone()
    issued = {
        row["day"]: row["n"]
        for row in qs.filter(created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
    }
    closed = {
        row["day"]: row["n"]
        for row in qs.filter(state=TaskState.CLOSED, closed_at__gte=since, closed_at__lt=until)
        .annotate(day=TruncDate("closed_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
    }
    days = (end - start).days + 1
    rows = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        rows.append({"day": day, "issued": issued.get(day, 0), "closed": closed.get(day, 0)})
    return rows


def _by_area(qs: QuerySet[Task], area: Area | None, counts: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures per child area of ``area`` (per district when ``area`` is ``None``),
    grouped on the prefix of the task's area code (a child's code is its prefix)."""
    if area is None:
        children = list(Area.objects.filter(parent__isnull=True).order_by("code"))
    else:
        children = list(area.children.order_by("code"))
    if not children:
        return []
    length = CODE_LENGTH[children[0].level]
    grouped: dict[str, dict[str, Any]] = {
        row["prefix"]: dict(row)
        for row in qs.annotate(prefix=Substr("area__code", 1, length))
        .order_by()
        .values("prefix")
        .annotate(**counts)
    }
    empty = dict.fromkeys(counts, 0)
    rows = []
    for child in children:
        found = grouped.get(child.code)
        row = {"code": child.code, "name": child.name} | _rates(
            {k: found[k] for k in counts} if found else empty
        )
        row["score"], row["grade"] = score_and_grade(
            closure_rate=row["closure_rate"],
            on_time_rate=row["on_time_rate"],
            rework_rate=row["rework_rate"],
        )
        rows.append(row)
    return rows


def figures_as_json(figures: dict[str, Any]) -> dict[str, Any]:
    """Return ``figures`` with JSON types: ``Decimal`` → number, ``date`` → ISO string."""

    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return {k: convert(v) for k, v in figures.items()}
