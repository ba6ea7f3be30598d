"""The standard figures of the task engine (GLOSSARY.md, "Figures"), in a few aggregate queries.

One function, ``task_figures``, serves the dashboard (``/dashboard/``) and ``gridgov stats``
alike, so the two always agree. See docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, Count, F, Max, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gridgov.areas.models import CODE_LENGTH, Area, AreaLevel
from gridgov.catalog.models import Category
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.core.validators import year_check
from gridgov.people.choices import Role
from gridgov.people.selectors import area_codes_visible_to, scope_queryset, user_can_access_area
from gridgov.tasks.choices import EVENT_SOURCES, OPEN_STATES, TaskSource, TaskState
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

    Raises ``ValidationFailed`` when ``end`` is before ``start`` or a year lies outside
    ``core.validators.YEAR_MIN…YEAR_MAX``.
    """
    year_check(start, name="start")
    year_check(end, name="end")
    if end < start:
        raise ValidationFailed(
            _("The period ends (%(end)s) before it starts (%(start)s).")
            % {"start": start.isoformat(), "end": end.isoformat()},
            details={"start": start.isoformat(), "end": end.isoformat()},
        )
    since = timezone.make_aware(dt.datetime.combine(start, dt.time()))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    return since, until


def _due_counts(since: dt.datetime, until: dt.datetime, prefix: str = "") -> dict[str, Any]:
    """The conditional counts of the tasks due in ``[since, until)`` (``due``, ``closed``,
    ``closed_on_time``, ``reworked``, ``extended``), keys prefixed with ``prefix``."""
    due = Q(deadline__gte=since, deadline__lt=until, suspended_at__isnull=True) & ~Q(
        state__in=NOT_DUE_STATES
    )
    closed = due & Q(state=TaskState.CLOSED)
    return {
        f"{prefix}due": Count("pk", filter=due),
        f"{prefix}closed": Count("pk", filter=closed),
        f"{prefix}closed_on_time": Count("pk", filter=closed & Q(closed_at__lte=F("deadline"))),
        f"{prefix}reworked": Count("pk", filter=due & Q(rework_count__gt=0)),
        f"{prefix}extended": Count("pk", filter=due & Q(extension_count__gt=0)),
    }


#: The keys of ``_due_counts``.
DUE_KEYS = ("due", "closed", "closed_on_time", "reworked", "extended")


def _overdue_open(now: dt.datetime) -> Q:
    """Open, not suspended, deadline before ``now``."""
    return Q(state__in=OPEN_STATES, suspended_at__isnull=True, deadline__lt=now)


#: The keys of every count of the figures (``_figure_rows``).
COUNT_KEYS = ("issued", *DUE_KEYS, "overdue_open")


