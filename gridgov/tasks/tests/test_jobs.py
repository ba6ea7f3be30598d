"""The background jobs, run through Huey on its SQLite storage and on the real Redis of this
machine (127.0.0.1:6379, database 15, a queue name of the test's own, flushed after)."""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR

from gridgov.notifications.choices import OutboxStatus
from gridgov.notifications.models import OutboxMessage
from gridgov.notifications.services import notification_queue
from gridgov.tasks.choices import TaskSource
from gridgov.tasks.jobs import daily_at, jobs_register
from gridgov.tasks.models import Task
from gridgov.tasks.tests.factories import TaskStreet, make_task

CST = dt.timezone(dt.timedelta(hours=8))
REDIS_TEST_URL = "redis://127.0.0.1:6379/15"
#: Monday 9 March 2026, 00:30 in Shanghai: the daily generation's time.
MONDAY_0030 = dt.datetime(2026, 3, 9, 0, 30, tzinfo=CST)


@pytest.fixture(params=["sqlite", "redis"])
def huey(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Huey]:
    """A Huey of the test's own, with gridgov's jobs registered on it."""
    name = f"gridgov-test-{uuid.uuid4().hex[:8]}"
    if request.param == "sqlite":
        instance: Huey = SqliteHuey(name, filename=str(tmp_path / "huey.sqlite3"), utc=True)
    else:
        instance = RedisHuey(name, url=REDIS_TEST_URL, utc=True)
    instance.flush()
    try:
        yield instance
    finally:
        instance.flush()


@pytest.fixture
def clock(time_machine: Any) -> dt.datetime:
    time_machine.move_to(MONDAY_0030, tick=False)
    return MONDAY_0030


def run_once(huey: Huey, name: str) -> None:
    """Enqueue job ``name`` as the scheduler would, then let the consumer's code run it."""
    jobs = jobs_register(huey)
    jobs[name]()  # enqueue
    assert huey.pending_count() == 1
    task = huey.dequeue()
    assert task is not None
    assert task.name == name
    huey.execute(task)
    assert huey.pending_count() == 0


def test_the_sweep_job_marks_overdue_tasks(
    huey: Huey, street: TaskStreet, clock: dt.datetime
) -> None:
    task = make_task(
        area=street["g11"],
        task_type=street.types["patrol"],
        assignee=street["chen"],
        deadline=clock - dt.timedelta(days=10),
    )
    run_once(huey, "sweep")
    task.refresh_from_db()
    assert task.is_overdue is True
    assert task.escalation_level == 3


def test_the_outbox_job_delivers_due_messages(
    huey: Huey, street: TaskStreet, clock: dt.datetime
) -> None:
    notification_queue(recipients=[street["chen"], street["wu"]], kind="k", title="t", body="b")
    run_once(huey, "outbox_deliver")
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_the_nudge_job_delivers_due_messages(
    huey: Huey, street: TaskStreet, clock: dt.datetime
) -> None:
    notification_queue(recipients=[street["chen"]], kind="k", title="t", body="b")
    run_once(huey, "outbox_deliver_soon")
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_the_daily_job_generates_the_routine_tasks(
    huey: Huey, street: TaskStreet, clock: dt.datetime
) -> None:
    run_once(huey, "generate_daily")
    routine = Task.objects.filter(source=TaskSource.ROUTINE, rule=street.rules["patrol"])
    # The weekly grid patrol (Mondays), one task per grid of the street, due in 3 working days.
    assert routine.count() == 4
    assert {t.occurrence.astimezone(CST).date() for t in routine} == {dt.date(2026, 3, 9)}


def due(huey: Huey, local: str) -> set[str]:
    """The periodic jobs Huey's scheduler would enqueue at ``local`` Shanghai time."""
    moment = dt.datetime.fromisoformat(local).replace(tzinfo=CST)
    naive_utc = moment.astimezone(dt.UTC).replace(tzinfo=None)  # what Huey hands over
    return {task.name for task in huey.read_periodic(naive_utc)}


