"""The SLA sweep: overdue marking and the three escalation levels, each step once."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from gridgov.notifications.choices import NotificationKind, SupervisionResolution
from gridgov.notifications.models import Notification, OutboxMessage, SupervisionRecord
from gridgov.tasks import sweep as sweep_module
from gridgov.tasks.choices import TaskAction, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.sweep import SWEPT_STATES, sweep_run
from gridgov.tasks.tests.factories import TaskStreet, make_task

CST = dt.timezone(dt.timedelta(hours=8))


def at(text: str) -> dt.datetime:
    """A Shanghai time from ``"2026-03-10 09:00"``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


def task_in(street: TaskStreet, *, deadline: dt.datetime, **fields: Any) -> Task:
    fields.setdefault("area", street["g11"])
    fields.setdefault("assignee", street["chen"])
    return make_task(
        task_type=street.types["patrol"],
        deadline=deadline,
        at=deadline - dt.timedelta(days=3),
        **fields,
    )


def events(task: Task, action: str) -> list[TaskEvent]:
    return list(TaskEvent.objects.filter(task=task, action=action).order_by("id"))


def inbox(user: Any) -> list[tuple[str, int | None]]:
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("kind", "task_id")
    )


# --- Overdue and level 1 -----------------------------------------------------------------------


def test_it_marks_an_overdue_task_and_reminds_the_assignee(street: TaskStreet) -> None:
    deadline = at("2026-03-10 12:00")
    task = task_in(street, deadline=deadline)
    report = sweep_run(now=at("2026-03-10 12:01"))
    assert report.overdue == 1
    assert report.escalated == {1: 1, 2: 0, 3: 0}
    task.refresh_from_db()
    assert task.is_overdue is True
    assert task.overdue_at == deadline
    assert task.escalation_level == 1
    assert task.escalated_at == at("2026-03-10 12:01")
    [overdue] = events(task, TaskAction.OVERDUE)
    assert overdue.at == deadline
    assert overdue.actor is None
    [escalate] = events(task, TaskAction.ESCALATE)
    assert escalate.data["level"] == 1
    assert inbox(street["chen"]) == [(NotificationKind.OVERDUE_REMINDER, task.pk)]
    note = Notification.objects.get()
    assert task.number in note.body
    assert OutboxMessage.objects.filter(channel="log", recipient=street["chen"]).count() == 1


def test_it_leaves_tasks_within_their_deadline_and_without_one_alone(street: TaskStreet) -> None:
    on_time = task_in(street, deadline=at("2026-03-10 12:00"))
    no_deadline = task_in(street, deadline=at("2026-03-01 12:00"))
    Task.objects.filter(pk=no_deadline.pk).update(deadline=None)
    report = sweep_run(now=at("2026-03-10 11:59"))
    assert (report.overdue, report.escalated[1]) == (0, 0)
    assert not Task.objects.filter(is_overdue=True).exists()
    assert not TaskEvent.objects.exists()
    assert not Notification.objects.exists()
    on_time.refresh_from_db()
    assert on_time.escalation_level == 0


def test_a_second_sweep_changes_nothing(street: TaskStreet) -> None:
    task = task_in(street, deadline=at("2026-03-10 12:00"))
    sweep_run(now=at("2026-03-10 13:00"))
    report = sweep_run(now=at("2026-03-10 13:01"))
    assert (report.overdue, report.escalated, report.notifications) == (0, {1: 0, 2: 0, 3: 0}, 0)
    assert TaskEvent.objects.filter(task=task).count() == 2
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    ("state", "suspended"),
    [
        (TaskState.ACCEPTED, True),  # 挂账: suspended tasks do not escalate
        (TaskState.HANDLED, False),  # feedback submitted: the assignee's clock stopped
        (TaskState.CLOSED, False),
        (TaskState.CANCELLED, False),
        (TaskState.REJECTED, False),
    ],
)
def test_suspended_handled_and_finished_tasks_are_never_swept(
    street: TaskStreet, state: str, suspended: bool
) -> None:
    deadline = at("2026-03-02 12:00")
    fields: dict[str, Any] = {"state": state}
    if suspended:
        fields.update(suspended_at=deadline - dt.timedelta(hours=1), suspension_reason="待拆迁")
    if state == TaskState.REJECTED:
        fields["reported_at"] = deadline - dt.timedelta(days=1)
    task = task_in(street, deadline=deadline, **fields)
    report = sweep_run(now=at("2026-03-20 12:00"))
    assert report.overdue == 0
    assert report.escalated == {1: 0, 2: 0, 3: 0}
    task.refresh_from_db()
    assert (task.is_overdue, task.escalation_level) == (False, 0)
    assert not TaskEvent.objects.exists()
    assert not SupervisionRecord.objects.exists()


