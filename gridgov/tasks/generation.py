"""Routine generation: every active recurring rule × every target it selects × every
occurrence of its RRULE in a window → one ``routine`` task, dispatched.

Targets (``TaskRule.target_kind``):

- ``grid``: every grid (area level ``grid``) valid on the occurrence's date;
- ``household``: every household with at least one resident tagged ``target_tag``
  (``people.ResidentTagAssignment``); the task's area is the household's (a grid or a
  micro-grid) and its location the household's;
- ``place``: every place of kind ``target_place_kind``, in its area, at its location;
- ``none``: never expanded. The catalogue forbids a recurring rule without a target
  (check constraint ``catalog_taskrule_recurring_has_target``): such work comes from
  directives, one per grid, not from the routine.

A target whose area (or an ancestor of it) is not valid on the occurrence's date — a
retired grid, a micro-grid redrawn away — gets no task for that occurrence.

Idempotency: each task carries ``source_key = "routine:<rule id>:<target kind>:<target
id>:<occurrence, local time, YYYYmmddTHHMM>"``, unique in the database. A run first reads
the keys that already exist for each rule in the window and leaves them out, then writes
the rest in batches, each batch (its task numbers, its tasks and their CREATE and DISPATCH
timeline rows) in one transaction: a crash loses at most the batch in flight, and a rerun
writes exactly what is missing. Two runs racing on the same window cannot duplicate
either: the loser's batch hits the unique key, rolls back, and is retried without the keys
the winner wrote.

Speed: the deadline, the dispatch time, the task number's day and the constant columns
are computed once per (rule, occurrence), titles once per (rule, target), routing from one
``RoutingTable`` built per run (no queries after that), the calendar from one snapshot.
Rows are written as plain tuples, no model instances (binary ``COPY`` on PostgreSQL, one
``executemany`` on SQLite) and the timeline rows with one ``INSERT … SELECT`` per batch and
action, so the per-task Python work is a key, a route and a tuple. On PostgreSQL the batches
go through ``CONNECTIONS`` connections side by side (``lanes``), each dispatch day's always
through the same one, in order, so the numbers are those one connection would give. See
docs/tasks.md, "Routine generation", and ``bench/bench_generate.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gridgov.areas.models import CODE_LENGTH, Area, AreaLevel
from gridgov.catalog.choices import TargetKind
from gridgov.catalog.models import TaskRule
from gridgov.catalog.selectors import task_rule_list_active, task_rule_occurrences
from gridgov.core.calendar import WorkingCalendar, calendar_current
from gridgov.core.errors import ValidationFailed
from gridgov.people.masking import mask_address
from gridgov.people.models import Household, Place
from gridgov.tasks.choices import TaskAction, TaskSource, TaskState
from gridgov.tasks.lanes import Lanes, lanes_usable
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.routing import RoutingTable
from gridgov.tasks.selectors import task_yellow_at

__all__ = [
    "BATCH_SIZE",
    "CONNECTIONS",
    "DAILY_WINDOW_DAYS",
    "GenerationSummary",
    "RuleCount",
    "generation_run",
    "generation_run_daily",
    "routine_source_key",
]

#: Rows per transaction. Big enough that the per-statement cost vanishes, small enough
#: that a crash loses little and a batch's ``IN`` list stays far below SQLite's 32,766
#: bound variables.
BATCH_SIZE = 5000
#: Connections writing batches side by side on PostgreSQL (``lanes``): the tasks of a
#: dispatch day always go through the same one, in order, so that day's numbers come out
#: as they would from one connection. Most of a batch's time is the server's (index
#: entries, foreign-key checks at commit), so a second server process nearly halves the
#: run where the server has the cores. SQLite, and a run inside a transaction, use one.
CONNECTIONS = 2
#: The daily job's window: today and tomorrow (local dates). Tomorrow's occurrences are
#: generated a day ahead; today's are checked again (a no-op unless yesterday's run failed).
DAILY_WINDOW_DAYS = 2
#: SQLite page cache during a run, in KiB (a negative ``cache_size`` is KiB). The task
#: table's many indexes outgrow the 2 MiB default at once; a bigger cache saves about a
#: quarter of the run. Pages are taken as needed and the old size is restored after.
SQLITE_CACHE_KIB = 256 * 1024
#: ``Task.title``'s length.
_TITLE_MAX = Task._meta.get_field("title").max_length or 200

ProgressCallback = Callable[[int, int], None]


def routine_source_key(
    *, rule_id: int, target_kind: str, target_id: int, occurrence: dt.datetime
) -> str:
    """Return the idempotency key of the routine task of one (rule, target, occurrence).

    ``occurrence`` is written in local time (``settings.TIME_ZONE``) to the minute, e.g.
    ``routine:12:household:345:20250602T0830``.
    """
    stamp = timezone.localtime(occurrence).strftime("%Y%m%dT%H%M")
    return f"routine:{rule_id}:{target_kind}:{target_id}:{stamp}"


@dataclass
class RuleCount:
    """What a run did for one rule: tasks created, tasks already there (skipped), and
    (rule, target, occurrence) triples left out because the target's area was retired."""

    created: int = 0
    skipped: int = 0
    retired: int = 0


