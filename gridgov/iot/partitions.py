"""Monthly partitions of the reading table on PostgreSQL (``iot_reading`` is declared
``PARTITION BY RANGE (measured_at)`` by migration 0002; SQLite keeps a plain table).

Partitions are named ``iot_reading_yYYYYmMM`` and cover one calendar month in UTC; a
``iot_reading_default`` partition takes anything outside them so that an insert never
fails. ``partitions_ensure`` creates the coming months' partitions (run by the daily
retention job and by the migration); ``partitions_drop_before`` drops whole months past
the retention window — a metadata operation instead of a long DELETE.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection

TABLE = "iot_reading"
MONTHS_AHEAD = 3
_NAME = re.compile(r"^iot_reading_y(\d{4})m(\d{2})$")


def _month_start(at: dt.datetime | dt.date, shift: int = 0) -> dt.date:
    index = at.year * 12 + (at.month - 1) + shift
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    """The partition of the month starting ``month``."""
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def partitions_list() -> list[str]:
    """Names of the reading table's partitions (PostgreSQL; empty elsewhere)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY 1",
            [TABLE],
        )
        return [row[0] for row in cursor.fetchall()]


def partitions_ensure(now: dt.datetime | dt.date, *, months_back: int = 1) -> list[str]:
    """Create the monthly partitions from ``months_back`` months before ``now`` to
    ``MONTHS_AHEAD`` after it, where missing; return the names created."""
    if connection.vendor != "postgresql":
        return []
    existing = set(partitions_list())
    created = []
    with connection.cursor() as cursor:
        for shift in range(-months_back, MONTHS_AHEAD + 1):
            start = _month_start(now, shift)
            name = partition_name(start)
            if name in existing:
                continue
            end = _month_start(start, 1)
            cursor.execute(
                f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{TABLE}" '
                f"FOR VALUES FROM ('{start.isoformat()} 00:00+00') "
                f"TO ('{end.isoformat()} 00:00+00')"
            )
            created.append(name)
    return created


def partitions_drop_before(cutoff: dt.datetime) -> int:
    """Drop the monthly partitions that end on or before ``cutoff``; return how many."""
    if connection.vendor != "postgresql":
        return 0
    dropped = 0
    with connection.cursor() as cursor:
        for name in partitions_list():
            match = _NAME.match(name)
            if not match:
                continue
            start = dt.date(int(match[1]), int(match[2]), 1)
            end = _month_start(start, 1)
            if dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC) <= cutoff:
                cursor.execute(f'DROP TABLE "{name}"')
                dropped += 1
    return dropped