def test_every_open_state_but_handled_is_on_the_clock() -> None:
    assert set(SWEPT_STATES) == {
        TaskState.REPORTED,
        TaskState.REGISTERED,
        TaskState.DISPATCHED,
        TaskState.ACCEPTED,
        TaskState.SENT_BACK,
        TaskState.RETURNED,
    }


def test_a_suspended_overdue_task_stops_escalating(street: TaskStreet) -> None:
    task = task_in(street, deadline=at("2026-03-10 12:00"))
    sweep_run(now=at("2026-03-10 12:01"))
    Task.objects.filter(pk=task.pk).update(suspended_at=at("2026-03-10 14:00"))
    report = sweep_run(now=at("2026-03-20 12:00"))
    assert report.escalated == {1: 0, 2: 0, 3: 0}
    task.refresh_from_db()
    assert task.escalation_level == 1


def test_a_department_task_reminds_the_departments_handlers(street: TaskStreet) -> None:
    task = task_in(
        street, deadline=at("2026-03-10 12:00"), assignee=None, department=street.department
    )
    sweep_run(now=at("2026-03-10 12:01"))
    assert inbox(street["he"]) == [(NotificationKind.OVERDUE_REMINDER, task.pk)]


def test_a_task_nobody_holds_reminds_the_nearest_leaders(street: TaskStreet) -> None:
    # Grid g11's community c1 has a grid leader (wu); g22's community c2 has none, so the
    # street's command centre (zhou) hears of it.
    in_c1 = task_in(street, deadline=at("2026-03-10 12:00"), assignee=None, needs_attention=True)
    in_c2 = task_in(
        street,
        deadline=at("2026-03-10 12:00"),
        assignee=None,
        area=street["g22"],
        needs_attention=True,
    )
    sweep_run(now=at("2026-03-10 12:01"))
    assert inbox(street["wu"]) == [(NotificationKind.OVERDUE_REMINDER, in_c1.pk)]
    assert inbox(street["zhou"]) == [(NotificationKind.OVERDUE_REMINDER, in_c2.pk)]


# --- Levels 2 and 3, in working time ------------------------------------------------------------


def test_it_escalates_to_the_grid_leader_then_to_supervision(street: TaskStreet) -> None:
    # Tue 10 March 2026, deadline 12:00. One working day = 7.5 working hours.
    task = task_in(street, deadline=at("2026-03-10 12:00"))
    sweep_run(now=at("2026-03-10 12:01"))
    # Tue 15:00 + … Wed 12:00 is 3.5 (Tue 13:30–17:30 is 4) → 7.5 h at Wed 12:00.
    assert sweep_run(now=at("2026-03-11 11:59")).escalated[2] == 0
    report = sweep_run(now=at("2026-03-11 12:00"))
    assert report.escalated == {1: 0, 2: 1, 3: 0}
    assert inbox(street["wu"]) == [(NotificationKind.ESCALATION_GRID_LEADER, task.pk)]
    assert not SupervisionRecord.objects.exists()
    # Three working days: Fri 13 March 12:00.
    assert sweep_run(now=at("2026-03-13 11:59")).escalated[3] == 0
    report = sweep_run(now=at("2026-03-13 12:00"))
    assert report.escalated == {1: 0, 2: 0, 3: 1}
    assert report.supervision_created == 1
    record = SupervisionRecord.objects.get()
    assert (record.task, record.level, record.resolved_at) == (task, 3, None)
    assert inbox(street["zhou"]) == [(NotificationKind.SUPERVISION, task.pk)]
    task.refresh_from_db()
    assert task.escalation_level == 3
    levels = [e.data["level"] for e in events(task, TaskAction.ESCALATE)]
    assert levels == [1, 2, 3]
    # Nothing further, ever.
    assert sweep_run(now=at("2026-04-30 12:00")).escalated == {1: 0, 2: 0, 3: 0}
    assert len(events(task, TaskAction.ESCALATE)) == 3


