"""The SLA sweep: mark overdue tasks and escalate them, each step once, each on the timeline.

The pattern is Healthchecks' ``sendalerts``: pick candidates with a plain read, then claim
them with a compare-and-set ``UPDATE … WHERE id IN (…) AND <old value>`` and write timeline
rows only for the rows that this very statement changed. Two sweeps running at once (two
workers, a worker and ``gridgov sweep``) therefore never log a step twice: the second
one's UPDATE finds the flag already set and changes nothing. The changed ids come back
from ``UPDATE … RETURNING id`` (PostgreSQL, SQLite ≥ 3.35) in one statement per batch;
on a database without RETURNING, a per-row claim loop does the same more slowly.

Steps, in order, each in batches of ``BATCH_SIZE`` with one transaction per batch (on
PostgreSQL claimed on ``CONNECTIONS`` connections side by side, see ``lanes``: the claims
are compare-and-sets, so batches need no order):

1. **overdue**: open, not suspended tasks (feedback submitted — ``handled`` — stops the
   clock) whose deadline has passed → ``is_overdue``, ``overdue_at = deadline``, an
   ``overdue`` timeline row dated at the deadline;
2. **level 1** (催办): remind the assignee (or the department's handlers, or — for a task
   nobody holds — the grid leaders) as soon as the task is overdue;
3. **level 2**: notify the grid leader(s) of the task's grid or community once it is
   ``GRIDGOV_ESCALATION_WORKING_DAYS[2]`` (default 1) working days overdue;
4. **level 3** (督办): a ``SupervisionRecord`` before the command centre, and a notification
   to it, once ``[3]`` (default 3) working days overdue;
5. supervision records of tasks that have since finished are resolved.

"Working days overdue" is working time on the official calendar (``core.calendar``)
since the deadline, in units of one working day's hours (7.5 h by default): a task that
falls due on the eve of the Spring Festival reaches level 2 only on the first working
day after the holiday. Suspended (挂账), closed, rejected and cancelled tasks never
escalate. Each escalation is an ``escalate`` timeline row with ``data = {"level": n}``.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import logging
import sqlite3
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.calendar import WorkingCalendar, calendar_current
from gridgov.core.errors import ValidationFailed
from gridgov.notifications.bulk import rows_insert
from gridgov.notifications.choices import NotificationKind, SupervisionResolution
from gridgov.notifications.models import SupervisionRecord
from gridgov.notifications.services import NotificationSpec, notification_queue_many
from gridgov.people.choices import Role
from gridgov.people.models import Membership
from gridgov.tasks.choices import OPEN_STATES, TaskAction, TaskState
from gridgov.tasks.lanes import Lanes, lanes_usable
from gridgov.tasks.models import Task, TaskEvent

logger = logging.getLogger(__name__)

#: States the deadline runs in. ``handled`` is open (awaiting verification) but the
#: assignee has done their part; rework (``returned``) puts the task back on the clock.
SWEPT_STATES: tuple[str, ...] = tuple(sorted(OPEN_STATES - {TaskState.HANDLED}))
#: Working days overdue before each escalation level (level 1: as soon as overdue).
DEFAULT_ESCALATION_WORKING_DAYS: dict[int, int] = {1: 0, 2: 1, 3: 3}
#: Timeline columns written by the sweep (actor, location: NULL — the system did it).
EVENT_COLUMNS = (
    "task_id",
    "action",
    "at",
    "from_state",
    "to_state",
    "note",
    "data",
    "idempotency_key",
)
#: Tasks per claim statement and transaction.
BATCH_SIZE = 2000
#: Connections claiming batches side by side on PostgreSQL (``lanes``): a batch is a
#: transaction of its own and the claims are compare-and-sets, so batches need no order.
#: SQLite, and a sweep inside a transaction, use one.
CONNECTIONS = 2
#: Area code lengths of the levels (district … micro-grid): a task's area's ancestors.
_CODE_LENGTHS = (6, 9, 12, 15, 18)


@dataclass
class SweepReport:
    """What one sweep did: tasks newly overdue, escalations per level, supervision records
    resolved, notifications queued (inbox rows) and the time it took."""

    now: dt.datetime
    overdue: int = 0
    escalated: dict[int, int] = field(default_factory=lambda: {1: 0, 2: 0, 3: 0})
    supervision_created: int = 0
    supervision_resolved: int = 0
    notifications: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``now`` as ISO 8601, escalations keyed ``"1"``…``"3"``)."""
        return {
            "now": self.now.isoformat(),
            "overdue": self.overdue,
            "escalated": {str(k): v for k, v in sorted(self.escalated.items())},
            "supervision_created": self.supervision_created,
            "supervision_resolved": self.supervision_resolved,
            "notifications": self.notifications,
            "seconds": round(self.seconds, 3),
        }

    def add(self, other: SweepReport) -> None:
        """Add the counts of ``other`` (one batch's) to this report's."""
        self.overdue += other.overdue
        for level, count in other.escalated.items():
            self.escalated[level] = self.escalated.get(level, 0) + count
        self.supervision_created += other.supervision_created
        self.supervision_resolved += other.supervision_resolved
        self.notifications += other.notifications


