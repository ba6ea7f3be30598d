"""Importing historical cases: one CSV row → one task of source ``import``, in its final state.

``cases_import(path=…, mapping=…)`` reads a CSV file with a ``CaseMapping`` (see
``mapping.py`` and docs/imports.md) and writes, for each good row, a task with the row's
own times, its state from the row's status, its area from ``area_locate`` (or the fallback
column), and a timeline that says what the row says (CREATE at the created time, then
REGISTER, VERIFY_PASS, CANCEL or REJECT at the closed time; actor ``None`` = the system).

Unlike ``tasks.services.task_create`` nothing is routed to today's workers and nobody is
notified: this is history. The deadline is the row's own (or none).

Batches: ``batch_size`` rows per transaction (numbers, tasks, timeline). A crash leaves
whole batches only; ``source_key = "import:<system>:<number>"`` is unique, so a rerun skips
what is there (``skipped_existing``) and writes the rest. Bad rows are not written and are
reported one by one with a reason code (``Reason``); good rows are imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gridgov.areas.models import Area
from gridgov.areas.selectors import area_locate_many_ids
from gridgov.catalog.choices import Priority
from gridgov.catalog.models import TaskRule, TaskType
from gridgov.core.calendar import WorkingCalendar, calendar_current
from gridgov.core.errors import ValidationFailed
from gridgov.core.validators import (
    YEAR_MAX,
    YEAR_MIN,
    character_name,
    text_forbidden_character,
    year_in_range,
)
from gridgov.imports.mapping import ISO, CaseMapping, TimeColumn
from gridgov.tasks.choices import TaskAction, TaskSource, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.selectors import task_yellow_at
from gridgov.tasks.services import task_numbers_allocate

__all__ = [
    "BATCH_SIZE",
    "ImportSummary",
    "Reason",
    "RejectedRow",
    "case_source_key",
    "cases_import",
]

#: Rows per transaction: a crash loses at most one batch in flight, and the ``IN`` lists
#: stay far below SQLite's 32,766 bound variables.
BATCH_SIZE = 2000
_TITLE_MAX = Task._meta.get_field("title").max_length or 200
_KEY_MAX = Task._meta.get_field("source_key").max_length or 200

S = TaskState
#: The timeline action that puts a case in each final state (at the closed time).
_FINISH: dict[str, str] = {
    S.CLOSED: TaskAction.VERIFY_PASS.value,
    S.CANCELLED: TaskAction.CANCEL.value,
    S.REJECTED: TaskAction.REJECT.value,
}

ProgressCallback = Callable[[int, int], None]


class Reason(models.TextChoices):
    """Why a row was not imported (the ``reason`` column of the error CSV)."""

    MISSING_NUMBER = "missing_number", gettext_lazy("The number is empty")
    NUMBER_TOO_LONG = "number_too_long", gettext_lazy("The number is too long")
    DUPLICATE_NUMBER = "duplicate_number", gettext_lazy("The number is used by an earlier row")
    BAD_DATE = (
        "bad_date",
        gettext_lazy(
            "A time is missing, cannot be read, is outside the accepted years or in the future"
        ),
    )
    MISSING_CLOSED_TIME = "missing_closed_time", gettext_lazy("A finished case has no closed time")
    CLOSED_BEFORE_CREATED = "closed_before_created", gettext_lazy("Closed before it was created")
    UNKNOWN_TYPE = "unknown_type", gettext_lazy("The type is not in the mapping")
    UNKNOWN_STATUS = "unknown_status", gettext_lazy("The status is not in the mapping")
    BAD_LOCATION = "bad_location", gettext_lazy("The coordinates cannot be read")
    NO_LOCATION = "no_location", gettext_lazy("No coordinates and no area code")
    OUTSIDE_AREAS = "outside_areas", gettext_lazy("The location lies in no area")
    UNKNOWN_AREA = "unknown_area", gettext_lazy("The area code names no area")
    ROW_WIDTH = "row_width", gettext_lazy("The row's cells do not match the header")
    CONTROL_CHARACTER = "control_character", gettext_lazy("A cell holds a control character")


def case_source_key(*, system: str, number: str) -> str:
    """The idempotency key of an imported case: ``import:<system>:<number>``."""
    return f"import:{system}:{number}"


@dataclass(frozen=True)
class RejectedRow:
    """One row not imported: its ``line`` in the file (the header is line 1), the source
    ``number``, a ``Reason`` code, a message for people and the row's original values."""

    line: int
    number: str
    reason: str
    message: str
    values: list[str]