def _period_counts(since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """The conditional counts of the tasks created or due in ``[since, until)``."""
    return {
        "issued": Count("pk", filter=Q(created_at__gte=since, created_at__lt=until)),
        **_due_counts(since, until),
    }


def _figure_rows(
    scope: _Scope,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
    fields: tuple[str, ...] = (),
    **expressions: Any,
) -> list[dict[str, Any]]:
    """Every count of ``COUNT_KEYS`` grouped by ``fields`` and ``expressions`` (name →
    expression): one row per group that has any.

    Two grouped queries, merged here: the tasks created or due in the period (through
    the ``(area, created_at)`` and ``(area, deadline)`` indexes), and the tasks overdue now
    (through ``(area, state)``). Reading only those rows instead of every task of the
    area changes no figure; keeping "overdue now" apart stops the database from walking
    every past deadline of the area for it.
    """
    names = (*fields, *expressions)
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    period = (
        scope.tasks.filter(
            Q(created_at__gte=since, created_at__lt=until)
            | Q(deadline__gte=since, deadline__lt=until)
        )
        .order_by()
        .values(*fields, **expressions)
        .annotate(**_period_counts(since, until))
    )
    for found in period:
        row = dict(found)
        row["overdue_open"] = 0
        rows[tuple(row[n] for n in names)] = row
    overdue = (
        # COALESCE(deadline, deadline) is the deadline, but not a column an index can
        # range over: the database walks (area, state), the open tasks, instead of every
        # past deadline of the area (SQLite's planner takes the latter otherwise).
        scope.tasks.alias(due_at=Coalesce("deadline", "deadline"))
        .filter(state__in=OPEN_STATES, suspended_at__isnull=True, due_at__lt=now)
        .order_by()
        .values(*fields, **expressions)
        .annotate(n=Count("pk"))
    )
    for found in overdue:
        late = dict(found)
        key = tuple(late[n] for n in names)
        row = rows.setdefault(key, {n: late[n] for n in names} | dict.fromkeys(COUNT_KEYS, 0))
        row["overdue_open"] = late["n"]
    return list(rows.values())


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

    Queries: the areas in scope (id and code), the child areas, the counts grouped by
    source, category and child area (two: created or due in the period, and overdue now;
    ``_figure_rows``) — headline, by source, by category and by area are their sums —
    the categories' names, and the trend (2): 7, whatever the number of tasks. Each reads
    only the rows it counts, through the indexes ``(area, created_at)``, ``(area,
    deadline)``, ``(area, closed_at)`` and ``(area, state)``. Raises ``ValidationFailed``
    for ``end`` before ``start`` and ``PermissionDenied`` when ``area`` lies outside
    ``user``'s areas.
    """
    now = now or timezone.now()
    since, until = period_bounds(start, end)
    scope = _scope(user, area)
    keys = list(COUNT_KEYS)
    figures: dict[str, Any] = {
        "area": area.code if area is not None else None,
        "start": start,
        "end": end,
    }
    children = _children(area)
    # Grouped by source, category and child area; every table is a sum of these rows.
    grouped = _figure_rows(
        scope, since, until, now, ("source",),
        category=F("task_type__category_id"), child=_child_key(scope, children),
    )  # fmt: skip
    figures.update(_rates(_sum(grouped, keys)))

    sources = dict(TaskSource.choices)
    by_source = [
        {"source": source, "name": str(sources.get(source, ""))} | _rates(_sum(rows, keys))
        for source, rows in _group(grouped, lambda r: r["source"]).items()
    ]
    figures["by_source"] = _largest_first(by_source)

    categories: dict[int, dict[str, Any]] = {
        row["pk"]: dict(row)
        for row in Category.objects.filter(pk__in={r["category"] for r in grouped}).values(
            "pk", **{f: F(f.removeprefix("task_type__category__")) for f in _category_fields()}
        )
    } if grouped else {}  # fmt: skip
    by_category = []
    for pk, rows in _group(grouped, lambda r: r["category"]).items():
        category = categories[pk]
        by_category.append(
            {"category": category["task_type__category__code"], "name": _category_name(category)}
            | _rates(_sum(rows, keys))
        )
    figures["by_category"] = _largest_first(by_category)

    figures["trend"] = _trend(scope.tasks, start, end, since, until)
    per_child = {
        child: _sum(rows, keys) for child, rows in _group(grouped, lambda r: r["child"]).items()
    }
    figures["by_area"] = _area_rows(children, per_child, keys)
    return figures


def _children(area: Area | None) -> list[Area]:
    """The child areas of ``area`` by code (the districts when ``area`` is ``None``)."""
    if area is None:
        return list(Area.objects.filter(parent__isnull=True).order_by("code"))
    return list(area.children.order_by("code"))


def _child_key(scope: _Scope, children: list[Area]) -> Any:
    """An expression giving the code of the child area a task lies in ("" for none):
    ``CASE WHEN area_id IN (…) THEN code …`` from ``scope.codes`` (no join), or the prefix
    of the task's area code when the scope is every area."""
    if not children:
        return Value("", output_field=CharField())
    length = CODE_LENGTH[children[0].level]
    if scope.codes is None:
        return Substr("area__code", 1, length)
    inside: dict[str, list[int]] = {child.code: [] for child in children}
    for pk, code in scope.codes.items():
        if code[:length] in inside:
            inside[code[:length]].append(pk)
    whens = [When(area_id__in=ids, then=Value(code)) for code, ids in inside.items() if ids]
    if not whens:
        return Value("", output_field=CharField())
    return Case(*whens, default=Value(""), output_field=CharField())


def _area_rows(
    children: list[Area], grouped: dict[str, dict[str, int]], keys: list[str]
) -> list[dict[str, Any]]:
    """One row per child: ``{"code", "name", counts, rates, "score", "grade"}``."""
    empty = dict.fromkeys(keys, 0)
    rows = []
    for child in children:
        row = {"code": child.code, "name": child.name} | _rates(grouped.get(child.code, empty))
        row["score"], row["grade"] = score_and_grade(
            closure_rate=row["closure_rate"],
            on_time_rate=row["on_time_rate"],
            rework_rate=row["rework_rate"],
        )
        rows.append(row)
    return rows


def _sum(rows: list[dict[str, Any]], keys: list[str]) -> dict[str, int]:
    """The sums of ``keys`` over ``rows``."""
    return {k: sum(r[k] for r in rows) for k in keys}


def _group(rows: list[dict[str, Any]], key: Any) -> dict[Any, list[dict[str, Any]]]:
    """``rows`` grouped by ``key(row)``, in first-seen order."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


def _largest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop rows with nothing issued or due; biggest first, then by key."""
    rows = [r for r in rows if r["issued"] or r["due"] or r["overdue_open"]]
    return sorted(rows, key=lambda r: (-(r["issued"] + r["due"]), str(next(iter(r.values())))))


def _trend(
    qs: QuerySet[Task], start: dt.date, end: dt.date, since: dt.datetime, until: dt.datetime
) -> list[dict[str, Any]]:
    """Issued and closed per local day of the period (two grouped queries)."""
    issued = _per_local_day(qs.filter(created_at__gte=since, created_at__lt=until), "created_at")
    closed = _per_local_day(
        qs.filter(state=TaskState.CLOSED, closed_at__gte=since, closed_at__lt=until), "closed_at"
    )
    days = (end - start).days + 1
    rows = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        rows.append({"day": day, "issued": issued.get(day, 0), "closed": closed.get(day, 0)})
    return rows


def _per_local_day(qs: QuerySet[Task], field: str) -> dict[dt.date, int]:
    """How many of ``qs`` have ``field`` on each local day (one grouped query).

    PostgreSQL groups on ``TruncDate``. SQLite has no time zones: Django's ``TruncDate``
    there is a Python function called per row, so on SQLite the rows are grouped on the
    UTC hour of the stored text (``YYYY-MM-DD HH``) and the hours are put on their local
    day here — exact for every time zone whose offset is whole hours (Asia/Shanghai).
    """
    tz = timezone.get_current_timezone()
    days: dict[dt.date, int] = {}
    offset = timezone.localtime(timezone.now(), tz).utcoffset() or dt.timedelta()
    if connection.vendor != "sqlite" or offset.total_seconds() % 3600:
        for row in (
            qs.annotate(day=TruncDate(field, tzinfo=tz))
            .order_by()
            .values("day")
            .annotate(n=Count("pk"))
        ):
            days[row["day"]] = row["n"]
        return days
    hours = qs.annotate(hour=Substr(field, 1, 13)).order_by().values("hour")
    for hour in hours.annotate(n=Count("pk")):
        utc = dt.datetime.strptime(hour["hour"], "%Y-%m-%d %H").replace(tzinfo=dt.UTC)
        day = timezone.localtime(utc, tz).date()
        days[day] = days.get(day, 0) + hour["n"]
    return days


def _grouped_by_prefix(
    scope: _Scope, qs: QuerySet[Task], length: int, counts: dict[str, Any]
) -> dict[str, dict[str, int]]:
    """The ``counts`` of ``qs`` per area-code prefix of ``length`` digits: grouped by
    ``area_id`` and summed in Python through ``scope.codes`` (no join), or grouped on the
    prefix in SQL when the scope is every area."""
    keys = list(counts)
    if scope.codes is None:
        by_prefix: list[dict[str, Any]] = [
            dict(r)
            for r in qs.annotate(prefix=Substr("area__code", 1, length))
            .order_by()
            .values("prefix")
            .annotate(**counts)
        ]
        return {row["prefix"]: {k: row[k] for k in keys} for row in by_prefix}
    codes = scope.codes
    per_area = [dict(r) for r in qs.order_by().values("area_id").annotate(**counts)]
    return {
        prefix: _sum(rows, keys)
        for prefix, rows in _group(per_area, lambda r: codes[r["area_id"]][:length]).items()
    }


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


# --- The "三个一" monthly ranking ---------------------------------------------------------

#: The levels the monthly ranking ranks (GLOSSARY: 三个一, "one ranking every month").
RANKING_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.GRID)


