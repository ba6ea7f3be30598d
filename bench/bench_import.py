"""Importing historical cases: ``cases_import`` on the 9,999 LA 311 requests.

Fixture: the default catalogue, and the 99 Los Angeles neighbourhood councils imported as
grids (``gridgov import-areas``, as docs/imports.md says) under community 990101001001.

Ours: ``cases_import`` with ``examples/la311/mapping.yaml`` — reading and checking every
row, routing (``area_locate_many_ids`` on the created date, the council column as
fallback), numbers, the tasks and their timeline rows, a transaction per batch of 2,000.
Rate = rows in the file per second (the 100 rejected rows count: they were read too). It
runs three times on emptied tables (cold, then warm) and the best run counts.

Baselines, same run, same database:

- ``csv_parse``: reading the file with ``csv.DictReader`` and nothing else — the ceiling
  of any import of it;
- ``bulk_create``: the very tasks and timeline rows ours wrote, read back as model
  instances beforehand, written again with ``bulk_create`` in the same batches and
  transactions — no parsing, no routing, no checks. The printed ``ratio`` is ours over this
  one; the goal is ≥ 2,000 rows/s for ours (issue 5).

``DATABASE_URL=postgres://…/gridgov_bench_import python -m bench.bench_import`` runs it on
PostgreSQL (the database must exist and be empty).

``cpu_seconds`` is this process's CPU time in the best run: on a shared, loaded machine
the wall time includes waiting for a CPU, and on SQLite (in-process) the CPU time is the
import's own cost. On PostgreSQL it leaves out the server's work.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

from bench import SHARED_DATA, emit, progress, setup_django

REQUESTS = SHARED_DATA / "la311" / "service_requests_2017_subset.csv"
COUNCILS = SHARED_DATA / "la311" / "neighborhood_councils.geojson"
MAPPING = Path(__file__).resolve().parent.parent / "examples" / "la311" / "mapping.yaml"
BATCH = 2000
GOAL = 2000.0  # rows/s


def build_fixture() -> None:
    from django.core.management import call_command

    from gridgov.areas.models import AreaLevel
    from gridgov.areas.services import area_create
    from gridgov.catalog.services import catalog_import_default

    catalog_import_default()
    district = area_create(code="990101", name="Los Angeles", level=AreaLevel.DISTRICT)
    street = area_create(code="990101001", name="LA", level=AreaLevel.STREET, parent=district)
    area_create(code="990101001001", name="LA councils", level=AreaLevel.COMMUNITY, parent=street)
    call_command(
        "import_areas", str(COUNCILS), level="grid", parent="990101001001",
        ref_property="nc_id", name_property="name", stdout=io.StringIO(),
    )  # fmt: skip


def empty_tables() -> None:
    from django.db import connection, transaction

    from gridgov.tasks.models import Task, TaskEvent, TaskNumberCounter

    with transaction.atomic(), connection.cursor() as cursor:
        for model in (TaskEvent, Task, TaskNumberCounter):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE tasks_task, tasks_taskevent")


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"bench_import: {message}")


def run_ours() -> tuple[float, float, Any]:
    """Wall seconds, this process's CPU seconds, and the summary of one import."""
    from gridgov.imports.mapping import mapping_load
    from gridgov.imports.services import cases_import

    mapping = mapping_load(path=MAPPING)
    cpu, start = time.process_time(), time.perf_counter()
    summary = cases_import(path=REQUESTS, mapping=mapping, batch_size=BATCH)
    return time.perf_counter() - start, time.process_time() - cpu, summary


def run_csv_parse() -> tuple[float, int]:
    start = time.perf_counter()
    with REQUESTS.open(encoding="utf-8-sig", newline="") as f:
        rows = sum(1 for _row in csv.DictReader(f))
    return time.perf_counter() - start, rows


def snapshot() -> list[tuple[Any, list[Any]]]:
    """The tasks ours wrote and each one's timeline rows, as unsaved model instances."""
    from gridgov.tasks.models import Task, TaskEvent

    events: dict[int, list[Any]] = {}
    for event in TaskEvent.objects.order_by("id"):
        task_id = event.task_id
        event.pk = None
        events.setdefault(task_id, []).append(event)
    out = []
    for task in Task.objects.order_by("id"):
        own = events.get(task.pk, [])
        task.pk = None
        out.append((task, own))
    return out


def run_bulk_create(rows: list[tuple[Any, list[Any]]]) -> float:
    from django.db import transaction

    from gridgov.tasks.models import Task, TaskEvent

    start = time.perf_counter()
    for at in range(0, len(rows), BATCH):
        batch = rows[at : at + BATCH]
        with transaction.atomic():
            Task.objects.bulk_create([task for task, _events in batch])
            for task, events in batch:
                for event in events:
                    event.task = task
            TaskEvent.objects.bulk_create([e for _task, events in batch for e in events])
    return time.perf_counter() - start


def main() -> None:
    setup_django("bench_import")
    from django.db import connection

    from gridgov.tasks.models import Task

    progress("fixture: default catalogue, 99 LA neighbourhood councils as grids")
    build_fixture()

    parse_s = min(run_csv_parse()[0] for _ in range(3))
    _rows = run_csv_parse()[1]
    check(_rows == 9999, f"expected 9,999 rows, read {_rows}")

    best = best_cpu = float("inf")
    summary: Any = None
    for label in ("cold", "warm", "warm again"):
        empty_tables()
        seconds, cpu, summary = run_ours()
        progress(f"ours ({label}): {seconds:.2f} s ({cpu:.2f} s CPU), {summary.as_dict()}")
        if seconds < best:
            best, best_cpu = seconds, cpu
    check(summary.imported + summary.rejected == 9999, "the summary does not account for every row")
    rows = snapshot()
    check(len(rows) == summary.imported, "snapshot size")
    empty_tables()
    bulk_s = run_bulk_create(rows)
    check(Task.objects.count() == summary.imported, "the baseline wrote another number of tasks")
    progress(f"baseline bulk_create: {bulk_s:.2f} s; csv parse alone: {parse_s:.3f} s")

    total = summary.total
    ours = total / best
    emit(
        "cases_import_la311",
        ours,
        "rows/s",
        baseline=total / bulk_s,
        goal=f">= {GOAL:.0f} rows/s",
        database=connection.vendor,
        rows=total,
        imported=summary.imported,
        seconds=round(best, 3),
        cpu_seconds=round(best_cpu, 3),
        meets_goal=ours >= GOAL,
    )
    emit(
        "cases_import_la311_vs_csv_parse",
        ours,
        "rows/s",
        baseline=total / parse_s,
        database=connection.vendor,
    )


if __name__ == "__main__":
    main()
