"""``gridgov stats`` (``analytics.selectors.task_figures``) for a street-month in a table of
1,000,000 tasks, against a plain ``SELECT count(*)`` over the same rows.

Fixture (written straight into the tables, it is a benchmark): a district of ``STREETS``
streets × 10 communities × 10 grids, the default catalogue, and ``TASKS`` tasks (default
1,000,000) spread evenly over the grids and over the six months January–June 2025, in
creation order (as they arrive in production); deadline 1–5 days after creation; 80 %
closed (85 % of those by the deadline), 5 % cancelled, the rest open (2 % of all
suspended) — except that of the tasks due before June 1st only 0.5 % stay open (the
backlog); 5 % reworked, 3 % extended.
Rows go in through the driver's fastest path: ``COPY`` on PostgreSQL, ``executemany`` on
SQLite (like ``bench_generate``'s floor), then ``ANALYZE``.

Ours: ``task_figures(area=<street 1>, start=2025-06-01, end=2025-06-30)`` — every figure of
``gridgov stats --json`` (headline, by source, by category, by area, the trend), best
of ``REPEAT`` warm runs; also the whole district for June. Baseline, same run: ``SELECT
count(*)`` of the street's tasks due in June (the area join and the deadline range).
Goal: ≤ 200 ms on PostgreSQL, ≤ 1 s on SQLite (issue 5).

``DATABASE_URL=postgres://…/gridgov_bench_stats python -m bench.bench_stats`` runs it on
PostgreSQL (the database must exist and be empty); ``TASKS=…`` resizes it.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench import emit, progress, setup_django

TASKS = int(os.environ.get("TASKS", "1000000"))
STREETS = int(os.environ.get("STREETS", "5"))
COMMUNITIES = 10
GRIDS_PER_COMMUNITY = 10
FIRST_DAY = dt.date(2025, 1, 1)
DAYS = 181  # January–June 2025
JUNE = (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
NOW = dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
BATCH = 20_000
REPEAT = 5


def build_areas() -> list[Any]:
    """The district, its streets, communities and grids; return the grids."""
    from django.db import transaction

    from gridgov.areas.models import Area, AreaLevel
    from gridgov.catalog.services import catalog_import_default

    if Area.objects.exists():
        raise SystemExit("this benchmark needs an empty database (it builds its own district)")
    with transaction.atomic():
        catalog_import_default()
        district = Area.objects.create(code="330106", name="西湖区", level=AreaLevel.DISTRICT)
        streets = Area.objects.bulk_create(
            Area(code=f"330106{s:03d}", name=f"街道{s}", level=AreaLevel.STREET, parent=district)
            for s in range(1, STREETS + 1)
        )
        communities = Area.objects.bulk_create(
            Area(code=f"{st.code}{c:03d}", name=f"{st.name}社区{c}", level=AreaLevel.COMMUNITY,
                 parent=st)
            for st in streets
            for c in range(1, COMMUNITIES + 1)
        )  # fmt: skip
        grids = Area.objects.bulk_create(
            Area(code=f"{c.code}{g:03d}", name=f"{c.name}第{g}网格", level=AreaLevel.GRID,
                 parent=c)
            for c in communities
            for g in range(1, GRIDS_PER_COMMUNITY + 1)
        )  # fmt: skip
    return grids


def task_rows(grids: list[Any], count: int) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """The column names of the task table and a generator of ``count`` rows for them."""
    from django.db import connection

    from gridgov.catalog.models import TaskType
    from gridgov.tasks.choices import TaskSource, TaskState
    from gridgov.tasks.models import Task

    fields = [f for f in Task._meta.concrete_fields if f.column != "id"]
    columns = [str(f.column) for f in fields]
    template = [f.get_db_prep_save(f.get_default(), connection) for f in fields]
    where = {name: columns.index(name) for name in columns}
    types = list(TaskType.objects.values_list("pk", flat=True)[:40])
    rng = random.Random(20250601)
    sources = [TaskSource.ROUTINE] * 6 + [TaskSource.WORKER_REPORT] * 2 + [
        TaskSource.RESIDENT_REPORT, TaskSource.DIRECTIVE,
    ]  # fmt: skip
    open_states = [TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.HANDLED]
    start = dt.datetime.combine(FIRST_DAY, dt.time(), tzinfo=NOW.tzinfo)
    prep = connection.ops.adapt_datetimefield_value if connection.vendor == "sqlite" else None

    def stamp(value: dt.datetime | None) -> Any:
        if value is None or prep is None:
            return value
        return prep(value)

    step = DAYS * 86400 / max(count, 1)
    recent = NOW - dt.timedelta(days=30)

    def rows() -> Iterator[tuple[Any, ...]]:
        for n in range(count):
            row = list(template)
            # Rows arrive in creation order, as in production.
            created = start + dt.timedelta(seconds=n * step + rng.random() * step)
            deadline = created + dt.timedelta(days=rng.randint(1, 5))
            draw = rng.random()
            if deadline < recent and 0.85 <= draw < 0.995:
                draw = rng.random() * 0.85  # old tasks are finished: a small backlog stays open
            closed_at = suspended = None
            if draw < 0.80:
                state = TaskState.CLOSED
                late = rng.random() >= 0.85
                closed_at = deadline + dt.timedelta(hours=rng.randint(1, 48) * (1 if late else -1))
            elif draw < 0.85:
                state = TaskState.CANCELLED
            else:
                state = rng.choice(open_states)
                if draw > 0.98:
                    suspended = deadline - dt.timedelta(hours=12)
            grid = grids[n % len(grids)]
            values = {
                "number": f"T{n:010d}",
                "source": rng.choice(sources),
                "task_type_id": types[n % len(types)],
                "area_id": grid.pk,
                "title": "巡查任务",
                "state": state,
                "created_at": stamp(created),
                "updated_at": stamp(closed_at or created),
                "deadline": stamp(deadline),
                "deadline_original": stamp(deadline),
                "closed_at": stamp(closed_at),
                "suspended_at": stamp(suspended),
                "rework_count": 1 if rng.random() < 0.05 else 0,
                "extension_count": 1 if rng.random() < 0.03 else 0,
            }
            for name, value in values.items():
                row[where[name]] = value
            yield tuple(row)

    return columns, rows()


def fill_tasks(grids: list[Any], count: int) -> float:
    """Write ``count`` tasks through COPY / executemany in batches; return the seconds."""
    from django.db import connection, transaction

    from gridgov.tasks.models import Task

    columns, rows = task_rows(grids, count)
    qn = connection.ops.quote_name
    table = qn(Task._meta.db_table)
    names = ", ".join(qn(c) for c in columns)
    started = time.perf_counter()
    done = 0
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)  # noqa: S608
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            flush()
            done += BATCH
            if done % 200_000 == 0:
                progress(f"  {done:,} tasks written")
    if batch:
        flush()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def build_fixture() -> list[Any]:
    """Areas and ``TASKS`` tasks; return the streets (by code)."""
    from gridgov.areas.models import Area, AreaLevel

    grids = build_areas()
    progress(f"fixture: {len(grids)} grids; writing {TASKS:,} tasks …")
    seconds = fill_tasks(grids, TASKS)
    progress(f"  written in {seconds:.1f} s")
    return list(Area.objects.filter(level=AreaLevel.STREET).order_by("code"))


def best_of(function: Callable[[], Any], repeat: int = REPEAT) -> tuple[float, Any]:
    """Run ``function`` once to warm up, then ``repeat`` times; the fastest, in seconds."""
    result = function()
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    setup_django("bench_stats")
    from django.db import connection

    from gridgov.analytics.selectors import period_bounds, task_figures
    from gridgov.areas.models import Area

    streets = build_fixture()
    street = streets[0]
    since, until = period_bounds(*JUNE)

    def ours() -> dict[str, Any]:
        return task_figures(area=street, start=JUNE[0], end=JUNE[1], now=NOW)

    def district() -> dict[str, Any]:
        area = Area.objects.get(code="330106")
        return task_figures(area=area, start=JUNE[0], end=JUNE[1], now=NOW)

    def baseline() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM tasks_task t JOIN areas_area a ON a.id = t.area_id "
                "WHERE a.code LIKE %s AND t.deadline >= %s AND t.deadline < %s",
                [street.code + "%", since, until],
            )
            return int(cursor.fetchone()[0])

    base_s, rows = best_of(baseline)
    ours_s, figures = best_of(ours)
    district_s, _district = best_of(district)
    goal = "<= 200 ms" if connection.vendor == "postgresql" else "<= 1000 ms"
    common = {"db": connection.vendor, "tasks": TASKS, "street_due_rows": rows}
    progress(
        f"street {street.code}, June: due {figures['due']:,}, closure rate "
        f"{figures['closure_rate']}%, on time {figures['on_time_rate']}%"
    )
    emit("stats_street_month", ours_s * 1000, "ms", baseline=base_s * 1000, goal=goal, **common)
    emit(
        "stats_district_month", district_s * 1000, "ms", baseline=base_s * 1000, goal=None,
        **common,
    )  # fmt: skip


if __name__ == "__main__":
    main()