@dataclass
class GenerationSummary:
    """What a generation run did, in total and per rule code."""

    start: dt.datetime
    end: dt.datetime
    created: int = 0
    skipped: int = 0
    retired: int = 0
    batches: int = 0
    per_rule: dict[str, RuleCount] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: window as ISO datetimes, totals, ``rules`` by code."""
        return {
            "from": self.start.isoformat(),
            "until": self.end.isoformat(),
            "created": self.created,
            "skipped": self.skipped,
            "retired": self.retired,
            "batches": self.batches,
            "rules": {
                code: {"created": c.created, "skipped": c.skipped, "retired": c.retired}
                for code, c in sorted(self.per_rule.items())
            },
        }


# --- the window ---------------------------------------------------------------------------


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


def _as_datetime(value: dt.date | dt.datetime, name: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            raise ValidationFailed(
                _("%(name)s must be a timezone-aware datetime or a date.") % {"name": name}
            )
        return value
    return _local_midnight(value)


# --- the area snapshot ----------------------------------------------------------------------


class _Areas:
    """The areas tasks may go to (grids and micro-grids), with their effective validity:
    an area is valid on a day when it and every ancestor are (codes nest, so the
    ancestors are the code's prefixes)."""

    def __init__(self, scope: Area | None) -> None:
        rows = Area.objects.only("id", "code", "name", "level", "valid_from", "valid_to")
        by_code: dict[str, Area] = {a.code: a for a in rows}
        lengths = sorted(CODE_LENGTH.values())
        self.by_id: dict[int, Area] = {}
        #: area id → (latest valid_from, earliest valid_to) over the area and ancestors.
        self.bounds: dict[int, tuple[dt.date | None, dt.date | None]] = {}
        for code, area in by_code.items():
            if area.level not in (AreaLevel.GRID, AreaLevel.MICRO_GRID):
                continue
            if scope is not None and not code.startswith(scope.code):
                continue
            self.by_id[area.pk] = area
            start: dt.date | None = None
            end: dt.date | None = None
            for n in lengths:
                ancestor = by_code.get(code[:n]) if n <= len(code) else None
                if ancestor is None:
                    continue
                if ancestor.valid_from and (start is None or ancestor.valid_from > start):
                    start = ancestor.valid_from
                if ancestor.valid_to and (end is None or ancestor.valid_to < end):
                    end = ancestor.valid_to
            if start is not None or end is not None:
                self.bounds[area.pk] = (start, end)
        self._invalid: dict[dt.date, frozenset[int]] = {}

    def grids(self) -> list[Area]:
        return sorted(
            (a for a in self.by_id.values() if a.level == AreaLevel.GRID), key=lambda a: a.code
        )

    def invalid_on(self, day: dt.date) -> frozenset[int]:
        """Ids of the areas not valid on ``day`` (usually none: most areas are open)."""
        if (cached := self._invalid.get(day)) is not None:
            return cached
        result = frozenset(
            pk
            for pk, (start, end) in self.bounds.items()
            if (start is not None and day < start) or (end is not None and day >= end)
        )
        self._invalid[day] = result
        return result


# --- targets ----------------------------------------------------------------------------------

#: One target: (id, area id, label, lon, lat).
_Target = tuple[int, int, str, float | None, float | None]


class _Targets:
    """Each rule's targets, loaded once per selector (two rules on restaurants share them)."""

    def __init__(self, areas: _Areas, scope: Area | None) -> None:
        self._areas = areas
        self._scope = scope
        self._cache: dict[tuple[str, str], list[_Target]] = {}
        self._household_labels: dict[int, str] = {}

    def for_rule(self, rule: TaskRule) -> list[_Target]:
        selector = (rule.target_kind, rule.target_tag or rule.target_place_kind)
        if selector not in self._cache:
            self._cache[selector] = self._load(rule)
        return self._cache[selector]

    def _load(self, rule: TaskRule) -> list[_Target]:
        known = self._areas.by_id
        if rule.target_kind == TargetKind.GRID:
            return [(a.pk, a.pk, a.name, None, None) for a in self._areas.grids()]
        scope = {"area__code__startswith": self._scope.code} if self._scope else {}
        if rule.target_kind == TargetKind.HOUSEHOLD:
            households = (
                Household.objects.filter(residents__tag_assignments__tag=rule.target_tag, **scope)
                .values_list("id", "area_id", "address", "lon", "lat")
                .distinct()
                .order_by("id")
            )
            labels = self._household_labels
            targets = []
            for pk, area_id, address, lon, lat in households.iterator(chunk_size=10_000):
                if area_id not in known:
                    continue
                label = labels.get(pk)
                if label is None:
                    label = labels[pk] = mask_address(address) or f"#{pk}"
                targets.append((pk, area_id, label, lon, lat))
            return targets
        if rule.target_kind == TargetKind.PLACE:
            places = (
                Place.objects.filter(kind=rule.target_place_kind, **scope)
                .values_list("id", "area_id", "name", "lon", "lat")
                .order_by("id")
            )
            return [row for row in places.iterator(chunk_size=10_000) if row[1] in known]
        return []  # TargetKind.NONE: see the module docstring


# --- the raw insert ---------------------------------------------------------------------------

#: Columns that differ per task, in this order; the number is prepended at flush time.
_ROW_FIELDS = (
    "number",
    "source_key",
    "area",
    "target_household",
    "target_place",
    "lon",
    "lat",
    "title",
    "assignee",
    "department",
    "needs_attention",
)
#: Columns that differ per (rule, occurrence).
_OCCURRENCE_FIELDS = (
    "task_type",
    "rule",
    "occurrence",
    "priority",
    "deadline",
    "deadline_original",
    "dispatched_at",
    "yellow_at",
)


def _concrete(model: type[Any]) -> list[Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _q(field: Any) -> str:
    """A field's column name, quoted for the database."""
    return str(connection.ops.quote_name(str(field.column)))


class _Writer:
    """Writes batches of tasks and their timeline rows with plain SQL built from the
    models' fields (any field added later is written with its default)."""

    def __init__(self, *, now: dt.datetime) -> None:
        self.now = now
        qn = connection.ops.quote_name
        fields = {f.name: f for f in _concrete(Task)}
        per_run = {
            "source": TaskSource.ROUTINE,
            "state": TaskState.DISPATCHED,
            "created_at": now,
            "updated_at": now,
        }
        self._rest = [
            name for name in fields if name not in _ROW_FIELDS and name not in _OCCURRENCE_FIELDS
        ]
        self._defaults: dict[str, Any] = {}
        for name in self._rest:
            f = fields[name]
            value = per_run[name] if name in per_run else f.get_default()
            self._defaults[name] = f.get_db_prep_save(value, connection)
        self._fields = fields
        ordered = [*_ROW_FIELDS, *_OCCURRENCE_FIELDS, *self._rest]
        columns = ", ".join(_q(fields[name]) for name in ordered)
        marks = ", ".join(["%s"] * len(ordered))
        # Identifiers come from the models' meta, quoted; values are all parameters.
        self.task_sql = f"INSERT INTO {qn(Task._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        # Binary COPY: each value goes out in its wire form, with no text to format and
        # parse (a tenth of the client's time of text COPY for these rows).
        self.task_copy = f"COPY {qn(Task._meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        # The columns' types named once, so that COPY picks each value's dumper once
        # (binary COPY needs them: the server takes each value as exactly that type).
        self.copy_types = [
            (fields[name].db_type(connection) or "text").split("(")[0] for name in ordered
        ]
        self.event_sql = [self._event_sql(a) for a in (TaskAction.CREATE, TaskAction.DISPATCH)]
        self.vendor = connection.vendor

    def _event_sql(self, action: str) -> tuple[str, list[Any]]:
        """``INSERT INTO event … SELECT … FROM task JOIN area WHERE source_key IN (batch)``.

        The rows ``task_create`` writes for a task that starts dispatched: CREATE (at the
        run's time, at the task's location, data ``{source, source_key}``) and DISPATCH
        (at the dispatch time, data ``{area, assignee, department, needs_attention}``).
        """
        qn = connection.ops.quote_name
        postgresql = connection.vendor == "postgresql"
        task = {f.name: f"t.{_q(f)}" for f in _concrete(Task)}
        task["id"] = f"t.{_q(Task._meta.pk)}"
        if postgresql:
            json_object, true_false = "jsonb_build_object", task["needs_attention"]
        else:
            json_object = "json_object"
            true_false = (
                f"CASE WHEN {task['needs_attention']} THEN json('true') ELSE json('false') END"
            )
        if action == TaskAction.CREATE:
            expressions = {
                "at": task["created_at"],
                "lon": task["lon"],
                "lat": task["lat"],
                "data": f"{json_object}('source', %s, 'source_key', {task['source_key']})",
            }
            data_params: list[Any] = [TaskSource.ROUTINE.value]
        else:
            expressions = {
                "at": task["dispatched_at"],
                "data": (
                    f"{json_object}('area', a.{_q(Area._meta.get_field('code'))}, "
                    f"'assignee', {task['assignee']}, 'department', {task['department']}, "
                    f"'needs_attention', {true_false})"
                ),
            }
            data_params = []
        expressions["task"] = task["id"]
        values = {"action": action, "from_state": "", "to_state": TaskState.DISPATCHED}
        columns: list[str] = []
        selects: list[str] = []
        params: list[Any] = []
        for f in _concrete(TaskEvent):
            columns.append(_q(f))
            if f.name in expressions:
                selects.append(expressions[f.name])
                if f.name == "data":
                    params.extend(data_params)
            else:
                # A typed parameter: PostgreSQL cannot infer a bare one's type here.
                value = values[f.name] if f.name in values else f.get_default()
                selects.append(f"CAST(%s AS {f.cast_db_type(connection)})")
                params.append(f.get_db_prep_save(value, connection))
        if postgresql:
            keys = f"{task['source_key']} = ANY(%s)"
        else:
            # One JSON parameter instead of thousands of bound variables.
            keys = f"{task['source_key']} IN (SELECT value FROM json_each(%s))"  # noqa: S608
        # Identifiers come from the models' meta, quoted; values are all parameters.
        sql = (
            f"INSERT INTO {qn(TaskEvent._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(selects)} FROM {qn(Task._meta.db_table)} t "
            f"JOIN {qn(Area._meta.db_table)} a ON a.{_q(Area._meta.pk)} = {task['area']} "
            f"WHERE {keys}"
        )
        return sql, params

    def occurrence_values(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The per-(rule, occurrence) columns and the constant rest, ready for the DB."""
        prepared = tuple(
            self._fields[name].get_db_prep_save(values[name], connection)
            for name in _OCCURRENCE_FIELDS
        )
        return prepared + tuple(self._defaults[name] for name in self._rest)

    def write(self, rows: list[tuple[Any, ...]], keys: list[str]) -> None:
        """Insert ``rows`` (full task tuples) and their timeline rows. Call inside a
        transaction; raises ``IntegrityError`` if a key was written meanwhile."""
        postgresql = self.vendor == "postgresql"
        keys_param: Any = keys if postgresql else json.dumps(keys)
        with connection.cursor() as cursor:
            if postgresql:
                # A commit that a server crash may lose is harmless here: the batch is
                # all-or-nothing and a rerun writes it again. It saves a WAL flush a batch.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                # COPY is several times faster than INSERT for thousands of rows.
                with connection.wrap_database_errors, cursor.cursor.copy(self.task_copy) as copy:
                    copy.set_types(self.copy_types)
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.task_sql, rows)
            for sql, params in self.event_sql:
                cursor.execute(sql, [*params, keys_param])


# --- the run ----------------------------------------------------------------------------------


@dataclass
class _Pending:
    """A batch being filled: rows without their number, their keys, days and rules."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    days: list[dt.date] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


def _rules(codes: Sequence[str] | None) -> list[TaskRule]:
    rules = list(task_rule_list_active(recurring=True))
    if not codes:
        return rules
    wanted = list(dict.fromkeys(codes))
    by_code = {r.code: r for r in rules}
    missing = [c for c in wanted if c not in by_code]
    if missing:
        existing = set(TaskRule.objects.filter(code__in=missing).values_list("code", flat=True))
        unknown = [c for c in missing if c not in existing]
        idle = [c for c in missing if c in existing]
        parts = []
        if unknown:
            parts.append(_("No task rule has the code %(codes)s.") % {"codes": ", ".join(unknown)})
        if idle:
            parts.append(
                _(
                    "Not an active recurring rule (inactive, event-driven or of a "
                    "negative-list type): %(codes)s."
                )
                % {"codes": ", ".join(idle)}
            )
        raise ValidationFailed(" ".join(parts), details={"rules": missing})
    return [by_code[c] for c in sorted(wanted)]


def generation_run(
    *,
    start: dt.date | dt.datetime,
    end: dt.date | dt.datetime,
    rule_codes: Sequence[str] | None = None,
    area: Area | None = None,
    batch_size: int = BATCH_SIZE,
    now: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
    connections: int = CONNECTIONS,
) -> GenerationSummary:
    """Generate the routine tasks of the window ``[start, end)``; return what was done.

    Inputs: ``start``/``end`` dates (local midnight, ``settings.TIME_ZONE``) or aware
    datetimes; ``rule_codes`` limits the run to these active recurring rules (default:
    all of them); ``area`` limits the targets to grids, households and places inside it;
    ``batch_size`` tasks per transaction; ``now`` the creation time (default
    ``timezone.now()``); ``progress(done, total)`` is called after every batch with the
    triples handled so far (created, skipped or retired) and the run's total (from the
    thread that wrote the batch); ``connections`` how many database connections write
    batches side by side (see ``CONNECTIONS`` and ``lanes.lanes_usable``: one on SQLite
    or inside a transaction). The result does not depend on it.

    Each task: source ``routine``, state ``dispatched``, the rule's task type and
    priority, the target's area and location, the title "rule name: target", the
    deadline of the rule's time limit counted from the occurrence on the working calendar,
    dispatched at the occurrence (or ``now`` if that is later), assignee or department
    from ``routing.RoutingTable``, a ``YYYYMMDD-NNNNNN`` number of its dispatch day, and
    CREATE and DISPATCH timeline rows. Idempotent (see the module docstring).

    Raises ``ValidationFailed`` for an empty or reversed window, a naive datetime, a
    batch size below 1, or a rule code that is not an active recurring rule.
    """
    from gridgov.tasks.services import task_numbers_allocate

    start_dt, end_dt = _as_datetime(start, "start"), _as_datetime(end, "end")
    if end_dt <= start_dt:
        raise ValidationFailed(
            _("The window is empty: until (%(end)s) must be after from (%(start)s).")
            % {"end": end_dt.isoformat(), "start": start_dt.isoformat()},
            details={"from": start_dt.isoformat(), "until": end_dt.isoformat()},
        )
    if batch_size < 1:
        raise ValidationFailed(
            _("The batch size must be at least 1, not %(size)s.") % {"size": batch_size}
        )
    now = now or timezone.now()
    summary = GenerationSummary(start=start_dt, end=end_dt)
    rules = _rules(rule_codes)
    if not rules:
        return summary

    areas = _Areas(area)
    targets = _Targets(areas, area)
    calendar = calendar_current()
    plan = []
    for rule in rules:
        occurrences = task_rule_occurrences(rule=rule, start=start_dt, end=end_dt)
        plan.append((rule, occurrences, targets.for_rule(rule) if occurrences else []))
    total = sum(len(occurrences) * len(found) for _rule, occurrences, found in plan)
    for rule, _o, _t in plan:
        summary.per_rule[rule.code] = RuleCount()
    routing = RoutingTable.build(areas=areas.by_id.values())
    writer = _Writer(now=now)
    if progress:
        progress(0, total)

    # Lanes write batches (in their own threads) while this thread expands the next. The
    # expansion counts skipped and retired triples in ``summary``; the lanes count what
    # their batches did in ``written``, under the lock.
    lanes = Lanes(lanes_usable(connections))
    written: dict[str, RuleCount] = defaultdict(RuleCount)
    bookkeeping = threading.Lock()

    def handled() -> int:
        expanded = sum(c.skipped + c.retired for c in summary.per_rule.values())
        return expanded + sum(c.created + c.skipped for c in written.values())

    def write(pending: _Pending) -> None:
        created = _flush(pending, writer, task_numbers_allocate)
        wanted: dict[str, int] = defaultdict(int)
        for code in pending.rules:
            wanted[code] += 1
        with bookkeeping:
            for code, n in wanted.items():
                written[code].created += created.get(code, 0)
                # Written by a concurrent run between our read of the keys and this batch.
                written[code].skipped += n - created.get(code, 0)
            summary.batches += 1
            if progress:
                progress(handled(), total)

    def flush(lane: int) -> None:
        batch, pending[lane] = pending[lane], _Pending()
        lanes.submit(lane, lambda: write(batch))

    # One batch being filled per lane; a dispatch day's tasks always go to the same lane.
    pending = [_Pending() for _lane in range(lanes.count)]
    with _bulk_session(), lanes:
        for rule, occurrences, found in plan:
            for key, day, row in _expand(
                rule=rule,
                occurrences=occurrences,
                targets=found,
                areas=areas,
                routing=routing,
                calendar=calendar,
                writer=writer,
                now=now,
                start=start_dt,
                end=end_dt,
                counts=summary.per_rule[rule.code],
            ):
                lane = day.toordinal() % lanes.count
                batch = pending[lane]
                batch.rows.append(row)
                batch.keys.append(key)
                batch.days.append(day)
                batch.rules.append(rule.code)
                if len(batch) >= batch_size:
                    flush(lane)
        for lane, batch in enumerate(pending):
            if batch:
                flush(lane)
    if progress:
        progress(handled(), total)
    for code, counts in written.items():
        summary.per_rule[code].created += counts.created
        summary.per_rule[code].skipped += counts.skipped
    for counts in summary.per_rule.values():
        summary.created += counts.created
        summary.skipped += counts.skipped
        summary.retired += counts.retired
    return summary


@contextlib.contextmanager
def _bulk_session() -> Iterator[None]:
    """On SQLite, a bigger page cache for the run (``SQLITE_CACHE_KIB``), then the old one."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-int(SQLITE_CACHE_KIB)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _expand(
    *,
    rule: TaskRule,
    occurrences: list[dt.datetime],
    targets: list[_Target],
    areas: _Areas,
    routing: RoutingTable,
    calendar: WorkingCalendar,
    writer: _Writer,
    now: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
    counts: RuleCount,
) -> Iterator[tuple[str, dt.date, tuple[Any, ...]]]:
    """Yield ``(source key, number day, row without number)`` for each missing task."""
    if not occurrences or not targets:
        return
    existing = set(
        Task.objects.filter(rule_id=rule.pk, occurrence__gte=start, occurrence__lt=end)
        .exclude(source_key=None)
        .values_list("source_key", flat=True)
        .iterator(chunk_size=20_000)
    )
    task_type = rule.task_type
    kind = rule.target_kind
    prefix = f"routine:{rule.pk}:{kind}:"
    household = kind == TargetKind.HOUSEHOLD
    place = kind == TargetKind.PLACE
    with translation.override(settings.LANGUAGE_CODE):
        name = rule.name
    titles = [f"{name}：{label}"[:_TITLE_MAX] for _pk, _a, label, _lon, _lat in targets]
    by_id = areas.by_id
    route = routing.route
    for occurrence in occurrences:
        local = timezone.localtime(occurrence)
        stamp = local.strftime("%Y%m%dT%H%M")
        deadline = calendar.deadline(local, rule.time_limit_value, rule.time_limit_unit)
        dispatched_at = max(occurrence, now)
        day = timezone.localtime(dispatched_at).date()
        constant = writer.occurrence_values(
            {
                "task_type": task_type.pk,
                "rule": rule.pk,
                "occurrence": occurrence,
                "priority": rule.priority,
                "deadline": deadline,
                "deadline_original": deadline,
                "dispatched_at": dispatched_at,
                "yellow_at": task_yellow_at(
                    start=dispatched_at,
                    deadline=deadline,
                    unit=rule.time_limit_unit,
                    calendar=calendar,
                ),
            }
        )
        invalid = areas.invalid_on(local.date())
        for (pk, area_id, _label, lon, lat), title in zip(targets, titles, strict=True):
            key = f"{prefix}{pk}:{stamp}"
            if key in existing:
                counts.skipped += 1
                continue
            if invalid and area_id in invalid:
                counts.retired += 1
                continue
            r = route(task_type, by_id[area_id])
            yield (
                key,
                day,
                (
                    key,
                    area_id,
                    pk if household else None,
                    pk if place else None,
                    lon,
                    lat,
                    title,
                    r.assignee_id,
                    r.department_id,
                    r.needs_attention,
                    *constant,
                ),
            )


def _flush(
    pending: _Pending,
    writer: _Writer,
    allocate: Callable[..., list[str]],
) -> dict[str, int]:
    """Write one batch in one transaction; return tasks created per rule code.

    On a unique-key clash (another run wrote some of these keys since we read them) the
    batch rolls back and is written again without the keys that now exist.
    """
    rows, keys, days, rules = pending.rows, pending.keys, pending.days, pending.rules
    for _attempt in range(2):
        try:
            with transaction.atomic():
                numbers = _numbers(days, allocate)
                full = [(number, *row) for number, row in zip(numbers, rows, strict=True)]
                writer.write(full, keys)
        except IntegrityError:
            existing = set(
                Task.objects.filter(source_key__in=keys).values_list("source_key", flat=True)
            )
            if not existing:
                raise
            keep = [i for i, key in enumerate(keys) if key not in existing]
            rows = [rows[i] for i in keep]
            keys = [keys[i] for i in keep]
            days = [days[i] for i in keep]
            rules = [rules[i] for i in keep]
            if not rows:
                break
            continue
        created: dict[str, int] = defaultdict(int)
        for code in rules:
            created[code] += 1
        return created
    return {}


def _numbers(days: list[dt.date], allocate: Callable[..., list[str]]) -> list[str]:
    """Task numbers for rows dispatched on ``days``: one block per distinct day."""
    wanted: dict[dt.date, int] = defaultdict(int)
    for day in days:
        wanted[day] += 1
    # Days in order, so that two runs locking several days' counters cannot deadlock.
    blocks = {day: iter(allocate(day=day, count=wanted[day])) for day in sorted(wanted)}
    return [next(blocks[day]) for day in days]


def generation_run_daily(
    *, today: dt.date | None = None, now: dt.datetime | None = None
) -> GenerationSummary:
    """Generate the routine tasks of today and tomorrow (the daily job).

    Window: ``[today 00:00, today + DAILY_WINDOW_DAYS 00:00)`` local time, ``today``
    defaulting to the local date of ``now``. Run once a day (the worker schedules it
    early in the morning); tomorrow's occurrences are then ready a day ahead and today's
    are checked again, so one failed run costs nothing. Idempotent: a second run the
    same day creates nothing.
    """
    now = now or timezone.now()
    today = today or timezone.localtime(now).date()
    return generation_run(start=today, end=today + dt.timedelta(days=DAILY_WINDOW_DAYS), now=now)
