"""Racing actors and double submissions: exactly one wins, one timeline row."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django_fsm import ConcurrentTransition

from gridgov.core.errors import Conflict
from gridgov.tasks import services
from gridgov.tasks.choices import TaskAction, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.tests.factories import TaskStreet, make_task, make_task_street

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2025, 6, 9, 10, 0, tzinfo=SH)


def handled(street: TaskStreet) -> Task:
    return make_task(
        area=street["g11"],
        task_type=street.types["patrol"],
        state=TaskState.HANDLED,
        assignee=street["chen"],
    )


def test_the_model_save_is_a_compare_and_set_on_the_state(street: TaskStreet) -> None:
    task = handled(street)
    first, second = Task.objects.get(pk=task.pk), Task.objects.get(pk=task.pk)
    first.verify_pass()
    first.save()
    second.verify_fail()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        second.save()
    assert Task.objects.get(pk=task.pk).state == TaskState.CLOSED


def test_two_verifiers_racing_exactly_one_wins(
    street: TaskStreet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser read the task before the winner saved it (a stale copy): its save is the
    compare-and-set that fails, and its whole transaction rolls back."""
    task = handled(street)
    stale = Task.objects.get(pk=task.pk)
    services.task_verify(actor=street["wu"], task=task, passed=True, now=NOW)
    monkeypatch.setattr(services, "_load", lambda _task: stale)
    with pytest.raises(Conflict) as caught:
        services.task_verify(actor=street["zhou"], task=task, passed=False, note="不合格", now=NOW)
    assert caught.value.code == "state_conflict"
    fresh = Task.objects.get(pk=task.pk)
    assert (fresh.state, fresh.rework_count) == (TaskState.CLOSED, 0)
    assert list(TaskEvent.objects.filter(task=task).values_list("action", "actor")) == [
        (TaskAction.VERIFY_PASS, street["wu"].pk)
    ]


def test_a_stale_second_accept_is_a_conflict(street: TaskStreet) -> None:
    """Without the race, the loser loads the task fresh and finds it already accepted."""
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    services.task_accept(actor=street["chen"], task=task, now=NOW)
    with pytest.raises(Conflict, match="cannot be accepted"):
        services.task_accept(actor=street["chen"], task=task, now=NOW)
    assert TaskEvent.objects.filter(task=task, action=TaskAction.ACCEPT).count() == 1


def test_threads_racing_on_one_task(concurrent_db: Callable[[], None]) -> None:
    """Two verifiers in two threads, each on its own connection, start together: exactly
    one closes or returns the task, the other gets a state conflict, one timeline row."""
    street = make_task_street()
    task = handled(street)
    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def verify(actor: str, passed: bool) -> None:
        concurrent_db()
        try:
            barrier.wait(timeout=10)
            services.task_verify(
                actor=street[actor], task=task, passed=passed, note="核查", now=NOW
            )
            outcomes[actor] = "won"
        except Conflict as exc:
            outcomes[actor] = exc.code
        except BaseException as exc:  # pragma: no cover - shown by the assertion
            outcomes[actor] = repr(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=verify, args=("wu", True)),
        threading.Thread(target=verify, args=("zhou", False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["state_conflict", "won"]
    fresh = Task.objects.get(pk=task.pk)
    events = list(TaskEvent.objects.filter(task=task))
    assert len(events) == 1
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    assert events[0].actor == street[winner]
    assert fresh.state == (TaskState.CLOSED if winner == "wu" else TaskState.RETURNED)


# --- idempotency ---------------------------------------------------------------------------


def test_a_double_submission_with_one_key_is_harmless(street: TaskStreet) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    first = services.task_accept(actor=street["chen"], task=task, idempotency_key="k-1", now=NOW)
    second = services.task_accept(actor=street["chen"], task=task, idempotency_key="k-1", now=NOW)
    assert first.state == second.state == TaskState.ACCEPTED
    assert TaskEvent.objects.filter(task=task).count() == 1


def test_a_replay_after_the_task_moved_on_returns_it_unchanged(street: TaskStreet) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    services.task_accept(actor=street["chen"], task=task, idempotency_key="accept-1", now=NOW)
    services.task_submit_feedback(
        actor=street["chen"], task=task, note="完成", lon=None, lat=None, answers={}, photos=[]
    )
    replay = services.task_accept(
        actor=street["chen"], task=task, idempotency_key="accept-1", now=NOW
    )
    assert replay.state == TaskState.HANDLED
    assert TaskEvent.objects.filter(task=task).count() == 2


def test_a_different_key_is_a_new_action(street: TaskStreet) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    services.task_accept(actor=street["chen"], task=task, idempotency_key="a", now=NOW)
    with pytest.raises(Conflict):
        services.task_accept(actor=street["chen"], task=task, idempotency_key="b", now=NOW)


def test_a_double_submission_racing_the_first_returns_the_first(
    street: TaskStreet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both copies of the request passed the key check before either committed: the
    second loses the compare-and-set, then finds the first's row and returns quietly."""
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    stale = Task.objects.get(pk=task.pk)
    services.task_accept(actor=street["chen"], task=task, idempotency_key="dup", now=NOW)
    real_replayed = services._replayed
    calls = {"n": 0}

    def first_check_misses(task_pk: int, key: str | None) -> Task | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_replayed(task_pk, key)

    monkeypatch.setattr(services, "_replayed", first_check_misses)
    monkeypatch.setattr(services, "_load", lambda _task: stale)
    again = services.task_accept(actor=street["chen"], task=task, idempotency_key="dup", now=NOW)
    assert again.state == TaskState.ACCEPTED
    assert TaskEvent.objects.filter(task=task).count() == 1


def test_an_overlong_key_is_refused(street: TaskStreet) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    with pytest.raises(services.ValidationFailed, match="at most 100"):
        services.task_accept(actor=street["chen"], task=task, idempotency_key="x" * 101)