def month_first_day(text: str) -> dt.date:
    """Parse ``YYYY-MM`` into the month's first day; ``ValidationFailed`` otherwise (also
    for a year outside ``core.validators.YEAR_MIN…YEAR_MAX``)."""
    try:
        year, month = (int(part) for part in text.split("-"))
        first = dt.date(year, month, 1)
    except (ValueError, TypeError):
        raise ValidationFailed(
            _("%(text)r is not a month like 2025-06.") % {"text": text}, details={"month": text}
        ) from None
    year_check(first, name="month")
    return first


def month_last_day(first: dt.date) -> dt.date:
    """The last day of the month that starts on ``first``."""
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def previous_month(first: dt.date) -> dt.date:
    """The first day of the month before the one that starts on ``first``."""
    return (first - dt.timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class _Scope:
    """The tasks counted, and ``codes``: area id → code of the areas they may lie in
    (``None`` when every area counts)."""

    tasks: QuerySet[Task]
    codes: dict[int, str] | None


def _scope(user: Any, area: Area | None) -> _Scope:
    """The tasks inside ``area`` (or everywhere) that ``user`` (if given) may count.

    The areas are looked up first (one query) and the tasks filtered on ``area_id IN
    (…)``, so that the database can use the task indexes that start with the area.
    Raises ``PermissionDenied`` when ``area`` lies outside the user's areas.
    """
    prefixes: list[str] | None = None
    if area is not None:
        if user is not None and not user_can_access_area(user, area, roles=AREA_ROLES):
            raise PermissionDenied(
                _("Area %(code)s lies outside your areas.") % {"code": area.code},
                details={"area": area.code},
            )
        prefixes = [area.code]
    elif user is not None:
        visible = area_codes_visible_to(user, roles=AREA_ROLES)
        prefixes = None if visible == [""] else visible
    if prefixes is None:
        return _Scope(Task.objects.all(), None)
    if not prefixes:
        return _Scope(Task.objects.none(), {})
    inside = reduce(or_, (Q(code__startswith=prefix) for prefix in prefixes))
    codes = dict(Area.objects.filter(inside).values_list("pk", "code"))
    return _Scope(Task.objects.filter(area_id__in=list(codes)), codes)


def _scoped_tasks(user: Any, area: Area | None) -> QuerySet[Task]:
    """``_scope(user, area).tasks``."""
    return _scope(user, area).tasks


def _competition_ranks(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    """Rank the rows with a score on ``key`` (higher first; ties share a rank, "1224"):
    ``{code: rank}``. Rows with ``None`` are not ranked."""
    scored = sorted((r for r in rows if r[key] is not None), key=lambda r: (-r[key], r["code"]))
    ranks: dict[str, int] = {}
    previous: Any = None
    for position, row in enumerate(scored, start=1):
        if previous is None or row[key] != previous[1]:
            previous = (position, row[key])
        ranks[row["code"]] = previous[0]
    return ranks


def area_ranking(
    *, user: Any = None, area: Area | None = None, level: str, month: dt.date
) -> list[dict[str, Any]]:
    """Return the monthly ranking (三个一) of the areas of ``level`` inside ``area``.

    Inputs: ``user`` (optional) limits the areas and tasks to theirs; ``area`` (optional,
    default every area) the area ranked inside; ``level`` one of ``RANKING_LEVELS``
    (``community`` or ``grid``); ``month`` the first day of the month.

    Each area's figures count the tasks due in the month (deadline in the month's local
    days, as ``task_figures``): ``due``, ``closed``, ``closed_on_time``, ``reworked``,
    ``extended``, the four rates, and ``score`` and ``grade`` of ``score_and_grade``
    (0.5 × closure rate + 0.3 × on-time closure rate + 0.2 × (100 − rework rate); A ≥ 90,
    B ≥ 75, C ≥ 60, D ≥ 40, E below — CATALOGUE-FACTS §3, GLOSSARY 综合评分).

    Output: one row per area, ``{"code", "name", <figures>, "rank", "previous_rank",
    "rank_change", "is_new"}``, ranked by score (higher first; equal scores share a rank,
    then by code); ``rank`` is ``None`` when nothing was due (those rows come last).
    ``previous_rank`` is the same ranking for the month before; ``rank_change`` =
    previous rank − rank (positive: up), ``None`` when either is missing; ``is_new``: ranked
    now, not ranked the month before. Two queries (the areas and one grouped count over
    both months), whatever the number of areas and tasks.

    Raises ``ValidationFailed`` for another level and ``PermissionDenied`` when ``area``
    lies outside ``user``'s areas.
    """
    if level not in RANKING_LEVELS:
        raise ValidationFailed(
            _("The ranking ranks %(levels)s, not %(level)s.")
            % {"levels": ", ".join(RANKING_LEVELS), "level": level},
            details={"level": level},
        )
    scope = _scope(user, area)
    areas = Area.objects.filter(level=level)
    if area is not None:
        areas = areas.filter(code__startswith=area.code)
    if user is not None:
        areas = scope_queryset(areas, user, area_field="", roles=AREA_ROLES)
    since, until = period_bounds(month, month_last_day(month))
    last = previous_month(month)
    last_since, last_until = period_bounds(last, month_last_day(last))
    counts = _due_counts(since, until) | _due_counts(last_since, last_until, "last_")
    tasks = scope.tasks.filter(deadline__gte=last_since, deadline__lt=until)
    grouped = _grouped_by_prefix(scope, tasks, CODE_LENGTH[level], counts)
    rows: list[dict[str, Any]] = []
    for child in areas.order_by("code").only("code", "name"):
        found: dict[str, Any] = dict(grouped.get(child.code) or {})
        row: dict[str, Any] = {"code": child.code, "name": child.name}
        for when in ("", "last_"):
            figures = _rates({k: found.get(f"{when}{k}", 0) for k in DUE_KEYS})
            score, grade = score_and_grade(
                closure_rate=figures["closure_rate"],
                on_time_rate=figures["on_time_rate"],
                rework_rate=figures["rework_rate"],
            )
            if when:
                row["last_score"] = score
            else:
                row |= figures | {"score": score, "grade": grade}
        rows.append(row)
    ranks = _competition_ranks(rows, "score")
    last_ranks = _competition_ranks(rows, "last_score")
    for row in rows:
        rank, before = ranks.get(row["code"]), last_ranks.get(row["code"])
        row["rank"], row["previous_rank"] = rank, before
        row["rank_change"] = before - rank if rank is not None and before is not None else None
        row["is_new"] = rank is not None and before is None
        del row["last_score"]
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))


