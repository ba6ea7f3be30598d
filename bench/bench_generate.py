"""Routine generation: ``generation_run`` against a raw ``bulk_create`` of the same rows.

Fixture (bulk-created directly, it is a benchmark): one street of 10 communities × 10
grids, each grid with 4 micro-grids and 2 grid workers (plus a grid leader per community),
``HOUSEHOLDS`` households spread over the micro-grids, one or two residents each, tagged
with the key groups the default catalogue's rules select, in proportions chosen so that a
month makes about 3.75 tasks per household (the district figure of DESIGN.md: ≈ 1.5 M
routine tasks a month for 400,000 households), and 2,000 places of the kinds the rules
watch. The default catalogue is imported through its service.

Ours: ``generation_run`` over June 2025 as run on the evening of 31 May, a month ahead
(expansion, routing, deadlines on the working calendar, numbers, the tasks and their
CREATE and DISPATCH timeline rows, a transaction per batch of 5,000, on
``generation.CONNECTIONS`` connections on PostgreSQL — each dispatch day on one of them);
also printed: the same on one connection (``seconds_one_connection``). Baseline, same run,
same table: the very rows ours wrote, read back as model instances beforehand, written
with ``bulk_create`` in the same batches and transactions — the tasks and then their
timeline rows (ids from the tasks' insert). The tables are emptied between runs; ours runs
twice (cold and warm) and its best counts.
Also printed: the tasks-only ``bulk_create`` rate; the floor — the same task and
timeline rows, ids included, as prepared tuples through the driver's fastest path (COPY on
PostgreSQL, ``executemany`` on SQLite), same batches and transactions — and our share of
it (``ratio_to_floor``); and the extrapolation of ours to 1.5 M tasks.

``DATABASE_URL=postgres://…/gridgov_bench_generate python -m bench.bench_generate`` runs
it on PostgreSQL (the database must exist and be empty); ``HOUSEHOLDS=…`` resizes it.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from typing import Any

from bench import emit, progress, setup_django

HOUSEHOLDS = int(os.environ.get("HOUSEHOLDS", "40000"))
COMMUNITIES = 10
GRIDS_PER_COMMUNITY = 10
MICRO_PER_GRID = 4
PLACES = 2000
DISTRICT_TASKS = 1_500_000
MONTH = (dt.date(2025, 6, 1), dt.date(2025, 7, 1))
#: When the month is generated: the evening before it starts (Asia/Shanghai), so that
#: each task is dispatched, and numbered, on the day of its occurrence.
GENERATED_AT = dt.datetime(2025, 5, 31, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
BATCH = 5000

#: Share of households with a resident carrying each tag (a household may have several).
TAG_SHARES = {
    "elderly": 0.30,
    "elderly_key": 0.10,
    "elderly_high_risk": 0.15,
    "elderly_red": 0.06,
    "empty_nest": 0.12,
    "living_alone": 0.05,
    "disabled": 0.04,
    "low_income": 0.05,
    "mental_disorder_unstable": 0.005,
    "mental_disorder_stable": 0.01,
    "community_correction": 0.003,
    "released_prisoner_key": 0.002,
    "key_youth": 0.005,
    "left_behind_child": 0.01,
    "petitioner": 0.003,
    "floating": 0.10,
}
PLACE_KINDS = {
    "building": 0.30,
    "shop": 0.20,
    "restaurant": 0.12,
    "garbage_station": 0.08,
    "key_place": 0.05,
    "group_rental": 0.05,
    "rental_housing": 0.10,
    "small_venue": 0.05,
    "hazardous_building": 0.02,
    "market": 0.03,
}


def build_fixture() -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from gridgov.areas.models import Area, AreaLevel
    from gridgov.catalog.services import catalog_import_default
    from gridgov.people.choices import Role
    from gridgov.people.models import (
        Household,
        Membership,
        Place,
        Resident,
        ResidentTagAssignment,
    )

    if Area.objects.exists():
        raise SystemExit("bench_generate needs an empty database (it builds its own street)")
    rng = random.Random(20250601)
    User = get_user_model()
    with transaction.atomic():
        catalog_import_default()
        district = Area.objects.create(code="330106", name="西湖区", level=AreaLevel.DISTRICT)
        street = Area.objects.create(
            code="330106004", name="古荡街道", level=AreaLevel.STREET, parent=district
        )
        communities = Area.objects.bulk_create(
            Area(code=f"{street.code}{c:03d}", name=f"社区{c}", level=AreaLevel.COMMUNITY,
                 parent=street)
            for c in range(1, COMMUNITIES + 1)
        )  # fmt: skip
        grids = Area.objects.bulk_create(
            Area(code=f"{c.code}{g:03d}", name=f"{c.name}第{g}网格", level=AreaLevel.GRID,
                 parent=c)
            for c in communities
            for g in range(1, GRIDS_PER_COMMUNITY + 1)
        )  # fmt: skip
        micros = Area.objects.bulk_create(
            Area(code=f"{g.code}{m:03d}", name=f"{g.name}微网格{m}",
                 level=AreaLevel.MICRO_GRID, parent=g)
            for g in grids
            for m in range(1, MICRO_PER_GRID + 1)
        )  # fmt: skip
        users = User.objects.bulk_create(
            User(username=f"w{i:05d}", password="!", is_staff=True)  # noqa: S106 - unusable
            for i in range(2 * len(grids) + len(communities))
        )
        members = [
            Membership(user=users[2 * i + j], area=g, role=Role.GRID_WORKER)
            for i, g in enumerate(grids)
            for j in (0, 1)
        ] + [
            Membership(user=users[2 * len(grids) + i], area=c, role=Role.GRID_LEADER)
            for i, c in enumerate(communities)
        ]
        Membership.objects.bulk_create(members)
        households = Household.objects.bulk_create(
            (
                Household(
                    address=f"古荡新村{i // 60 + 1}幢{i % 6 + 1}单元{i % 60 + 101}室",
                    area=micros[i % len(micros)],
                    lon=120.1 + rng.random() * 0.03,
                    lat=30.27 + rng.random() * 0.02,
                )
                for i in range(HOUSEHOLDS)
            ),
            batch_size=BATCH,
        )
        residents = Resident.objects.bulk_create(
            (
                Resident(household=h, name=f"居民{h.pk}-{k}")
                for h in households
                for k in range(1 + (h.pk % 2))
            ),
            batch_size=BATCH,
        )
        by_household: dict[int, list[Resident]] = {}
        for r in residents:
            by_household.setdefault(r.household_id, []).append(r)
        tags = []
        for members_ in by_household.values():
            seen: set[tuple[int, str]] = set()
            for tag, share in TAG_SHARES.items():
                if rng.random() < share:
                    resident = rng.choice(members_)
                    if (resident.pk, tag) not in seen:
                        seen.add((resident.pk, tag))
                        tags.append(ResidentTagAssignment(resident=resident, tag=tag))
        ResidentTagAssignment.objects.bulk_create(tags, batch_size=BATCH)
        kinds, weights = zip(*PLACE_KINDS.items(), strict=True)
        Place.objects.bulk_create(
            (
                Place(
                    kind=rng.choices(kinds, weights)[0],
                    name=f"场所{i}",
                    area=grids[i % len(grids)],
                    lon=120.1 + rng.random() * 0.03,
                    lat=30.27 + rng.random() * 0.02,
                )
                for i in range(PLACES)
            ),
            batch_size=BATCH,
        )
    progress(
        f"fixture: {len(grids)} grids, {len(micros)} micro-grids, {len(households):,} "
        f"households, {len(residents):,} residents, {len(tags):,} tags, {PLACES:,} places"
    )


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"bench_generate: {message}")


def empty_tables() -> None:
    from django.db import connection, transaction

    from gridgov.tasks.models import Task, TaskEvent

    with transaction.atomic(), connection.cursor() as cursor:
        for model in (TaskEvent, Task):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE tasks_task, tasks_taskevent")


def snapshot() -> tuple[list[Any], list[list[Any]]]:
    """The rows ours wrote, as unsaved model instances: tasks, and each task's events."""
    from gridgov.tasks.models import Task, TaskEvent

    events: dict[int, list[Any]] = {}
    for event in TaskEvent.objects.order_by("id").iterator(chunk_size=BATCH):
        task_id = event.task_id
        event.pk = None
        events.setdefault(task_id, []).append(event)
    tasks, task_events = [], []
    for task in Task.objects.order_by("id").iterator(chunk_size=BATCH):
        task_events.append(events.get(task.pk, []))
        task._state.adding = True
        tasks.append(task)
    return tasks, task_events