def test_escalation_over_a_holiday_waits_for_working_days(street: TaskStreet) -> None:
    # Due on the eve of the Spring Festival 2026: Saturday 14 February is a working day
    # (调休), 15–23 February are the holiday, work resumes on Tuesday 24 February.
    task = task_in(street, deadline=at("2026-02-14 17:30"))
    report = sweep_run(now=at("2026-02-14 17:31"))
    assert (report.overdue, report.escalated[1]) == (1, 1)
    # Nine days later, still in the holiday: no working time has passed.
    assert sweep_run(now=at("2026-02-23 23:59")).escalated == {1: 0, 2: 0, 3: 0}
    assert sweep_run(now=at("2026-02-24 17:29")).escalated[2] == 0
    assert sweep_run(now=at("2026-02-24 17:30")).escalated[2] == 1
    # Level 3 after three working days: 24, 25, 26 February.
    assert sweep_run(now=at("2026-02-26 17:29")).escalated[3] == 0
    assert sweep_run(now=at("2026-02-26 17:30")).escalated[3] == 1
    task.refresh_from_db()
    assert task.escalation_level == 3


def test_a_sweep_after_a_long_outage_climbs_every_level_once(street: TaskStreet) -> None:
    task = task_in(street, deadline=at("2026-03-02 12:00"))
    report = sweep_run(now=at("2026-03-20 12:00"))
    assert report.overdue == 1
    assert report.escalated == {1: 1, 2: 1, 3: 1}
    assert [e.data["level"] for e in events(task, TaskAction.ESCALATE)] == [1, 2, 3]
    assert {n.kind for n in Notification.objects.all()} == {
        NotificationKind.OVERDUE_REMINDER,
        NotificationKind.ESCALATION_GRID_LEADER,
        NotificationKind.SUPERVISION,
    }


def test_thresholds_are_configurable(street: TaskStreet, settings: Any) -> None:
    settings.GRIDGOV_ESCALATION_WORKING_DAYS = {2: 2, 3: 5}
    task_in(street, deadline=at("2026-03-10 12:00"))
    assert sweep_run(now=at("2026-03-11 12:00")).escalated[2] == 0
    assert sweep_run(now=at("2026-03-12 12:00")).escalated[2] == 1


def test_supervision_records_are_resolved_when_the_task_finishes(street: TaskStreet) -> None:
    task = task_in(street, deadline=at("2026-03-02 12:00"))
    sweep_run(now=at("2026-03-20 12:00"))
    assert sweep_run(now=at("2026-03-20 12:01")).supervision_resolved == 0
    Task.objects.filter(pk=task.pk).update(state=TaskState.CLOSED, closed_at=at("2026-03-20 15:00"))
    report = sweep_run(now=at("2026-03-20 16:00"))
    assert report.supervision_resolved == 1
    record = SupervisionRecord.objects.get()
    assert record.resolved_at == at("2026-03-20 16:00")
    assert record.resolution == SupervisionResolution.TASK_FINISHED


# --- Each step once, however the sweeps overlap ----------------------------------------------