# --- Hot spots ---------------------------------------------------------------------------

#: "The same problem again and again": at least this many events of one category at one
#: place, household or grid within ``REPEAT_WINDOW_DAYS`` days (issue 4, the brief's
#: defaults; both can be changed per request).
REPEAT_MIN_EVENTS = 3
REPEAT_WINDOW_DAYS = 30
#: Most rows of each hot-spot list.
HOTSPOT_LIMIT = 50


def _category_fields() -> tuple[str, str, str]:
    return (
        "task_type__category__code",
        "task_type__category__name_zh",
        "task_type__category__name_en",
    )


def _category_name(row: dict[str, Any]) -> str:
    english = (get_language() or "").startswith("en")
    zh = row["task_type__category__name_zh"]
    return str((row["task_type__category__name_en"] if english else zh) or zh)


def hotspot_repeats(
    *,
    user: Any = None,
    area: Area | None = None,
    end: dt.date,
    days: int = REPEAT_WINDOW_DAYS,
    min_events: int = REPEAT_MIN_EVENTS,
) -> dict[str, Any]:
    """Return the places, households and grids where events of one category repeat.

    Rule: tasks of the ``EVENT_SOURCES`` created in the window of ``days`` local days
    ending on ``end`` (included), grouped by target (place, household) or by grid (the
    first 15 digits of the task's area code: the grid, also for micro-grid tasks) and by
    catalogue category; a group with at least ``min_events`` tasks is a hot spot.

    Output: ``{"start", "end", "days", "min_events", "places", "households", "grids"}``;
    each list holds rows ``{"key", "name", "area" (code of the area to list the tasks of),
    "category", "category_name", "events", "open", "last" (latest creation time)}``, most
    events first, at most ``HOTSPOT_LIMIT`` each. A household's ``name`` is its masked
    address (``people.masking.mask_address``): the analysis needs no personal data.
    Four queries (places, households, grids, the grids' names). Raises
    ``ValidationFailed`` for ``days`` or ``min_events`` below 1 and ``PermissionDenied``
    when ``area`` lies outside ``user``'s areas.
    """
    from gridgov.people.masking import mask_address

    if days < 1 or min_events < 1:
        raise ValidationFailed(
            _("The window and the number of events are at least 1."),
            details={"days": days, "min_events": min_events},
        )
    start = end - dt.timedelta(days=days - 1)
    since, until = period_bounds(start, end)
    events = _scoped_tasks(user, area).filter(
        created_at__gte=since, created_at__lt=until, source__in=EVENT_SOURCES
    )
    measures = {
        "events": Count("pk"),
        "open": Count("pk", filter=Q(state__in=OPEN_STATES)),
        "last": Max("created_at"),
    }

    def grouped(qs: QuerySet[Task], *fields: str) -> list[dict[str, Any]]:
        return list(
            qs.order_by()
            .values(*fields, *_category_fields())
            .annotate(**measures)
            .filter(events__gte=min_events)
            .order_by("-events", "-last")[:HOTSPOT_LIMIT]
        )

    def row(key: Any, name: str, area_code: str, found: dict[str, Any]) -> dict[str, Any]:
        return {
            "key": key,
            "name": name,
            "area": area_code,
            "category": found["task_type__category__code"],
            "category_name": _category_name(found),
            "events": found["events"],
            "open": found["open"],
            "last": found["last"],
        }

    places = [
        row(r["target_place"], r["target_place__name"], r["target_place__area__code"], r)
        for r in grouped(
            events.filter(target_place__isnull=False),
            "target_place", "target_place__name", "target_place__area__code",
        )
    ]  # fmt: skip
    households = [
        row(r["target_household"], mask_address(r["target_household__address"] or ""),
            r["target_household__area__code"], r)
        for r in grouped(
            events.filter(target_household__isnull=False),
            "target_household", "target_household__address", "target_household__area__code",
        )
    ]  # fmt: skip
    grid_length = CODE_LENGTH[AreaLevel.GRID]
    grid_rows = grouped(
        events.filter(area__level__in=(AreaLevel.GRID, AreaLevel.MICRO_GRID)).annotate(
            grid=Substr("area__code", 1, grid_length)
        ),
        "grid",
    )
    names = dict(
        Area.objects.filter(code__in={r["grid"] for r in grid_rows}).values_list("code", "name")
    ) if grid_rows else {}  # fmt: skip
    grids = [row(r["grid"], names.get(r["grid"], r["grid"]), r["grid"], r) for r in grid_rows]
    return {
        "start": start,
        "end": end,
        "days": days,
        "min_events": min_events,
        "places": places,
        "households": households,
        "grids": grids,
    }


