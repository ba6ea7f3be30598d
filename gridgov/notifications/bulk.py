"""Fast multi-row INSERTs of plain tuples, for the sweep's and the outbox's bulk writes.

``QuerySet.bulk_create`` builds a model instance per row and prepares every value through
its field: about 80 µs a row, which is most of a catch-up sweep that writes 85,000 rows
(timeline, inbox, outbox, supervision). Here a row is a tuple and each column has one
cheap adapter chosen from its field's type, so the cost is the database's own. The SQL is
``INSERT … VALUES (…), (…)`` on SQLite and ``COPY … FROM STDIN`` on PostgreSQL, with
``ON CONFLICT DO NOTHING`` on request (PostgreSQL: through a temporary table).
Only our own table and column names are interpolated; every value is a parameter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

#: Rows per statement: SQLite takes one parameter per value (at most 32,766); PostgreSQL
#: streams them with COPY.
ROWS_PER_STATEMENT = 500
ROWS_PER_COPY = 5000


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """The conversion a column's values need, or ``None`` when they go in as they are.

    Consecutive rows often share one value (the sweep's ``now``, one payload for many
    recipients): each adapter remembers its last input and output.
    """
    if isinstance(field, models.DateTimeField):
        convert: Callable[[Any], Any] = connection.ops.adapt_datetimefield_value
    elif isinstance(field, models.JSONField):

        def convert(value: Any) -> Any:
            return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)

    else:
        return None
    last: list[Any] = [object(), None]

    def adapt(value: Any) -> Any:
        if value is None:
            return None
        if value is not last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]

    return adapt


def rows_insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``, field names or ``<fk>_id``)
    into ``model``'s table; return how many rows were given.

    No model instances, no signals, no defaults: give every NOT NULL column a value.
    ``ignore_conflicts`` skips rows that hit a unique constraint (``ON CONFLICT DO
    NOTHING``). Call it inside a transaction if the rows must land together.
    """
    fields: list[models.Field[Any, Any]] = []
    column_names: list[str] = []
    for name in columns:
        found = model._meta.get_field(name)
        if not isinstance(found, models.Field) or not found.column:
            raise ValueError(f"{model.__name__}.{name} is not a column")
        fields.append(found)
        column_names.append(found.column)
    adapters = [(i, a) for i, f in enumerate(fields) if (a := _adapter(f)) is not None]
    width = len(fields)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in column_names)
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if connection.vendor == "postgresql":
        # COPY: the rows stream in psycopg's binary C path, with no statement to build or
        # parse. COPY cannot skip conflicting rows, so those go through a temporary table
        # and one INSERT … SELECT … ON CONFLICT DO NOTHING.
        per_statement = ROWS_PER_COPY
        staging = quote(f"_bulk_{model._meta.db_table}")

        def flush(batch: list[list[Any]]) -> None:
            with connection.cursor() as cursor:
                raw = cursor.cursor  # psycopg's own cursor, under Django's wrapper
                target = table
                if ignore_conflicts:
                    raw.execute(
                        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "  # noqa: S608
                        f"SELECT {names} FROM {table} WITH NO DATA"
                    )
                    target = staging
                with raw.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
                if ignore_conflicts:
                    raw.execute(
                        f"INSERT INTO {table} ({names}) "  # noqa: S608
                        f"SELECT {names} FROM {staging} ON CONFLICT DO NOTHING"
                    )
                    raw.execute(f"TRUNCATE {staging}")

    else:
        head = f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608 - our own names only
        one = "(" + ", ".join(["%s"] * width) + ")"
        per_statement = ROWS_PER_STATEMENT

        def flush(batch: list[list[Any]]) -> None:
            with connection.cursor() as cursor:
                values = [value for row in batch for value in row]
                cursor.execute(head + ", ".join([one] * len(batch)) + tail, values)

    count = 0
    batch: list[Any] = []
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row of {len(row)} values for {width} columns: {row!r}")
        if adapters:
            row = list(row)
            for i, adapt in adapters:
                row[i] = adapt(row[i])
        batch.append(row)
        count += 1
        if len(batch) == per_statement:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    return count
