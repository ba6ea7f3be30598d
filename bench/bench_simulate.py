"""The simulator: a month of the small demo street, and its overhead over bare service calls.

Ours: ``simulation_run`` over 30 days of the small street (``seed_demo(scale="small")``):
wall-clock seconds (goal: well under a minute) and service calls per second. Baseline, same
run, same database: the bare life cycle of routine tasks generated for the following days —
``task_accept``, ``task_submit_feedback`` (one photo, the rule's answers) and ``task_verify``
called directly in a loop, no queue, no clock travel — in service calls per second. The ratio
is the simulator's throughput against that floor (its own bookkeeping, queries for the
rounds, the clock). ``DAYS=…`` and ``SCALE=full`` resize it.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from bench import emit, progress, setup_django

DAYS = int(os.environ.get("DAYS", "30"))
SCALE = os.environ.get("SCALE", "small")
BARE_TASKS = int(os.environ.get("BARE_TASKS", "150"))


def main() -> None:
    setup_django("bench_simulate")
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from gridgov.demo.seed import seed_demo
    from gridgov.simulation import services as sim
    from gridgov.tasks.choices import TaskState
    from gridgov.tasks.generation import generation_run
    from gridgov.tasks.models import Task
    from gridgov.tasks.services import task_accept, task_submit_feedback, task_verify

    progress(f"seed-demo --scale {SCALE} …")
    seed_demo(scale=SCALE)
    today = timezone.localdate()
    start = today - dt.timedelta(days=DAYS + 3)
    progress(f"simulate {DAYS} days …")
    began = time.perf_counter()
    report = sim.simulation_run(days=DAYS, start=start)
    seconds = time.perf_counter() - began
    calls = sum(n for name, n in report.counts.items() if name not in ("sweeps", "refused"))
    calls -= report.counts["routine_generated"] + report.counts["marked_overdue"]

    progress("baseline: the bare life cycle …")
    after = start + dt.timedelta(days=DAYS)
    generation_run(start=after, end=after + dt.timedelta(days=2))
    street = sim._Street(area=None, seed=1, knobs=sim.Knobs())
    since = timezone.make_aware(dt.datetime.combine(after, dt.time()))
    tasks = list(
        Task.objects.filter(
            state=TaskState.DISPATCHED, assignee__isnull=False, occurrence__gte=since
        )
        .select_related("rule", "area", "target_household", "target_place")
        .order_by("id")[:BARE_TASKS]
    )
    now = timezone.now()
    bare = 0
    began = time.perf_counter()
    for task in tasks:
        worker = street.users[task.assignee_id]
        task_accept(actor=worker, task=task, now=now)
        lon, lat = task.lon or 120.115, task.lat or 30.283
        if task.target_household or task.target_place:
            target = task.target_household or task.target_place
            lon, lat = target.lon, target.lat  # type: ignore[union-attr]
        photos = [SimpleUploadedFile("p.png", sim._PHOTO, content_type="image/png")]
        answers = sim._answers(task.rule.form_fields if task.rule else [], sim._rng(1, task.pk))
        task_submit_feedback(
            actor=worker, task=task, note="ok", lon=lon, lat=lat, answers=answers,
            photos=photos * (task.rule.min_photos if task.rule else 0), now=now,
        )  # fmt: skip
        verifier = street.person_over(task.area.code, sim._VERIFIERS, not_user=worker.pk)
        task_verify(actor=verifier, task=task, passed=True, now=now)
        bare += 3
    bare_rate = bare / (time.perf_counter() - began)

    emit(
        "simulate_month_seconds", seconds, "s", goal="< 60 (small street)",
        days=DAYS, scale=SCALE, issued=report.figures["issued"], service_calls=calls,
    )  # fmt: skip
    emit(
        "simulate_service_calls_per_s", calls / seconds, "calls/s", baseline=bare_rate,
        goal=">= 0.5 of the bare life cycle",
    )  # fmt: skip


if __name__ == "__main__":
    main()