def hotspot_rising(*, user: Any = None, area: Area | None = None, end: dt.date) -> dict[str, Any]:
    """Return the event categories rising week on week (周环比).

    Rule: tasks of the ``EVENT_SOURCES`` created in "this week" — the 7 local days ending
    on ``end`` (included) — against "last week", the 7 days before; per catalogue
    category. A category rises when this week's count is above last week's.

    Output: ``{"this_start", "this_end", "last_start", "last_end", "rows"}``; ``rows``:
    ``{"category", "name", "this_week", "last_week", "change" (absolute), "change_pct"
    (``Decimal`` per cent, 2 decimals, ``None`` when last week had none)}``, biggest change
    first. One query. ``PermissionDenied`` when ``area`` lies outside ``user``'s areas.
    """
    this_start = end - dt.timedelta(days=6)
    last_start, last_end = this_start - dt.timedelta(days=7), this_start - dt.timedelta(days=1)
    since, until = period_bounds(this_start, end)
    last_since, _last_until = period_bounds(last_start, last_end)
    found = (
        _scoped_tasks(user, area)
        .filter(created_at__gte=last_since, created_at__lt=until, source__in=EVENT_SOURCES)
        .order_by()
        .values(*_category_fields())
        .annotate(
            this_week=Count("pk", filter=Q(created_at__gte=since)),
            last_week=Count("pk", filter=Q(created_at__lt=since)),
        )
    )
    rows = []
    for r in found:
        change = r["this_week"] - r["last_week"]
        if change <= 0:
            continue
        rows.append(
            {
                "category": r["task_type__category__code"],
                "name": _category_name(r),
                "this_week": r["this_week"],
                "last_week": r["last_week"],
                "change": change,
                "change_pct": rate(change, r["last_week"]),
            }
        )
    rows.sort(key=lambda r: (-r["change"], r["category"]))
    return {
        "this_start": this_start,
        "this_end": end,
        "last_start": last_start,
        "last_end": last_end,
        "rows": rows,
    }