def escalation_thresholds() -> dict[int, int]:
    """Return ``{level: working days overdue}`` (setting ``GRIDGOV_ESCALATION_WORKING_DAYS``
    overrides the defaults 1 → 0, 2 → 1, 3 → 3)."""
    custom = getattr(settings, "GRIDGOV_ESCALATION_WORKING_DAYS", None) or {}
    return {**DEFAULT_ESCALATION_WORKING_DAYS, **{int(k): int(v) for k, v in custom.items()}}


# --- Compare-and-set ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    """An assignment's value taken from another column (``SET a = b``)."""

    name: str


def _supports_returning() -> bool:
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 35)
    return False


def _claim(
    ids: Sequence[int], *, assignments: dict[str, Any], conditions: dict[str, Any]
) -> set[int]:
    """Set ``assignments`` on the rows of ``ids`` that still satisfy ``conditions``; return
    the ids this statement changed (and no other).

    ``conditions`` are column → value (a tuple/list means ``IN``, ``None`` means ``IS
    NULL``, a ``("<", value)`` pair a comparison). Only our own column names are
    interpolated into the SQL; every value is a parameter.
    """
    if not ids:
        return set()
    if not _supports_returning():
        return _claim_row_by_row(ids, assignments=assignments, conditions=conditions)
    quote = connection.ops.quote_name
    params: list[Any] = []
    sets = []
    for column, value in assignments.items():
        if isinstance(value, _Column):
            sets.append(f"{quote(column)} = {quote(value.name)}")
        else:
            sets.append(f"{quote(column)} = %s")
            params.append(value)
    wheres = [f"{quote('id')} IN ({', '.join(['%s'] * len(ids))})"]
    params.extend(ids)
    for column, value in conditions.items():
        if value is None:
            wheres.append(f"{quote(column)} IS NULL")
        elif isinstance(value, tuple) and len(value) == 2 and value[0] in ("<", "<="):
            wheres.append(f"{quote(column)} {value[0]} %s")
            params.append(value[1])
        elif isinstance(value, list | tuple | frozenset | set):
            wheres.append(f"{quote(column)} IN ({', '.join(['%s'] * len(value))})")
            params.extend(value)
        else:
            wheres.append(f"{quote(column)} = %s")
            params.append(value)
    sql = (
        f"UPDATE {quote(Task._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608
        f"WHERE {' AND '.join(wheres)} RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _claim_row_by_row(
    ids: Sequence[int], *, assignments: dict[str, Any], conditions: dict[str, Any]
) -> set[int]:
    from django.db.models import F

    lookups: dict[str, Any] = {}
    for column, value in conditions.items():
        if value is None:
            lookups[f"{column}__isnull"] = True
        elif isinstance(value, tuple) and len(value) == 2 and value[0] in ("<", "<="):
            lookups[f"{column}__{'lt' if value[0] == '<' else 'lte'}"] = value[1]
        elif isinstance(value, list | tuple | frozenset | set):
            lookups[f"{column}__in"] = list(value)
        else:
            lookups[column] = value
    values = {k: F(v.name) if isinstance(v, _Column) else v for k, v in assignments.items()}
    changed = set()
    for task_id in ids:
        if Task.objects.filter(id=task_id, **lookups).update(**values) == 1:
            changed.add(task_id)
    return changed


# --- Who hears about it ------------------------------------------------------------------


