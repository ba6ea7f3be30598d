"""Lanes: independent batch transactions on several database connections at once.

Routine generation and the SLA sweep write in batches, one transaction each, and most of
a batch's time is the database's own (index entries, foreign-key checks at commit). One
connection keeps one server process busy; a second connection writing other batches at
the same time keeps a second one busy. ``Lanes(count)`` gives a job ``count`` lanes:

- lane 0 is the caller: its jobs run at once, in the calling thread, on its connection;
- lanes 1 … count − 1 are a thread each, with a connection of its own, running the jobs
  given to that lane one after another in the order given (a job may rely on the lane's
  earlier jobs having committed). A thread lane holds at most ``DEPTH`` unfinished jobs
  (the one running included); ``submit`` waits beyond that, so a fast producer does not
  pile batches up in memory.

Leaving the ``with`` block waits for every job, closes the lanes' connections and raises
the first error a job raised (later jobs of a failed lane are cancelled). Each job must
be a transaction of its own and must not depend on another lane's jobs: lanes commit in
any order. Thread lanes run with the caller's language and time zone.

``lanes_usable(requested)`` says how many lanes a job may use here: one when the caller
is inside a transaction (another connection could not see its uncommitted rows, and the
batches must be part of it) and on SQLite (one writer at a time: a second lane would only
wait for the first).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from django.db import connection
from django.utils import timezone, translation

__all__ = ["DEPTH", "Lanes", "lanes_usable"]

R = TypeVar("R")

#: Unfinished jobs (running or waiting) per thread lane before ``submit`` waits.
DEPTH = 2


def lanes_usable(requested: int) -> int:
    """Return how many lanes a bulk job may use: ``requested`` (at least 1), or 1 inside
    a transaction or on SQLite (see the module docstring). Raises nothing."""
    if requested <= 1 or connection.in_atomic_block or connection.vendor == "sqlite":
        return 1
    return requested


class Lanes:
    """``count`` lanes of database jobs; use as a context manager (module docstring).
    Raises ``ValueError`` for a ``count`` below 1."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError(f"lanes: count must be at least 1, not {count}")
        self.count = count
        self._language = translation.get_language()
        self._zone = timezone.get_current_timezone()
        self._threads = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"gridgov-lane-{lane}")
            for lane in range(1, count)
        ]
        self._waiting: list[deque[Future[Any]]] = [deque() for _lane in range(1, count)]
        self._used = [False] * (count - 1)

    def submit(self, lane: int, job: Callable[[], R]) -> Future[R]:
        """Run ``job()`` on lane ``lane % count``; return its future (already done on
        lane 0). Raises what lane 0's job raises, or an earlier error of the lane."""
        lane %= self.count
        if lane == 0:
            done: Future[R] = Future()
            done.set_result(job())
            return done
        waiting = self._waiting[lane - 1]
        while len(waiting) >= DEPTH:
            waiting.popleft().result()
        future = self._threads[lane - 1].submit(self._run, job)
        self._used[lane - 1] = True
        waiting.append(future)
        return future

    def _run(self, job: Callable[[], R]) -> R:
        with translation.override(self._language), timezone.override(self._zone):
            return job()

    def __enter__(self) -> Lanes:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        first: BaseException | None = None
        for thread, waiting, used in zip(self._threads, self._waiting, self._used, strict=True):
            if error is not None:
                for future in waiting:
                    future.cancel()
            for future in waiting:
                if not future.cancelled():
                    with contextlib.suppress(Exception):
                        future.result()
                    if first is None and future.exception() is not None:
                        first = future.exception()
            if used:
                # The lane's own thread closes the connection it opened (``connection``
                # is looked up in that thread: each thread has its own).
                thread.submit(lambda: connection.close()).result()
            thread.shutdown(wait=True)
        if error is None and first is not None:
            raise first