@dataclass
class ImportSummary:
    """What an import did. ``total`` = ``imported`` + ``rejected`` + ``skipped_existing``;
    in a dry run ``imported`` counts the rows that would be imported."""

    dry_run: bool = False
    total: int = 0
    imported: int = 0
    skipped_existing: int = 0
    batches: int = 0
    by_state: Counter[str] = field(default_factory=Counter)
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    header: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts, ``rejected_by_reason`` and ``by_state`` (sorted keys)."""
        return {
            "dry_run": self.dry_run,
            "total": self.total,
            "imported": self.imported,
            "rejected": self.rejected,
            "rejected_by_reason": {str(k): n for k, n in sorted(self.rejected_by_reason.items())},
            "skipped_existing": self.skipped_existing,
            "by_state": dict(sorted(self.by_state.items())),
            "batches": self.batches,
        }


# --- reading -----------------------------------------------------------------------------


class _Catalogue:
    """The type map resolved once: source value → (task type id, rule or ``None``)."""

    def __init__(self, mapping: CaseMapping) -> None:
        codes = mapping.codes()
        type_codes = {c for c in codes if len(c) == 4}
        rule_codes = codes - type_codes
        types = {t.code: t for t in TaskType.objects.filter(code__in=type_codes)}
        rules = {r.code: r for r in TaskRule.objects.filter(code__in=rule_codes)}
        unknown = sorted((type_codes - types.keys()) | (rule_codes - rules.keys()))
        if unknown:
            raise ValidationFailed(
                _("The type map names codes the catalogue does not have: %(codes)s.")
                % {"codes": ", ".join(unknown)},
                details={"codes": unknown},
            )
        # Each type's active event-driven rule with the lowest code, as task_create picks.
        first_rule: dict[int, TaskRule] = {}
        event_rules = TaskRule.objects.filter(
            task_type__in=types.values(), active=True, recurrence=""
        ).order_by("code")
        for rule in event_rules:
            first_rule.setdefault(rule.task_type_id, rule)
        resolved: dict[str, tuple[int, TaskRule | None]] = {
            code: (t.pk, first_rule.get(t.pk)) for code, t in types.items()
        }
        resolved.update({code: (r.task_type_id, r) for code, r in rules.items()})
        self.by_value = {value: resolved[code] for value, code in mapping.type.map.items()}
        self.default = resolved[mapping.type.default] if mapping.type.default else None

    def get(self, value: str) -> tuple[int, TaskRule | None] | None:
        return self.by_value.get(value, self.default)


class _AreaCodes:
    """The fallback column's values → areas (by code or by ``ref``), with validity."""

    def __init__(self, mapping: CaseMapping) -> None:
        fallback = mapping.area
        if fallback is None:
            raise ValueError("the mapping has no area fallback")
        rows = Area.objects.order_by("code").values_list(
            "pk", "code", "ref", "valid_from", "valid_to"
        )
        if fallback.under:
            rows = rows.filter(code__startswith=fallback.under)
        self.by_value: dict[str, list[tuple[int, dt.date | None, dt.date | None]]] = defaultdict(
            list
        )
        self.match = fallback.match
        by_ref = fallback.match == "ref"
        for pk, code, ref, valid_from, valid_to in rows:
            key = ref if by_ref else code
            if key:
                self.by_value[key].append((pk, valid_from, valid_to))

    def get(self, value: str, on: dt.date) -> int | None:
        """The area valid on ``on`` with this code or ref (lowest code first), or ``None``."""
        for pk, valid_from, valid_to in self.by_value.get(value, ()):
            if (valid_from is None or valid_from <= on) and (valid_to is None or valid_to > on):
                return pk
        return None