def raw_rows(model: Any, objs: list[Any]) -> tuple[str, list[str], list[tuple[Any, ...]]]:
    """``objs`` as plain tuples of every column (ids included), ready for the database."""
    from django.db import connection

    fields = list(model._meta.concrete_fields)
    columns = [str(f.column) for f in fields]
    rows = [
        tuple(f.get_db_prep_save(getattr(o, f.attname), connection) for f in fields) for o in objs
    ]
    return model._meta.db_table, columns, rows


def raw_floor(tasks: list[Any], task_events: list[list[Any]]) -> float:
    """The floor: the same rows, ids included (so no read-back), as plain tuples through
    the driver's fastest path (COPY on PostgreSQL, executemany on SQLite), same batches."""
    from django.db import connection, transaction

    from gridgov.tasks.generation import _bulk_session
    from gridgov.tasks.models import Task, TaskEvent

    for task, events in zip(tasks, task_events, strict=True):
        for event in events:
            event.task_id = task.pk
    task_table, task_columns, task_rows = raw_rows(Task, tasks)
    event_table, event_columns, event_rows = raw_rows(
        TaskEvent, [e for events in task_events for e in events]
    )
    per_task = len(event_rows) // max(len(task_rows), 1)
    qn = connection.ops.quote_name

    def write(cursor: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        names = ", ".join(qn(c) for c in columns)
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {qn(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {qn(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608

    started = time.perf_counter()
    # The same SQLite page cache as ours (generation._bulk_session): like with like.
    with _bulk_session():
        for i in range(0, len(task_rows), BATCH):
            with transaction.atomic(), connection.cursor() as cursor:
                write(cursor, task_table, task_columns, task_rows[i : i + BATCH])
                events = event_rows[i * per_task : (i + BATCH) * per_task]
                write(cursor, event_table, event_columns, events)
    return time.perf_counter() - started


def bulk_baseline(tasks: list[Any], task_events: list[list[Any]], *, with_events: bool) -> float:
    from django.db import transaction

    from gridgov.tasks.models import Task, TaskEvent

    for task in tasks:
        task.pk = None
    started = time.perf_counter()
    for i in range(0, len(tasks), BATCH):
        chunk = tasks[i : i + BATCH]
        with transaction.atomic():
            Task.objects.bulk_create(chunk)
            if with_events:
                rows = []
                for task, events in zip(chunk, task_events[i : i + BATCH], strict=True):
                    for event in events:
                        event.task_id = task.pk
                        rows.append(event)
                TaskEvent.objects.bulk_create(rows)
    return time.perf_counter() - started


def main() -> None:
    setup_django("bench_generate")
    from django.db import connection

    from gridgov.tasks.generation import CONNECTIONS, generation_run
    from gridgov.tasks.lanes import lanes_usable
    from gridgov.tasks.models import Task, TaskEvent

    progress(f"building the fixture ({HOUSEHOLDS:,} households) on {connection.vendor} …")
    build_fixture()

    def ours(connections: int = CONNECTIONS) -> tuple[float, int]:
        started = time.perf_counter()
        summary = generation_run(
            start=MONTH[0], end=MONTH[1], batch_size=BATCH, now=GENERATED_AT,
            connections=connections,
        )  # fmt: skip
        return time.perf_counter() - started, summary.created

    progress("generating June 2025 (cold) …")
    cold, created = ours()
    events = TaskEvent.objects.count()
    check(Task.objects.count() == created and events == 2 * created, "tasks or events missing")
    progress(f"  {created:,} tasks, {events:,} timeline rows in {cold:.2f} s")
    rerun_started = time.perf_counter()
    rerun = generation_run(start=MONTH[0], end=MONTH[1], batch_size=BATCH, now=GENERATED_AT)
    rerun_s = time.perf_counter() - rerun_started
    check(rerun.created == 0 and rerun.skipped == created, "the rerun was not a no-op")
    progress(f"  rerun: 0 created, {rerun.skipped:,} skipped in {rerun_s:.2f} s")

    tasks, task_events = snapshot()
    empty_tables()
    progress("baseline: bulk_create of the same tasks and timeline rows …")
    baseline_s = bulk_baseline(tasks, task_events, with_events=True)
    empty_tables()
    tasks_only_s = bulk_baseline(tasks, task_events, with_events=False)
    empty_tables()
    progress("floor: the same rows as plain tuples through COPY / executemany …")
    # Every row keeps the id the last bulk_create gave it: unique, and free again.
    floor_s = raw_floor(tasks, task_events)
    empty_tables()
    progress("generating June 2025 (warm) …")
    warm, created_again = ours()
    check(created_again == created, "the warm run created a different number of tasks")
    best = min(cold, warm)
    one = best  # SQLite writes on one connection anyway
    if lanes_usable(CONNECTIONS) > 1:
        empty_tables()
        progress("generating June 2025 on one connection …")
        one, created_once = ours(connections=1)
        check(created_once == created, "the one-connection run created other tasks")
    value, baseline = created / best, created / baseline_s
    emit(
        "generation_run",
        value,
        "tasks/s",
        baseline=baseline,
        goal=">= 0.5",
        database=connection.vendor,
        tasks=created,
        timeline_rows=events,
        households=HOUSEHOLDS,
        seconds=round(best, 3),
        seconds_cold=round(cold, 3),
        connections=lanes_usable(CONNECTIONS),
        seconds_one_connection=round(one, 3),
        baseline_seconds=round(baseline_s, 3),
        baseline_tasks_only_per_s=round(created / tasks_only_s, 1),
        ratio_tasks_only=round(value / (created / tasks_only_s), 3),
        floor_per_s=round(created / floor_s, 1),
        ratio_to_floor=round(floor_s / best, 3),
        rerun_seconds=round(rerun_s, 3),
        district_tasks=DISTRICT_TASKS,
        district_seconds_extrapolated=round(DISTRICT_TASKS / value, 1),
        district_goal_seconds=60,
    )


if __name__ == "__main__":
    main()
