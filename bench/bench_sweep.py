"""The SLA sweep over 100,000 open tasks, against a bare ``UPDATE`` of the overdue flag.

Builds a street of 20 communities × 5 grids (a grid worker each, a grid leader per
community, one command centre) and 100,000 open tasks inserted directly with
``bulk_create``, their deadlines spread evenly from 6 days before "now" to 54 days after,
so that one task in ten is overdue (most of them by more than one or three working days:
the first sweep climbs all three escalation levels for them). "Now" is Friday 20 March
2026, 10:00 in Shanghai.

Baseline, same run, same rows: ``UPDATE tasks_task SET is_overdue = true WHERE deadline <
now`` — the flag alone: no claim, no timeline, no escalation, no notification. Ours:
``sweep_run`` as the worker runs it — overdue flags with their timeline rows, the three
escalation levels with theirs, supervision records and notifications (inbox + log channel
outbox), on ``sweep.CONNECTIONS`` connections on PostgreSQL. Figures: the first sweep
(everything is new; also on one connection, ``seconds_one_connection``), then a sweep a
minute later (the steady state: nothing new, which is what the worker meets every
minute). Ratio = baseline / ours (higher is better). Goal: ≤ 2 s for the first sweep.
"""

from __future__ import annotations

import datetime as dt
import time

from bench import emit, progress, setup_django

TASKS = 100_000
COMMUNITIES = 20
GRIDS_PER_COMMUNITY = 5
CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 3, 20, 10, 0, tzinfo=CST)


def build() -> None:
    from django.contrib.auth.models import User

    from gridgov.areas.models import Area, AreaLevel
    from gridgov.catalog.models import Category, TaskType
    from gridgov.people.choices import Role
    from gridgov.people.models import Membership
    from gridgov.tasks.choices import TaskSource, TaskState
    from gridgov.tasks.models import Task

    district = Area.objects.create(code="330106", name="西湖区", level=AreaLevel.DISTRICT)
    street = Area.objects.create(
        code="330106004", name="古荡街道", level=AreaLevel.STREET, parent=district
    )
    zhou = User.objects.create(username="zhou")
    Membership.objects.create(user=zhou, area=street, role=Role.COMMAND_CENTRE)
    grids, workers = [], []
    for c in range(1, COMMUNITIES + 1):
        community = Area.objects.create(
            code=f"330106004{c:03d}", name=f"社区{c}", level=AreaLevel.COMMUNITY, parent=street
        )
        leader = User.objects.create(username=f"leader{c}")
        Membership.objects.create(user=leader, area=community, role=Role.GRID_LEADER)
        for g in range(1, GRIDS_PER_COMMUNITY + 1):
            grid = Area.objects.create(
                code=f"{community.code}{g:03d}", name=f"网格{c}-{g}", level=AreaLevel.GRID,
                parent=community,
            )  # fmt: skip
            worker = User.objects.create(username=f"worker{c}-{g}")
            Membership.objects.create(user=worker, area=grid, role=Role.GRID_WORKER)
            grids.append(grid)
            workers.append(worker)
    category = Category.objects.create(code="01", name_zh="巡查", name_en="Patrol")
    task_type = TaskType.objects.create(
        category=category,
        code="0101",
        name_zh="日常巡查",
        name_en="Patrol",
        basis="bench",
        handler_role=Role.GRID_WORKER,
    )
    span = dt.timedelta(days=60)
    start = NOW - dt.timedelta(days=6)
    states = [TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.RETURNED]
    tasks = []
    for i in range(TASKS):
        deadline = start + span * (i / TASKS)
        k = i % len(grids)
        tasks.append(
            Task(
                number=f"B{i:09d}",
                source=TaskSource.ROUTINE,
                task_type=task_type,
                area=grids[k],
                assignee=workers[k],
                title=f"巡查 {i}",
                state=states[i % len(states)],
                deadline=deadline,
                deadline_original=deadline,
                dispatched_at=deadline - dt.timedelta(days=3),
            )
        )
    Task.objects.bulk_create(tasks, batch_size=5000)


def reset() -> None:
    """Put every task back to not overdue, and forget what a sweep wrote."""
    from gridgov.notifications.models import Notification, OutboxMessage, SupervisionRecord
    from gridgov.tasks.models import Task, TaskEvent

    Task.objects.update(is_overdue=False, overdue_at=None, escalation_level=0, escalated_at=None)
    for model in (TaskEvent, Notification, OutboxMessage, SupervisionRecord):
        model.objects.all().delete()


def main() -> None:
    setup_django("bench_sweep")
    from django.db import connection, transaction

    from gridgov.tasks.lanes import lanes_usable
    from gridgov.tasks.models import Task
    from gridgov.tasks.sweep import CONNECTIONS, sweep_run

    progress(f"building {TASKS:,} open tasks on {connection.vendor} …")
    build()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum / a daily ANALYZE gives
    table = connection.ops.quote_name(Task._meta.db_table)
    sweep_run(now=NOW - dt.timedelta(days=30))  # warm-up: imports, calendar snapshot, plans
    reset()

    progress("baseline: a bare UPDATE of the overdue flag …")
    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET is_overdue = %s WHERE deadline < %s",  # noqa: S608
                # Adapted as the ORM would (SQLite keeps UTC text, not an offset).
                [True, connection.ops.adapt_datetimefield_value(NOW)],
            )
            flagged = cursor.rowcount
        baseline = time.perf_counter() - started
    reset()

    progress("ours: sweep_run …")
    started = time.perf_counter()
    report = sweep_run(now=NOW)
    ours = time.perf_counter() - started
    assert report.overdue == flagged, (report.overdue, flagged)
    events = report.overdue + sum(report.escalated.values())
    started = time.perf_counter()
    steady = sweep_run(now=NOW + dt.timedelta(minutes=1))
    ours_steady = time.perf_counter() - started

    ours_one = ours  # SQLite sweeps on one connection anyway
    if lanes_usable(CONNECTIONS) > 1:
        progress("ours on one connection …")
        reset()
        started = time.perf_counter()
        sweep_run(now=NOW, connections=1)
        ours_one = time.perf_counter() - started
    emit(
        "sweep_first_run",
        ours,
        "s",
        baseline=baseline,
        ratio=baseline / ours,
        ratio_is="baseline/ours",
        goal="≤ 2 s",
        database=connection.vendor,
        connections=lanes_usable(CONNECTIONS),
        seconds_one_connection=round(ours_one, 3),
        open_tasks=TASKS,
        overdue=report.overdue,
        escalated=report.escalated,
        timeline_rows=events,
        supervision_records=report.supervision_created,
        notifications=report.notifications,
    )
    emit(
        "sweep_steady_state",
        ours_steady,
        "s",
        baseline=baseline,
        ratio=baseline / ours_steady,
        ratio_is="baseline/ours",
        goal="≤ 2 s",
        database=connection.vendor,
        open_tasks=TASKS,
        overdue=steady.overdue,
        escalated=steady.escalated,
    )


if __name__ == "__main__":
    main()