def test_the_schedules(huey: Huey) -> None:
    jobs_register(huey)
    assert due(huey, "2026-03-09 00:30") == {"generate_daily", "sweep", "outbox_deliver"}
    assert due(huey, "2026-03-09 00:31") == {"sweep", "outbox_deliver"}
    assert due(huey, "2026-03-09 08:30") == {"sweep", "outbox_deliver"}  # not 00:30 UTC


def test_the_generation_time_is_configurable(settings: Any, tmp_path: Path) -> None:
    settings.GRIDGOV_GENERATION_TIME = "05:15"
    huey = SqliteHuey("gridgov-test-schedule", filename=str(tmp_path / "h.sqlite3"), utc=True)
    jobs_register(huey)
    assert "generate_daily" in due(huey, "2026-03-09 05:15")
    assert "generate_daily" not in due(huey, "2026-03-09 00:30")


def test_daily_at_refuses_a_bad_time() -> None:
    with pytest.raises(ValueError, match="25:00"):
        daily_at("25:00")


@pytest.mark.django_db(transaction=True)
def test_a_consumer_thread_on_redis_runs_the_sweep() -> None:
    from gridgov.tasks.tests.factories import make_task_street

    street = make_task_street()
    task = make_task(
        area=street["g11"],
        task_type=street.types["patrol"],
        assignee=street["chen"],
        deadline=dt.datetime(2026, 3, 2, 12, 0, tzinfo=CST),
    )
    huey = RedisHuey(f"gridgov-test-{uuid.uuid4().hex[:8]}", url=REDIS_TEST_URL, utc=True)
    jobs = jobs_register(huey)
    consumer = huey.create_consumer(workers=1, periodic=False, initial_delay=0.05, max_delay=0.2)
    # Read the task only once the job has finished: polling while the worker thread writes
    # makes SQLite's shared in-memory test database answer "table is locked".
    finished = threading.Event()
    outcome: list[str] = []

    @huey.signal(SIGNAL_COMPLETE, SIGNAL_ERROR)
    def _finished(signal: str, job: Any, *args: Any) -> None:
        outcome.append(signal)
        finished.set()

    consumer.start()  # the worker thread, with its own database connection
    try:
        jobs["sweep"]()
        assert finished.wait(timeout=60), "the consumer did not run the sweep"
    finally:
        consumer.stop(graceful=True)
        huey.flush()
    assert outcome == [SIGNAL_COMPLETE]
    task.refresh_from_db()
    assert task.is_overdue is True
    assert task.escalation_level == 3


def test_the_project_huey_nudges_delivery_after_commit(
    street: TaskStreet, django_capture_on_commit_callbacks: Any
) -> None:
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True  # in-memory storage, jobs run at once in this process
    try:
        with django_capture_on_commit_callbacks(execute=True):
            notification_queue(recipients=[street["chen"]], kind="k", title="t", body="b")
            assert OutboxMessage.objects.get().status == OutboxStatus.PENDING
    finally:
        HUEY.immediate = False
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_the_worker_command_starts_the_consumer_with_the_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from huey.consumer import Consumer
    from huey.contrib.djhuey import HUEY

    started: list[Consumer] = []
    monkeypatch.setattr(Consumer, "run", lambda self: started.append(self))
    # The command configures the "huey" logger; leave it as it was for other tests.
    huey_logger = logging.getLogger("huey")
    monkeypatch.setattr(huey_logger, "propagate", huey_logger.propagate)
    monkeypatch.setattr(huey_logger, "handlers", list(huey_logger.handlers))
    out = io.StringIO()
    call_command("worker", workers=3, no_periodic=True, stdout=out)
    [consumer] = started
    assert consumer.huey is HUEY
    assert len(consumer.worker_threads) == 3
    assert consumer.periodic is False
    names = {name.rsplit(".", 1)[-1] for name in HUEY._registry._registry}
    assert {"generate_daily", "sweep", "outbox_deliver", "outbox_deliver_soon"} <= names
    assert "sweep" in out.getvalue()
