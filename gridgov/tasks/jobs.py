"""Background jobs, run by the Huey worker (``gridgov worker``).

Periodic:

- ``generate_daily``: the routine tasks of today and tomorrow, once a day at
  ``GRIDGOV_GENERATION_TIME`` local time (default ``"00:30"``);
- ``sweep``: the SLA sweep, every minute;
- ``outbox_deliver``: the notification outbox, every minute.

On demand: ``outbox_deliver_soon``, enqueued by ``notification_queue`` once the
transaction that queued notifications has committed, so a message goes out within
seconds instead of at the next minute.

Jobs are thin: each calls one service. They are safe to overlap and to run on several
consumers at once (every service claims its rows with a compare-and-set), but only one
consumer per queue should run the periodic scheduler (``gridgov worker --no-periodic`` on
the others) to avoid doing the minute's work twice for nothing. See docs/tasks.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import close_old_connections, connection
from huey.api import Huey, Result, TaskWrapper

logger = logging.getLogger(__name__)

#: Delivery keeps going while messages are due, for at most this long per run.
OUTBOX_TIME_BUDGET = 50.0
OUTBOX_BATCH = 200


def _fresh_connections(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Close stale database connections around a job, as a request would (the worker is
    long-lived); never inside a transaction (immediate mode, tests)."""

    @wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        if not connection.in_atomic_block:
            close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            if not connection.in_atomic_block:
                close_old_connections()

    return inner


# --- The jobs (plain functions; registered on a Huey below) -------------------------------


def generate_daily(today: dt.date | None = None) -> dict[str, Any]:
    """Generate today's and tomorrow's routine tasks (``generation_run_daily``)."""
    from gridgov.tasks.generation import generation_run_daily

    summary = generation_run_daily(today=today)
    result = summary.as_dict()
    logger.info("daily generation: %s created, %s skipped", summary.created, summary.skipped)
    return result


def sweep() -> dict[str, Any]:
    """Run the SLA sweep once (``sweep_run``)."""
    from gridgov.tasks.sweep import sweep_run

    return sweep_run().as_dict()


def outbox_deliver() -> dict[str, int]:
    """Deliver due outbox messages in batches while any are due (≤ ``OUTBOX_TIME_BUDGET`` s)."""
    from gridgov.notifications.services import outbox_deliver as deliver

    started = time.monotonic()
    totals: dict[str, int] = {}
    while True:
        counts = deliver(limit=OUTBOX_BATCH)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        busy = counts["claimed"] + counts["lost"] >= OUTBOX_BATCH
        if not busy or time.monotonic() - started > OUTBOX_TIME_BUDGET:
            return totals


def outbox_deliver_quietly() -> None:
    """``outbox_deliver`` for the on-commit nudge: returns nothing, so Huey stores no
    result for it (nobody reads one; stored results would pile up)."""
    outbox_deliver()


# --- Schedules ----------------------------------------------------------------------------


def every_minute(timestamp: dt.datetime) -> bool:
    """Huey schedule: due at every minute."""
    return True


def daily_at(hhmm: str, *, utc: bool = True) -> Callable[[dt.datetime], bool]:
    """Return a Huey schedule due once a day at ``hhmm`` in ``settings.TIME_ZONE``.

    Huey hands schedules a naive timestamp in UTC (``utc=True``, our setting) or in the
    machine's local time; Huey's own ``crontab`` would read it as UTC, so 00:30 in
    Shanghai would run at 08:30. Raises ``ValueError`` for a time not like ``"00:30"``.
    """
    hour, minute = (int(part) for part in hhmm.split(":"))
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"not a time of day: {hhmm!r}")

    def validate(timestamp: dt.datetime) -> bool:
        aware = timestamp.replace(tzinfo=dt.UTC) if utc else timestamp.astimezone()
        local = aware.astimezone(ZoneInfo(settings.TIME_ZONE))
        return (local.hour, local.minute) == (hour, minute)

    return validate


def jobs_register(huey: Huey) -> dict[str, TaskWrapper]:
    """Register gridgov's jobs on ``huey``; return them by short name.

    The module registers them on the project's Huey (``settings.HUEY``) when imported;
    tests register them on a Huey of their own (SQLite file, Redis database).
    """
    at = getattr(settings, "GRIDGOV_GENERATION_TIME", "00:30")
    return {
        "generate_daily": huey.periodic_task(
            daily_at(at, utc=huey.utc), name="generate_daily", retries=2, retry_delay=600
        )(_fresh_connections(generate_daily)),
        "sweep": huey.periodic_task(every_minute, name="sweep")(_fresh_connections(sweep)),
        "outbox_deliver": huey.periodic_task(every_minute, name="outbox_deliver")(
            _fresh_connections(outbox_deliver)
        ),
        "outbox_deliver_soon": huey.task(name="outbox_deliver_soon")(
            _fresh_connections(outbox_deliver_quietly)
        ),
    }


def _project_huey() -> Huey:
    from huey.contrib.djhuey import HUEY

    return HUEY


JOBS = jobs_register(_project_huey())


def outbox_deliver_soon() -> Result | None:
    """Enqueue one outbox delivery run now (the on-commit nudge)."""
    return JOBS["outbox_deliver_soon"]()