class _Recipients:
    """Staff by role and area code (and handlers by department), from one query."""

    def __init__(self) -> None:
        self.by_role: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self.by_department: dict[int, list[int]] = defaultdict(list)
        self.names: dict[int, str] = {}
        rows = Membership.objects.filter(
            user__is_active=True,
            role__in=[
                Role.COMMAND_CENTRE,
                Role.COMMUNITY_ADMIN,
                Role.GRID_LEADER,
                Role.DEPARTMENT_HANDLER,
            ],
        ).values_list("role", "area__code", "department_id", "user_id", "user__username")
        for role, code, department_id, user_id, username in rows:
            self.by_role[role][code].append(user_id)
            if department_id:
                self.by_department[department_id].append(user_id)
            self.names[user_id] = username

    def over(self, role: str, area_code: str) -> list[int]:
        """Users holding ``role`` on the area or any of its ancestors (nearest first)."""
        table = self.by_role.get(role, {})
        found: list[int] = []
        for length in reversed(_CODE_LENGTHS):
            if length <= len(area_code):
                found.extend(table.get(area_code[:length], ()))
        return list(dict.fromkeys(found))

    def first_over(self, roles: Sequence[str], area_code: str) -> list[int]:
        """The holders of the first role in ``roles`` that anyone holds over the area."""
        for role in roles:
            if users := self.over(role, area_code):
                return users
        return []


@dataclass(frozen=True)
class _Candidate:
    id: int
    deadline: dt.datetime
    is_overdue: bool
    level: int
    number: str
    title: str
    area_code: str
    area_name: str
    assignee_id: int | None
    assignee_name: str
    department_id: int | None


_CANDIDATE_FIELDS = (
    "id",
    "deadline",
    "is_overdue",
    "escalation_level",
    "number",
    "title",
    "area__code",
    "area__name",
    "assignee_id",
    "assignee__username",
    "department_id",
)


def _candidates(
    qs: Any, batch_size: int, after: tuple[dt.datetime, int] | None
) -> list[_Candidate]:
    """The next batch of tasks to look at, in (deadline, id) order after ``after``."""
    if after is not None:
        qs = qs.filter(Q(deadline__gt=after[0]) | Q(deadline=after[0], id__gt=after[1]))
    rows = qs.order_by("deadline", "id").values_list(*_CANDIDATE_FIELDS)[:batch_size]
    return [
        _Candidate(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9] or "", r[10])
        for r in rows
    ]