def test_a_sweep_working_from_a_stale_read_logs_nothing_twice(
    street: TaskStreet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sweep B read its candidates before sweep A committed; A then marks and escalates
    # everything; B's claims must change nothing and B must log nothing.
    tasks = [task_in(street, deadline=at("2026-03-02 12:00")) for _ in range(3)]
    real = sweep_module._candidates
    seen: list[list[Any]] = []

    def recording(*args: Any) -> list[Any]:
        batch = real(*args)
        seen.append(batch)
        return batch

    monkeypatch.setattr(sweep_module, "_candidates", recording)
    sweep_run(now=at("2026-03-20 12:00"))  # sweep A
    stale = [batch for batch in seen if batch]
    assert len(stale) == 1  # one pass: every step of a task in one claim
    monkeypatch.setattr(sweep_module, "_candidates", lambda *args: stale.pop(0) if stale else [])
    report = sweep_run(now=at("2026-03-20 12:00"))  # sweep B, from A's (now stale) reads
    assert not stale  # B did try every stale batch
    assert (report.overdue, report.escalated, report.notifications) == (0, {1: 0, 2: 0, 3: 0}, 0)
    for task in tasks:
        assert len(events(task, TaskAction.OVERDUE)) == 1
        assert len(events(task, TaskAction.ESCALATE)) == 3
    assert SupervisionRecord.objects.count() == 3


def test_the_row_by_row_claim_gives_the_same_result(
    street: TaskStreet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep_module, "_supports_returning", lambda: False)
    task = task_in(street, deadline=at("2026-03-02 12:00"))
    report = sweep_run(now=at("2026-03-20 12:00"))
    assert (report.overdue, report.escalated) == (1, {1: 1, 2: 1, 3: 1})
    assert sweep_run(now=at("2026-03-20 12:00")).escalated == {1: 0, 2: 0, 3: 0}
    task.refresh_from_db()
    assert (task.is_overdue, task.escalation_level) == (True, 3)


def test_batches_cover_every_task(street: TaskStreet) -> None:
    for day in range(2, 9):
        task_in(street, deadline=at(f"2026-03-0{day} 12:00"))
    report = sweep_run(now=at("2026-03-20 12:00"), batch_size=2)
    assert report.overdue == 7
    assert report.escalated == {1: 7, 2: 7, 3: 7}


def test_the_number_of_queries_does_not_grow_with_the_tasks(street: TaskStreet) -> None:
    def queries(count: int, month: int) -> int:
        for _ in range(count):
            task_in(street, deadline=at(f"2026-{month:02d}-02 12:00"))
        with CaptureQueriesContext(connection) as context:
            sweep_run(now=at(f"2026-{month:02d}-20 12:00"))
        return len(context.captured_queries)

    assert queries(2, 3) == queries(20, 4)


# --- The command --------------------------------------------------------------------------------


def test_the_command_prints_counts(street: TaskStreet) -> None:
    task_in(street, deadline=at("2026-03-10 12:00"))
    out = io.StringIO()
    call_command("sweep", now="2026-03-10T12:01:00+08:00", stdout=out)
    assert "1 newly overdue" in out.getvalue()
    assert "1 reminded" in out.getvalue()


def test_the_command_prints_json_and_reads_local_times(street: TaskStreet) -> None:
    task_in(street, deadline=at("2026-03-02 12:00"))
    out = io.StringIO()
    call_command("sweep", now="2026-03-20 12:00", json=True, stdout=out)
    report = json.loads(out.getvalue())
    assert report["now"] == "2026-03-20T12:00:00+08:00"
    assert (report["overdue"], report["escalated"]) == (1, {"1": 1, "2": 1, "3": 1})


def test_the_command_refuses_a_bad_time(db: Any) -> None:
    with pytest.raises(CommandError, match="not an ISO 8601"):
        call_command("sweep", now="yesterday", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_in_two_threads_log_each_step_once() -> None:
    from gridgov.tasks.tests.factories import make_task_street

    street = make_task_street()
    tasks = [task_in(street, deadline=at("2026-03-02 12:00")) for _ in range(30)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            for _attempt in range(200):
                try:
                    sweep_run(now=at("2026-03-20 12:00"), batch_size=7)
                    return
                except OperationalError as exc:
                    # PostgreSQL makes the second writer wait on the row locks. The
                    # shared-cache in-memory SQLite test database cannot wait: it fails
                    # the batch ("table is locked"), which rolls back; the sweep is then
                    # simply run again, as the worker would a minute later.
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.005)
            raise AssertionError("the sweep never got the database")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    for task in tasks:
        assert len(events(task, TaskAction.OVERDUE)) == 1
        assert [e.data["level"] for e in events(task, TaskAction.ESCALATE)] == [1, 2, 3]
    assert Task.objects.filter(is_overdue=True, escalation_level=3).count() == 30
    assert SupervisionRecord.objects.count() == 30
    for kind in NotificationKind.values:
        assert Notification.objects.filter(kind=kind).count() == 30


def test_an_approved_extension_restarts_the_ladder_from_the_new_deadline(
    street: TaskStreet,
) -> None:
    from gridgov.tasks.services import task_extension_decide, task_extension_request

    task = task_in(street, deadline=at("2026-03-10 12:00"))
    sweep_run(now=at("2026-03-12 09:00"))  # overdue, level 2 (one working day late)
    task.refresh_from_db()
    assert (task.is_overdue, task.escalation_level) == (True, 2)
    task_extension_request(
        actor=street["chen"], task=task, until=at("2026-03-20 17:30"), reason="等配件",
        now=at("2026-03-12 09:10"),
    )  # fmt: skip
    task_extension_decide(
        actor=street["wu"], task=Task.objects.get(pk=task.pk), approve=True,
        now=at("2026-03-12 09:20"),
    )  # fmt: skip
    task.refresh_from_db()
    assert (task.is_overdue, task.escalation_level, task.overdue_at) == (False, 0, None)
    assert sweep_run(now=at("2026-03-12 09:30")).overdue == 0
    report = sweep_run(now=at("2026-03-20 17:31"))
    assert report.overdue == 1
    assert report.escalated == {1: 1, 2: 0, 3: 0}


# --- Lanes (several connections) ----------------------------------------------------------------


def _swept() -> tuple[list[Any], ...]:
    """What a sweep wrote, as comparable tuples (ids of tasks, not of the rows)."""
    tasks = sorted(Task.objects.values_list("id", "is_overdue", "escalation_level", "overdue_at"))
    timeline = sorted(
        (task_id, action, json.dumps(data, sort_keys=True), key)
        for task_id, action, data, key in TaskEvent.objects.values_list(
            "task_id", "action", "data", "idempotency_key"
        )
    )
    inbox = sorted(Notification.objects.values_list("recipient_id", "kind", "task_id", "body"))
    outbox = sorted(OutboxMessage.objects.values_list("channel", "target", "kind"))
    records = sorted(SupervisionRecord.objects.values_list("task_id", "level", "note"))
    return tasks, timeline, inbox, outbox, records


@pytest.mark.django_db(transaction=True)
def test_lanes_sweep_exactly_what_one_connection_sweeps(monkeypatch: pytest.MonkeyPatch) -> None:
    from gridgov.tasks.tests.factories import make_task_street
    from gridgov.tasks.tests.test_lanes import record_lanes

    street = make_task_street()
    for day in range(2, 14):  # overdue by 6 … 18 days: every level, in several batches
        task_in(street, deadline=at(f"2026-03-{day:02d} 12:00"))
        task_in(street, deadline=at(f"2026-03-{day:02d} 15:00"), assignee=None)
    used = record_lanes(monkeypatch)
    two = sweep_run(now=at("2026-03-20 12:00"), batch_size=5, connections=2)
    in_lanes = _swept()
    assert used == ({0, 1} if connection.vendor == "postgresql" else {0})
    for model in (TaskEvent, Notification, OutboxMessage, SupervisionRecord):
        model.objects.all().delete()
    Task.objects.update(is_overdue=False, overdue_at=None, escalation_level=0, escalated_at=None)
    one = sweep_run(now=at("2026-03-20 12:00"), batch_size=5, connections=1)
    assert _swept() == in_lanes
    assert two.as_dict() | {"seconds": 0} == one.as_dict() | {"seconds": 0}
    assert two.overdue == 24