@dataclass(slots=True)
class _Case:
    """A row that parsed: everything the task needs but its area and number."""

    line: int
    values: list[str]
    number: str
    key: str
    created: dt.datetime
    closed: dt.datetime | None  # set for every finished state
    closed_in_source: dt.datetime | None
    deadline: dt.datetime | None
    type_id: int
    rule: TaskRule | None
    state: str
    status: str
    lon: float
    lat: float
    fallback: str
    title: str
    description: str
    area_id: int = 0


class _Reject(Exception):
    def __init__(self, reason: Reason, message: str) -> None:
        self.reason = reason
        self.message = message


class _Parser:
    """Turns one CSV row (a list of strings) into a ``_Case`` or raises ``_Reject``."""

    def __init__(
        self,
        mapping: CaseMapping,
        header: list[str],
        calendar: WorkingCalendar,
        now: dt.datetime,
    ) -> None:
        self.mapping = mapping
        self.calendar = calendar
        self.now = now
        self.header = header
        self.at = {name: i for i, name in reversed(list(enumerate(header)))}
        self.width = len(header)
        # A row may leave out trailing empty cells, but not a cell the mapping reads.
        self.needed = 1 + max(self.at[name] for name in mapping.columns())
        self.catalogue = _Catalogue(mapping)
        self.times = {
            name: (column, mapping.zone(column))
            for name in ("created", "closed", "deadline")
            if (column := getattr(mapping, name)) is not None
        }
        self.seen: set[str] = set()

    def number_of(self, values: list[str]) -> str:
        """The row's number as written (blank when the row is too short)."""
        at = self.at[self.mapping.number]
        return values[at].strip() if at < len(values) else ""

    def _time(self, row: dict[str, str], name: str) -> dt.datetime | None:
        """The cell's time, aware; ``None`` when empty. Rejects (``bad_date``) a value
        that does not match the format, a year outside ``YEAR_MIN…YEAR_MAX`` (year 1 or
        9999 would overflow when moved to another zone), and a created or closed time
        after ``now`` (history has not happened yet; a deadline may lie ahead)."""
        if name not in self.times:
            return None
        column, zone = self.times[name]
        text = row[column.column].strip()
        if not text:
            return None
        try:
            value = _parse_time(text, column)
        except ValueError:
            raise _Reject(
                Reason.BAD_DATE,
                _("%(column)s %(value)r does not match the format %(format)s")
                % {"column": column.column, "value": text, "format": column.format},
            ) from None
        if not year_in_range(value):
            raise _Reject(
                Reason.BAD_DATE,
                _("%(column)s %(value)r is not between the years %(min)d and %(max)d")
                % {"column": column.column, "value": text, "min": YEAR_MIN, "max": YEAR_MAX},
            )
        value = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        if name != "deadline" and value > self.now:
            raise _Reject(
                Reason.BAD_DATE,
                _("%(column)s %(value)r is in the future (after %(now)s)")
                % {
                    "column": column.column,
                    "value": text,
                    "now": timezone.localtime(self.now).isoformat(timespec="minutes"),
                },
            )
        return value

    def _control_characters(self, values: list[str]) -> None:
        """Reject a row with a character of ``FORBIDDEN_CHARACTERS_RE`` in any cell: it
        would reach titles, keys and the timeline (PostgreSQL refuses NUL; exports and
        Open311's XML cannot hold the others)."""
        for index, value in enumerate(values):
            character = text_forbidden_character(value)
            if character is not None:
                raise _Reject(
                    Reason.CONTROL_CHARACTER,
                    _("%(column)s holds the control character %(character)s")
                    % {"column": self.header[index], "character": character_name(character)},
                )

    def parse(self, line: int, values: list[str]) -> _Case:
        m = self.mapping
        if len(values) > self.width or len(values) < self.needed:
            raise _Reject(
                Reason.ROW_WIDTH,
                _("the row has %(cells)d cells, the header %(header)d (a stray comma or quote?)")
                % {"cells": len(values), "header": self.width},
            )
        self._control_characters(values)
        if len(values) < self.width:
            values = values + [""] * (self.width - len(values))
        row = {name: values[i] for name, i in self.at.items()}
        number = row[m.number].strip()
        if not number:
            raise _Reject(Reason.MISSING_NUMBER, _("%(column)s is empty") % {"column": m.number})
        key = case_source_key(system=m.system, number=number)
        if len(key) > _KEY_MAX:
            raise _Reject(
                Reason.NUMBER_TOO_LONG,
                _("%(number)r is longer than %(max)d characters")
                % {"number": number, "max": _KEY_MAX - len(key) + len(number)},
            )
        if key in self.seen:
            raise _Reject(
                Reason.DUPLICATE_NUMBER,
                _("%(number)s was already on an earlier row") % {"number": number},
            )
        self.seen.add(key)
        type_value = row[m.type.column].strip()
        resolved = self.catalogue.get(type_value)
        if resolved is None:
            raise _Reject(
                Reason.UNKNOWN_TYPE,
                _("type %(value)r is not in the mapping's type map and there is no default")
                % {"value": type_value},
            )
        status = row[m.status.column].strip()
        state = m.status.map.get(status, m.status.default)
        if state is None:
            raise _Reject(
                Reason.UNKNOWN_STATUS,
                _("status %(value)r is not in the mapping's status map and there is no default")
                % {"value": status},
            )
        created = self._time(row, "created")
        if created is None:
            raise _Reject(Reason.BAD_DATE, _("%(column)s is empty") % {"column": m.created.column})
        deadline = self._time(row, "deadline")
        rule = resolved[1]
        if deadline is None and m.deadline_from_rule and rule is not None:
            deadline = self.calendar.deadline(
                created, rule.time_limit_value, rule.time_limit_unit, warn=False
            )
        closed = self._time(row, "closed") if state in _FINISH else None
        closed_in_source = None
        if state in _FINISH:
            if closed is None:
                raise _Reject(
                    Reason.MISSING_CLOSED_TIME,
                    _("status %(status)r means %(state)s, but there is no closed time")
                    % {"status": status, "state": state},
                )
            if closed < created:
                if closed.astimezone(created.tzinfo).date() != created.date():
                    raise _Reject(
                        Reason.CLOSED_BEFORE_CREATED,
                        _("closed %(closed)s is before created %(created)s")
                        % {"closed": closed.isoformat(), "created": created.isoformat()},
                    )
                # The same day, earlier: a date-only closed time (e.g. 12:00:00 AM). The
                # case closed that day, not before it was created: take the created time.
                closed_in_source, closed = closed, created
        lon, lat = self._location(row)
        fallback = row[m.area.column].strip() if m.area is not None else ""
        if math.isnan(lon) and not fallback:
            raise _Reject(Reason.NO_LOCATION, _("no coordinates and no area code"))
        title = m.title.format_map(row).strip()[:_TITLE_MAX] or number
        return _Case(
            line=line,
            values=values,
            number=number,
            key=key,
            created=created,
            closed=closed,
            closed_in_source=closed_in_source,
            deadline=deadline,
            type_id=resolved[0],
            rule=rule,
            state=state,
            status=status,
            lon=lon,
            lat=lat,
            fallback=fallback,
            title=title,
            description=m.description.format_map(row).strip(),
        )

    def _location(self, row: dict[str, str]) -> tuple[float, float]:
        """(lon, lat), or (nan, nan) when the row has none. Empty, or exactly (0, 0) — what
        exports write for "unknown" — counts as none; anything else must be WGS84."""
        location = self.mapping.location
        if location is None:
            return math.nan, math.nan
        lon_text, lat_text = row[location.lon].strip(), row[location.lat].strip()
        if not lon_text and not lat_text:
            return math.nan, math.nan
        try:
            lon, lat = float(lon_text), float(lat_text)
        except ValueError:
            lon = lat = math.nan
        usable = math.isfinite(lon) and math.isfinite(lat)
        if not (usable and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise _Reject(
                Reason.BAD_LOCATION,
                _("(%(lon)r, %(lat)r) is not a WGS84 longitude, latitude pair")
                % {"lon": lon_text, "lat": lat_text},
            )
        if lon == 0 and lat == 0:
            return math.nan, math.nan
        return lon, lat


def _parse_time(text: str, column: TimeColumn) -> dt.datetime:
    if column.format == ISO:
        return dt.datetime.fromisoformat(text)
    return dt.datetime.strptime(text, column.format)  # noqa: DTZ007 - zone added by caller


def _open(path: Path, mapping: CaseMapping) -> Any:
    try:
        return Path(path).open(encoding=mapping.encoding, newline="")
    except (OSError, LookupError) as exc:
        raise ValidationFailed(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from None


def _scan(path: Path, mapping: CaseMapping) -> tuple[list[str], int]:
    """Read the whole file once before writing anything: the header (checked against the
    mapping) and the number of data rows. A file that cannot be decoded or parsed as CSV
    fails here, with nothing written."""
    try:
        with _open(path, mapping) as f:
            reader = csv.reader(f, delimiter=mapping.delimiter)
            header = [name.strip() for name in next(reader, [])]
            rows = sum(1 for values in reader if not _blank(values))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValidationFailed(
            _("%(path)s cannot be read as %(encoding)s CSV: %(error)s")
            % {"path": path, "encoding": mapping.encoding, "error": exc}
        ) from None
    if not header:
        raise ValidationFailed(_("%(path)s is empty.") % {"path": path})
    missing = sorted(mapping.columns() - set(header))
    if missing:
        raise ValidationFailed(
            _(
                "The mapping names columns that %(path)s does not have: %(missing)s. "
                "Its columns: %(columns)s."
            )
            % {"path": path, "missing": ", ".join(missing), "columns": ", ".join(header)},
            details={"missing": missing},
        )
    return header, rows


def _blank(values: list[str]) -> bool:
    return not any(v.strip() for v in values)


def _batches(path: Path, mapping: CaseMapping, size: int) -> Iterator[list[tuple[int, list[str]]]]:
    """The data rows with their line numbers, ``size`` at a time."""
    with _open(path, mapping) as f:
        reader = csv.reader(f, delimiter=mapping.delimiter)
        next(reader, None)
        batch: list[tuple[int, list[str]]] = []
        for values in reader:
            if _blank(values):
                continue  # a blank line is not a case
            batch.append((reader.line_num, values))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch


# --- placing ------------------------------------------------------------------------------


def _place(cases: list[_Case], fallback: _AreaCodes | None) -> list[tuple[_Case, _Reject]]:
    """Set each case's ``area_id``: ``area_locate`` on its local created date, else the
    fallback column. Return the cases that found no area, with the reason."""
    by_day: dict[dt.date, list[_Case]] = defaultdict(list)
    for case in cases:
        if not math.isnan(case.lon):
            by_day[timezone.localdate(case.created)].append(case)
    for day, located in by_day.items():
        ids = area_locate_many_ids(
            np.fromiter((c.lon for c in located), dtype=np.float64, count=len(located)),
            np.fromiter((c.lat for c in located), dtype=np.float64, count=len(located)),
            on=day,
        )
        for case, area_id in zip(located, ids.tolist(), strict=True):
            case.area_id = area_id
    failed: list[tuple[_Case, _Reject]] = []
    for case in cases:
        if case.area_id:
            continue
        if case.fallback and fallback is not None:
            day = timezone.localdate(case.created)
            area_id = fallback.get(case.fallback, day)
            if area_id is not None:
                case.area_id = area_id
                continue
            failed.append(
                (
                    case,
                    _Reject(
                        Reason.UNKNOWN_AREA,
                        _("no area valid on %(day)s has the %(match)s %(value)r")
                        % {"day": day, "match": fallback.match, "value": case.fallback},
                    ),
                )
            )
        else:
            failed.append(
                (
                    case,
                    _Reject(
                        Reason.OUTSIDE_AREAS,
                        _(
                            "the location (%(lon)s, %(lat)s) lies in no area and there is "
                            "no area code"
                        )
                        % {"lon": case.lon, "lat": case.lat},
                    ),
                )
            )
    return failed


# --- writing ------------------------------------------------------------------------------

#: The task columns an imported case sets; every other column gets its default.
_TASK_COLUMNS = (
    "number", "source_key", "task_type", "rule", "area", "lon", "lat", "title",
    "description", "priority", "state", "reported_at", "registered_at", "closed_at",
    "cancelled_at", "deadline", "deadline_original", "yellow_at", "is_overdue", "overdue_at",
    "created_at",
)  # fmt: skip
_EVENT_COLUMNS = ("task", "action", "at", "from_state", "to_state", "lon", "lat", "data")


class _Insert:
    """Many rows of one model as plain tuples: one ``executemany`` of an ``INSERT`` a batch
    (SQLite), or one ``COPY`` (PostgreSQL).

    ``bulk_create`` compiles every value of every row through the ORM, which costs more
    than the rest of the import together; here the statement is built once from the
    model's fields, the constant columns (``constants``, else each field's default) are
    prepared once, and per row only the datetimes and JSON are adapted. ``created_at`` is
    written as given (``bulk_create`` would stamp auto_now_add's "now" on it).
    """

    def __init__(self, model: type[models.Model], names: tuple[str, ...], **constants: Any):
        fields = {f.name: f for f in model._meta.concrete_fields if not f.primary_key}
        rest = [f for name, f in fields.items() if name not in names]
        ordered = [fields[name] for name in names] + rest
        self.tail = tuple(
            f.get_db_prep_save(constants.get(f.name, f.get_default()), connection) for f in rest
        )
        self.adapt: list[Callable[[Any], Any] | None] = [
            self._adapter(fields[name]) for name in names
        ]
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column or f.name) for f in ordered)
        marks = ", ".join(["%s"] * len(ordered))
        # Identifiers come from the model's meta, quoted; values are all parameters.
        self.sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        self.copy = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN"

    @staticmethod
    def _adapter(f: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
        if isinstance(f, models.DateTimeField):
            if connection.vendor == "postgresql":
                return None  # psycopg sends aware datetimes as they are
            if connection.vendor == "sqlite":
                # What adapt_datetimefield_value does for an aware value (naive in the
                # connection's zone, as text), without its checks on every call.
                zone = connection.timezone
                return lambda v: None if v is None else str(v.astimezone(zone).replace(tzinfo=None))
            adapt = connection.ops.adapt_datetimefield_value
            return lambda v: None if v is None else adapt(v)
        if isinstance(f, models.JSONField):
            return lambda v: f.get_db_prep_save(v, connection)
        return None  # str, int, float, bool, ids: as they are

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        adapt, tail = self.adapt, self.tail
        prepared = [
            tuple(v if a is None else a(v) for a, v in zip(adapt, row, strict=True)) + tail
            for row in rows
        ]
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                cursor.executemany(self.sql, prepared)
                return
            # COPY is several times faster than INSERT for thousands of rows; errors are
            # wrapped so that a clashing key is Django's IntegrityError, as with INSERT.
            with connection.wrap_database_errors, cursor.cursor.copy(self.copy) as copy:
                for row in prepared:
                    copy.write_row(row)


class _Writer:
    """Writes batches of cases: numbers, tasks, then their timeline rows."""

    def __init__(self, *, system: str, calendar: WorkingCalendar, now: dt.datetime) -> None:
        self.system, self.calendar, self.now = system, calendar, now
        self.tasks = _Insert(Task, _TASK_COLUMNS, source=TaskSource.IMPORT, updated_at=now)
        self.events = _Insert(TaskEvent, _EVENT_COLUMNS)

    def write(self, cases: list[_Case]) -> None:
        """One batch in one transaction. Raises ``IntegrityError`` if a key exists."""
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # A commit that a server crash may lose is harmless here: the batch is
                # all or nothing and a rerun writes it again. It saves a WAL flush a batch.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            numbers = _numbers(cases)
            self.tasks.write(
                [
                    _task(case, number, self.calendar, self.now)
                    for case, number in zip(cases, numbers, strict=True)
                ]
            )
            ids = dict(
                Task.objects.filter(source_key__in=[c.key for c in cases]).values_list(
                    "source_key", "pk"
                )
            )
            self.events.write(
                [row for case in cases for row in _events(case, ids[case.key], self.system)]
            )


def _task(case: _Case, number: str, calendar: WorkingCalendar, now: dt.datetime) -> tuple[Any, ...]:
    """The values of ``_TASK_COLUMNS`` for one case."""
    yellow_at = overdue_at = None
    if case.deadline is not None:
        yellow_at = task_yellow_at(
            start=case.created,
            deadline=case.deadline,
            unit=case.rule.time_limit_unit if case.rule is not None else None,
            calendar=calendar,
        )
        if (case.closed or now) > case.deadline:
            overdue_at = case.deadline
    located = not math.isnan(case.lon)
    return (
        number,
        case.key,
        case.type_id,
        case.rule.pk if case.rule is not None else None,
        case.area_id,
        case.lon if located else None,
        case.lat if located else None,
        case.title,
        case.description,
        case.rule.priority if case.rule is not None else Priority.NORMAL,
        case.state,
        case.created,
        case.created if case.state == S.REGISTERED else None,
        case.closed if case.state == S.CLOSED else None,
        case.closed if case.state == S.CANCELLED else None,
        case.deadline,
        case.deadline,
        yellow_at,
        overdue_at is not None,
        overdue_at,
        case.created,
    )


def _events(case: _Case, task_id: int, system: str) -> list[tuple[Any, ...]]:
    """The values of ``_EVENT_COLUMNS``: CREATE at the created time, then the row's final
    step (REGISTER at the created time, or VERIFY_PASS, CANCEL, REJECT at the closed
    time), actor ``None`` (the system)."""
    located = not math.isnan(case.lon)
    create_data = {
        "source": TaskSource.IMPORT.value,
        "source_key": case.key,
        "system": system,
        "number": case.number,
        "status": case.status,
    }
    rows: list[tuple[Any, ...]] = [
        (
            task_id,
            TaskAction.CREATE.value,
            case.created,
            "",
            S.REPORTED.value,
            case.lon if located else None,
            case.lat if located else None,
            create_data,
        )
    ]
    if case.state == S.REGISTERED:
        rows.append(
            (
                task_id, TaskAction.REGISTER.value, case.created, S.REPORTED.value,
                S.REGISTERED.value, None, None, {"import": True},
            )
        )  # fmt: skip
    elif (finish := _FINISH.get(case.state)) is not None:
        data: dict[str, Any] = {"import": True, "status": case.status}
        if case.closed_in_source is not None:
            data["closed_in_source"] = case.closed_in_source.isoformat()
        rows.append(
            (
                task_id, finish, case.closed or case.created, S.REPORTED.value, case.state,
                None, None, data,
            )
        )  # fmt: skip
    return rows


def _numbers(cases: list[_Case]) -> list[str]:
    """Task numbers of the cases' created days (local dates), one block per day."""
    days = [timezone.localdate(c.created) for c in cases]
    wanted = Counter(days)
    # Days in order, so that two imports locking several days' counters cannot deadlock.
    blocks = {
        day: iter(task_numbers_allocate(day=day, count=wanted[day])) for day in sorted(wanted)
    }
    return [next(blocks[day]) for day in days]


def _existing(keys: list[str]) -> set[str]:
    return set(Task.objects.filter(source_key__in=keys).values_list("source_key", flat=True))


def cases_import(
    *,
    path: Path,
    mapping: CaseMapping,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    now: dt.datetime | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import the historical cases of a CSV file; return the ``ImportSummary``.

    Inputs: ``path`` to a CSV file (``mapping.encoding``, default UTF-8 with or without a
    BOM; ``mapping.delimiter``; a header row); ``mapping`` from ``mapping_load``;
    ``dry_run``: check and count everything, write nothing; ``batch_size`` rows per
    transaction; ``now`` (default the current time) decides whether an open case is past
    its deadline, and a created or closed time after it is rejected (``bad_date``, as is
    a time whose year is outside ``YEAR_MIN…YEAR_MAX``; a cell with a control character
    is ``control_character``; dry run and real run alike); ``progress(done, total)``
    after every batch, in data rows.

    Each good row becomes one task: source ``import``, ``source_key``
    ``import:<system>:<number>``, task type and rule from the type map, state from the
    status map (``reported``, ``registered``, ``closed``, ``cancelled`` or ``rejected``),
    ``reported_at`` = ``created_at`` = the created time, ``closed_at`` or ``cancelled_at`` =
    the closed time, the row's deadline (if the mapping has no deadline column or the cell
    is empty: none, or with ``deadline_from_rule`` the rule's time limit from the created
    time on the working calendar; ``is_overdue`` when the case finished — or is still open
    ``now`` — after it), the WGS84 location, and the area ``area_locate`` finds at it on the
    local created date, else the fallback column's area. Its number is of its created day
    (``task_numbers_allocate``). No assignee, no routing to today's staff, no notification.
    Timeline (actor ``None``): CREATE at the created time, then REGISTER (at the created
    time), VERIFY_PASS, CANCEL or REJECT (at the closed time).

    A closed time earlier than the created time on the same day is read as a date-only
    value and moved to the created time (the timeline row keeps it as
    ``closed_in_source``); on an earlier day the row is rejected.

    Rows already imported (same key) are skipped; bad rows are collected in
    ``rejected_rows`` (see ``Reason``) and the rest imported. Raises ``ValidationFailed``
    before writing anything when the file cannot be read or decoded, lacks a column the
    mapping names, or the type map names codes the catalogue lacks, or when
    ``batch_size`` < 1.
    """
    if batch_size < 1:
        raise ValidationFailed(
            _("The batch size must be at least 1, not %(size)s.") % {"size": batch_size}
        )
    now = now or timezone.now()
    header, total = _scan(path, mapping)
    calendar = calendar_current()
    parser = _Parser(mapping, header, calendar, now)
    fallback = _AreaCodes(mapping) if mapping.area is not None else None
    writer = _Writer(system=mapping.system, calendar=calendar, now=now)
    summary = ImportSummary(dry_run=dry_run, header=header)

    def reject(line: int, values: list[str], number: str, error: _Reject) -> None:
        summary.rejected_rows.append(RejectedRow(line, number, error.reason, error.message, values))
        summary.rejected_by_reason[error.reason] += 1

    if progress:
        progress(0, total)
    for batch in _batches(path, mapping, batch_size):
        cases: list[_Case] = []
        for line, values in batch:
            try:
                cases.append(parser.parse(line, values))
            except _Reject as problem:
                reject(line, values, parser.number_of(values), problem)
        summary.total += len(batch)
        for case, outside in _place(cases, fallback):
            reject(case.line, case.values, case.number, outside)
        cases = [c for c in cases if c.area_id]
        existing = _existing([c.key for c in cases]) if cases else set()
        cases = [c for c in cases if c.key not in existing]
        summary.skipped_existing += len(existing)
        if cases and not dry_run:
            try:
                writer.write(cases)
            except IntegrityError:
                # Another import wrote some of these keys since we looked: skip them.
                raced = _existing([c.key for c in cases])
                if not raced:
                    raise
                cases = [c for c in cases if c.key not in raced]
                summary.skipped_existing += len(raced)
                if cases:
                    writer.write(cases)
        if cases:
            summary.batches += not dry_run
            summary.imported += len(cases)
            summary.by_state.update(c.state for c in cases)
        if progress:
            progress(summary.total, total)
    summary.rejected_rows.sort(key=lambda r: r.line)
    return summary