def _local(value: dt.datetime, zone: dt.tzinfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _key(value: dt.datetime) -> str:
    """A time as part of an idempotency key: its POSIX timestamp in seconds."""
    return str(int(value.timestamp()))


# --- The pass ------------------------------------------------------------------------------


def _live(now: dt.datetime) -> dict[str, Any]:
    """Conditions every claim re-checks: still open, on the clock, not suspended, late."""
    return {"state": SWEPT_STATES, "suspended_at": None, "deadline": ("<", now)}


def _templates(level: int) -> tuple[str, str, str]:
    """Return (kind, title template, body template) of escalation ``level``'s notification,
    translated once per sweep into the active language."""
    if level == 1:
        return (
            NotificationKind.OVERDUE_REMINDER,
            _("Overdue: %(title)s"),
            _(
                "Task %(number)s (%(area)s) passed its deadline %(deadline)s. Please handle "
                "it, or ask for an extension."
            ),
        )
    if level == 2:
        return (
            NotificationKind.ESCALATION_GRID_LEADER,
            _("Overdue task in your grid: %(title)s"),
            _(
                "Task %(number)s (%(area)s), assigned to %(assignee)s, is %(hours)s working "
                "hours past its deadline %(deadline)s."
            ),
        )
    return (
        NotificationKind.SUPERVISION,
        _("Under supervision: %(title)s"),
        _(
            "Task %(number)s (%(area)s), assigned to %(assignee)s, is %(hours)s working hours "
            "past its deadline %(deadline)s and has been put under supervision."
        ),
    )


def _recipients_of(level: int, c: _Candidate, people: _Recipients) -> list[int]:
    leaders = (Role.GRID_LEADER, Role.COMMUNITY_ADMIN, Role.COMMAND_CENTRE)
    if level == 1:
        if c.assignee_id:
            return [c.assignee_id]
        if c.department_id and people.by_department.get(c.department_id):
            return list(people.by_department[c.department_id])
        return people.first_over(leaders, c.area_code)
    if level == 2:
        return people.first_over(leaders, c.area_code)
    return people.first_over((Role.COMMAND_CENTRE,), c.area_code)


class _Pass:
    """One sweep's state: as of ``now``, the calendar, thresholds, templates, recipients."""

    def __init__(self, now: dt.datetime, calendar: WorkingCalendar) -> None:
        self.now = now
        self.calendar = calendar
        day_length = sum((end - start for start, end in calendar.periods), dt.timedelta())
        self.thresholds = {
            level: day_length * days for level, days in escalation_thresholds().items()
        }
        self.templates = {level: _templates(level) for level in (1, 2, 3)}
        self.supervision_note = _("%(hours).1f working hours overdue.")
        self.level_data = {level: {"level": level} for level in (1, 2, 3)}
        self.nobody = _("nobody")
        self.zone = timezone.get_current_timezone()
        # Timeline keys name the step, the deadline it missed and the sweep that saw it:
        # unique per task, since only one sweep's claim can move a task's flags at a time
        # (and a step repeated after a service reset its flags gets a key of its own).
        self.key = _key(now)
        self._people: _Recipients | None = None
        self._recipients: dict[
            tuple[int, int | None, int | None, str], tuple[list[int], list[str]]
        ] = {}

    def load_people(self) -> _Recipients:
        """The recipients, loaded on first use (a sweep with nothing to do reads none);
        ``sweep_run`` loads them before lanes read them side by side."""
        if self._people is None:
            self._people = _Recipients()
        return self._people

    people = property(load_people)

    def eligible(self) -> Any:
        """Tasks that may have a step due: not yet overdue, or below a level whose
        threshold the elapsed time could have reached (working time ≤ elapsed time)."""
        now, t = self.now, self.thresholds
        could_climb = (
            Q(is_overdue=False)
            | Q(escalation_level=0, deadline__lte=now - t[1])
            | Q(escalation_level=1, deadline__lte=now - t[2])
            | Q(escalation_level=2, deadline__lte=now - t[3])
        )
        return Task.objects.filter(
            could_climb, state__in=SWEPT_STATES, suspended_at=None, deadline__lt=now
        )

    def target(self, c: _Candidate) -> tuple[int, float]:
        """The level ``c`` has earned by now, and its working hours overdue."""
        worked = self.calendar.working_time_between(c.deadline, self.now, warn=False)
        level = max((lv for lv, t in self.thresholds.items() if worked >= t), default=0)
        return level, worked.total_seconds() / 3600

    def run_batch(self, batch: list[_Candidate]) -> SweepReport:
        """Claim and record every step the tasks of ``batch`` have due, in one transaction;
        return what this batch did. Safe to run in several threads at once (read
        ``people`` first: it is loaded on first use).

        Tasks are grouped by (old flag, old level, new level); each group is one
        compare-and-set on the old values, so only rows still as they were read move.
        """
        report = SweepReport(now=self.now)
        groups: dict[tuple[bool, int, int], list[tuple[_Candidate, float]]] = defaultdict(list)
        for c in batch:
            level, hours = self.target(c)
            level = max(level, c.level)
            if c.is_overdue and level == c.level:
                continue
            groups[(c.is_overdue, c.level, level)].append((c, hours))
        now = self.now
        with transaction.atomic():
            events: list[tuple[Any, ...]] = []
            records: list[tuple[Any, ...]] = []
            # By level, so that consecutive inbox rows share their data (written once).
            specs: dict[int, list[NotificationSpec]] = {1: [], 2: [], 3: []}
            for (was_overdue, old, new), members in groups.items():
                assignments: dict[str, Any] = {"updated_at": now}
                if not was_overdue:
                    assignments |= {"is_overdue": True, "overdue_at": _Column("deadline")}
                if new > old:
                    assignments |= {"escalation_level": new, "escalated_at": now}
                changed = _claim(
                    [c.id for c, _hours in members],
                    assignments=assignments,
                    conditions={**_live(now), "is_overdue": was_overdue, "escalation_level": old},
                )
                for c, hours in members:
                    if c.id not in changed:
                        continue  # another sweep (or a service) moved it first
                    missed = _key(c.deadline)
                    if not was_overdue:
                        report.overdue += 1
                        events.append(self.overdue_event(c, missed))
                    values = self.message_values(c, hours)
                    for level in range(old + 1, new + 1):
                        report.escalated[level] += 1
                        events.append(self.escalate_event(c, level, hours, missed))
                        specs[level].append(self.notification(c, level, values))
                        if level == 3:
                            note = self.supervision_note % {"hours": hours}
                            records.append((c.id, level, note, now, ""))
            rows_insert(TaskEvent, EVENT_COLUMNS, events)
            rows_insert(
                SupervisionRecord,
                ("task_id", "level", "note", "created_at", "resolution"),
                records,
                ignore_conflicts=True,  # at most one open record per task
            )
            report.supervision_created += len(records)
            report.notifications += notification_queue_many(
                items=itertools.chain.from_iterable(specs.values()), now=now
            )
        return report

    def overdue_event(self, c: _Candidate, missed: str) -> tuple[Any, ...]:
        """The ``overdue`` timeline row; ``missed`` is ``_key(c.deadline)``."""
        data = {"deadline": c.deadline.isoformat(), "noticed_at": self.now.isoformat()}
        key = f"overdue:{missed}:{self.key}"
        return (c.id, TaskAction.OVERDUE.value, c.deadline, "", "", "", data, key)

    def escalate_event(
        self, c: _Candidate, level: int, hours: float, missed: str
    ) -> tuple[Any, ...]:
        """The ``escalate`` timeline row of ``level``; ``missed`` is ``_key(c.deadline)``."""
        data = {"level": level, "working_hours_overdue": round(hours, 2)}
        key = f"escalate:{level}:{missed}:{self.key}"
        return (c.id, TaskAction.ESCALATE.value, self.now, "", "", "", data, key)

    def message_values(self, c: _Candidate, hours: float) -> dict[str, str]:
        """What the notification templates of every level fill in, for one task."""
        return {
            "number": c.number,
            "title": c.title,
            "area": c.area_name,
            "deadline": _local(c.deadline, self.zone),
            "hours": f"{hours:.1f}",
            "assignee": c.assignee_name or self.nobody,
        }

    def notification(self, c: _Candidate, level: int, values: dict[str, str]) -> NotificationSpec:
        """The notification of escalation ``level`` for ``c`` (``values``: see above)."""
        kind, title, body = self.templates[level]
        recipients, names = self.recipients(level, c)
        return NotificationSpec(
            recipient_ids=recipients,
            kind=kind,
            title=title % values,
            body=body % values,
            task_id=c.id,
            task_number=c.number,
            data=self.level_data[level],
            recipient_names=names,
        )

    def recipients(self, level: int, c: _Candidate) -> tuple[list[int], list[str]]:
        """Who hears of ``c`` reaching ``level`` (ids and names), looked up once per
        (level, assignee, department, area): most tasks of a batch share them."""
        key = (level, c.assignee_id, c.department_id, c.area_code)
        found = self._recipients.get(key)
        if found is None:
            people = self.people
            ids = _recipients_of(level, c, people)
            found = self._recipients[key] = (ids, [people.names.get(u, str(u)) for u in ids])
        return found


def _resolve_finished(now: dt.datetime, report: SweepReport) -> None:
    with transaction.atomic():
        report.supervision_resolved = (
            SupervisionRecord.objects.filter(resolved_at=None)
            .exclude(task__state__in=OPEN_STATES)
            .update(resolved_at=now, resolution=SupervisionResolution.TASK_FINISHED)
        )


def sweep_run(
    *,
    now: dt.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    connections: int = CONNECTIONS,
) -> SweepReport:
    """Mark overdue tasks and escalate them, once; return what was done.

    ``now``: an aware datetime (default: the current time) — the sweep acts as of then
    (tests, ``gridgov sweep --now``, replaying a missed night). ``batch_size``: tasks per
    claim and transaction; ``connections``: how many database connections claim batches
    side by side (see ``CONNECTIONS`` and ``lanes.lanes_usable``: one on SQLite or inside a
    transaction; the result does not depend on it). Safe to run concurrently with itself
    and with the services: every step is a compare-and-set and only the rows a run
    changed get a timeline row and a notification. Thresholds: see
    ``escalation_thresholds`` (working days on the official calendar). Raises
    ``ValidationFailed`` for a naive ``now``; nothing for bad data: tasks without a
    deadline are never overdue.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValidationFailed(
            _("The sweep needs a time with a time zone, not %(now)s.") % {"now": now.isoformat()}
        )
    report = SweepReport(now=now)
    sweep = _Pass(now, calendar_current())
    eligible = sweep.eligible()
    after = None
    batches = []
    # This thread reads the next batch while the lanes claim and record the ones before.
    with Lanes(lanes_usable(connections)) as lanes:
        for lane in itertools.count():
            batch = _candidates(eligible, batch_size, after)
            if not batch:
                break
            after = (batch[-1].deadline, batch[-1].id)
            sweep.load_people()
            batches.append(lanes.submit(lane, functools.partial(sweep.run_batch, batch)))
            if len(batch) < batch_size:
                break
    for done in batches:
        report.add(done.result())
    _resolve_finished(now, report)
    report.seconds = time.perf_counter() - started
    logger.info("sweep: %s", report.as_dict())
    return report
