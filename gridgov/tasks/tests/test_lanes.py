"""Lanes: batch jobs on several connections (``gridgov.tasks.lanes``), as generation and
the sweep use them; their results are compared with one connection's in
``test_generation.py`` and ``test_sweep.py``."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import translation

from gridgov.tasks.lanes import Lanes, lanes_usable


def record_lanes(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """Return a set that fills with the lanes every ``Lanes.submit`` from now on uses
    (for ``test_generation`` and ``test_sweep``: did a run really use two connections?)."""
    used: set[int] = set()
    real_submit = Lanes.submit

    def submit(self: Lanes, lane: int, job: Any) -> Any:
        used.add(lane % self.count)
        return real_submit(self, lane, job)

    monkeypatch.setattr(Lanes, "submit", submit)
    return used


def test_lane_zero_runs_at_once_in_the_calling_thread() -> None:
    seen: list[str] = []
    with Lanes(3) as lanes:
        future = lanes.submit(0, lambda: seen.append(threading.current_thread().name) or 7)
        assert future.done()
        assert future.result() == 7
    assert seen == [threading.current_thread().name]


def test_each_lane_runs_its_jobs_in_order_in_one_thread_of_its_own() -> None:
    seen: dict[int, list[tuple[int, str]]] = {1: [], 2: []}

    def job(lane: int, n: int) -> None:
        seen[lane].append((n, threading.current_thread().name))

    with Lanes(3) as lanes:
        for n in range(12):
            lane = 1 + n % 2
            lanes.submit(lane, lambda lane=lane, n=n: job(lane, n))
    for lane, jobs in seen.items():
        assert [n for n, _name in jobs] == list(range(lane - 1, 12, 2))
        assert len({name for _n, name in jobs}) == 1
    assert {jobs[0][1] for jobs in seen.values()} != {threading.current_thread().name}


def test_a_failed_job_fails_the_block_after_the_others_finish() -> None:
    finished: list[int] = []

    def boom() -> None:
        raise ValueError("bad batch")

    def run() -> None:
        with Lanes(2) as lanes:
            lanes.submit(1, boom)
            lanes.submit(0, lambda: finished.append(0))

    with pytest.raises(ValueError, match="bad batch"):
        run()
    assert finished == [0]


def test_thread_lanes_speak_the_callers_language() -> None:
    with translation.override("zh-hans"), Lanes(2) as lanes:
        future = lanes.submit(1, translation.get_language)
    assert future.result() == "zh-hans"


def test_a_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Lanes(0)


@pytest.mark.django_db(transaction=True)
def test_lanes_are_usable_outside_a_transaction_on_postgresql_only() -> None:
    expected = 3 if connection.vendor == "postgresql" else 1
    assert lanes_usable(3) == expected
    assert lanes_usable(1) == 1
    with transaction.atomic():
        # Other connections could not see this transaction's rows.
        assert lanes_usable(3) == 1


@pytest.mark.django_db(transaction=True)
def test_thread_lanes_use_connections_of_their_own_and_close_them() -> None:
    ids: list[Any] = []

    def connection_id() -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        ids.append(id(connection.connection))
        return connections[DEFAULT_DB_ALIAS]  # this thread's own wrapper

    with Lanes(2) as lanes:
        mine = lanes.submit(0, connection_id).result()
        theirs = lanes.submit(1, connection_id)
    assert theirs.result() is not mine
    assert len(set(ids)) == 2
    if connection.vendor == "postgresql":
        # Closed by its own thread. (Django never closes SQLite's in-memory test
        # database: closing would drop it.)
        assert theirs.result().connection is None