# --- The map -----------------------------------------------------------------------------

#: Simplification tolerance of the map's polygons, as a share of the shown area's larger
#: side (Shapely ``simplify(preserve_topology=True)``): 1/800 is about one pixel of a map
#: 800 px wide, so nothing visible is lost and the GeoJSON stays small.
MAP_TOLERANCE_SHARE = 1 / 800


def _simplified(boundary: dict[str, Any] | None, tolerance: float) -> dict[str, Any] | None:
    """``boundary`` (GeoJSON, WGS84 lon/lat) simplified by ``tolerance`` degrees."""
    if not boundary:
        return None
    from shapely.geometry import mapping, shape

    geometry = shape(boundary)
    if tolerance > 0:
        geometry = geometry.simplify(tolerance, preserve_topology=True)
    return dict(mapping(geometry))


def area_map(
    *,
    user: Any = None,
    area: Area,
    start: dt.date,
    end: dt.date,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Return the map of ``area``: its children as a GeoJSON ``FeatureCollection``.

    Inputs as ``task_figures`` (``area`` required). The features are the children of
    ``area`` (``area`` itself when it has none: a micro-grid), each with the properties
    ``code``, ``name``, ``level``, ``has_children``, the figures of ``task_figures``'
    ``by_area`` for the period (``due``, ``closed``, ``closure_rate`` as a float per cent or
    ``None``, ``overdue_open``…), ``score`` and ``grade``. Geometry: the area's
    ``boundary`` (WGS84, lon/lat) simplified with Shapely to ``MAP_TOLERANCE_SHARE`` of
    the larger side of ``area``'s bounding box; areas without a boundary have ``null``
    geometry (the page lists them under the map). Also ``outline``: ``area``'s own
    simplified boundary, and ``bbox`` ``[min_lon, min_lat, max_lon, max_lat]`` or ``None``.
    Five queries (areas in scope, children, their children, the two grouped counts of
    ``_figure_rows``) plus the user's memberships. Raises as ``task_figures``.
    """
    now = now or timezone.now()
    since, until = period_bounds(start, end)
    scope = _scope(user, area)
    children = list(area.children.order_by("code"))
    leaf = not children
    shown = children or [area]
    parents = set(
        Area.objects.filter(parent__in=shown).values_list("parent_id", flat=True).distinct()
    )
    keys = list(COUNT_KEYS)
    found = _figure_rows(scope, since, until, now, child=_child_key(scope, shown))
    per_child = {c: _sum(rs, keys) for c, rs in _group(found, lambda r: r["child"]).items()}
    rows = {r["code"]: r for r in _area_rows(shown, per_child, keys)}
    boxes = [a for a in [area, *shown] if a.min_lon is not None]
    bbox = None
    tolerance = 0.0
    if boxes:
        bbox = [
            min(a.min_lon for a in boxes if a.min_lon is not None),
            min(a.min_lat for a in boxes if a.min_lat is not None),
            max(a.max_lon for a in boxes if a.max_lon is not None),
            max(a.max_lat for a in boxes if a.max_lat is not None),
        ]
        tolerance = max(bbox[2] - bbox[0], bbox[3] - bbox[1]) * MAP_TOLERANCE_SHARE
    features = []
    for child in shown:
        properties = figures_as_json(rows[child.code]) | {
            "level": child.level,
            "has_children": child.pk in parents and not leaf,
        }
        features.append(
            {
                "type": "Feature",
                "id": child.code,
                "geometry": _simplified(child.boundary, tolerance),
                "properties": properties,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "outline": _simplified(area.boundary, tolerance),
        "bbox": bbox,
    }
