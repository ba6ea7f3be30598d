"""``simulation_run``: a street's days on a simulated clock, through the real services.

Each simulated local day is a queue of timed steps (a discrete-event simulation), run in
time order with the process clock set to each step's time (``time_machine``: the models'
``created_at``/``updated_at`` and the notifications read the clock; every service is also
given ``now=``):

- 00:30 the routine generation of the day and the next (``generation_run``, as the
  worker's daily job);
- reports arrive, Poisson by rule and grid (``rates.WORKER_REPORT_RATES``,
  ``rates.RESIDENT_REPORT_RATES``): ``task_create`` by the grid worker (``worker_report``,
  at a random point of the grid, located by ``area_locate``) or by the resident intake
  (``resident_report``, actor the system);
- dispatch rounds: a dispatcher over the task's area registers each waiting report and
  dispatches it by the routing rules (``task_register``, ``task_dispatch``), or refuses it
  (``task_reject``); sent-back tasks are dispatched again; tasks held by an absent worker
  are transferred to a colleague of the same grid (``task_transfer``);
- work rounds: each holder (the assignee, or a department's handler) takes the tasks in
  hand, earliest deadline first, up to the day's capacity, and for each accepts
  (``task_accept``), works a log-normally drawn time, and submits feedback with the rule's
  evidence (``task_submit_feedback``: photos, check-in at the target, form answers);
  sometimes a task is left for later; for some undone tasks about to fall due the holder
  asks for an extension (``task_extension_request``), which the next dispatch round
  decides (``task_extension_decide``);
- verification rounds: a verifier over the area who is not the assignee passes it
  (closed) or fails it (returned for rework) (``task_verify``);
- the SLA sweep at ``rates.SWEEP_TIMES`` (``sweep_run``).

Determinism: every random draw comes from a ``random.Random`` seeded with the run's seed
and the draw's stable key (the day, the grid, the task number and what is decided), never
from the order of the database rows, so the same seed on the same data gives the same
tasks in the same states. Idempotency: a day already in ``SimulatedDay`` is skipped; the
row is written when the day is done, and reports carry a ``source_key`` (``sim:…``), so a
day interrupted half-way is simulated again without duplicate reports.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F, Q
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from shapely.geometry import Point, shape
from shapely.prepared import prep

from gridgov.analytics.selectors import task_figures
from gridgov.areas.models import CODE_LENGTH, Area, AreaLevel
from gridgov.catalog.models import TaskRule
from gridgov.core.calendar import calendar_current
from gridgov.core.errors import GridgovError, ValidationFailed
from gridgov.people.choices import Role
from gridgov.people.models import Membership
from gridgov.simulation import rates
from gridgov.simulation.models import SimulatedDay
from gridgov.simulation.rates import Knobs
from gridgov.tasks.choices import OPEN_STATES, ExtensionStatus, TaskSource, TaskState
from gridgov.tasks.generation import DAILY_WINDOW_DAYS, generation_run
from gridgov.tasks.models import TRANSFERABLE_STATES, Task
from gridgov.tasks.services import (
    task_accept,
    task_create,
    task_dispatch,
    task_extension_decide,
    task_extension_request,
    task_register,
    task_reject,
    task_submit_feedback,
    task_transfer,
    task_verify,
)
from gridgov.tasks.sweep import sweep_run

__all__ = ["MAX_DAYS", "SimulationReport", "simulation_run"]

#: The longest run one call accepts (a year).
MAX_DAYS = 366
#: Refusals kept word for word in the report (the rest are only counted).
PROBLEMS_KEPT = 10
_GRID_LEN = CODE_LENGTH[AreaLevel.GRID]
#: A 1×1 PNG: the photo evidence of simulated feedback (RFC 2083 signature, IHDR, IDAT, IEND).
_PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201e5270ddd0000000049454e44ae426082"
)
#: Degrees of latitude per metre (WGS84, about 111.32 km a degree).
_DEG_PER_M = 1 / 111_320
_IN_HAND = (TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.RETURNED)


@dataclass
class SimulationReport:
    """What a run did.

    ``start``/``end``: the first and last simulated local dates asked for; ``simulated``:
    the days run now, ``skipped``: the days already simulated before (left alone);
    ``counts``: successful service calls by name (``reports_created``, ``registered``,
    ``rejected``, ``dispatched``, ``transferred``, ``accepted``, ``handled``,
    ``verified_pass``, ``verified_fail``, ``extension_requested``, ``extension_approved``,
    ``extension_refused``, ``routine_generated``, ``sweeps``,
    ``marked_overdue``) and ``refused`` (a service said no: a lost race, a rule it
    broke); ``problems``: the first ``PROBLEMS_KEPT`` refusals' messages; ``figures``: the
    standard figures of the area for ``start``–``end`` (``analytics.selectors
    .task_figures``, "overdue" as of the end of the last day); ``seconds``: wall-clock time.
    """

    start: dt.date
    end: dt.date
    seed: int
    area: str | None
    knobs: Knobs
    simulated: list[dt.date] = field(default_factory=list)
    skipped: list[dt.date] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


# --- random draws -----------------------------------------------------------------------


def _rng(seed: int, *key: object) -> random.Random:
    """A generator for one decision, seeded by the run's seed and the decision's key."""
    return random.Random(":".join(str(part) for part in (seed, *key)))  # noqa: S311 (not secret)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count with ``mean`` (Knuth's multiplication method)."""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _at(day: dt.date, when: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, when))


def _uniform_time(rng: random.Random, day: dt.date, hours: tuple[dt.time, dt.time]) -> dt.datetime:
    start, end = _at(day, hours[0]), _at(day, hours[1])
    return start + dt.timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


def handling_minutes(rng: random.Random, task_type_code: str) -> float:
    """Minutes from starting a task of ``task_type_code`` to its feedback: log-normal with
    the type's or category's median (``rates.HANDLING_MEDIAN_*``), clipped."""
    median = rates.HANDLING_MEDIAN_BY_TYPE_MIN.get(
        task_type_code,
        rates.HANDLING_MEDIAN_MIN.get(task_type_code[:2], rates.HANDLING_DEFAULT_MIN),
    )
    low, high = rates.HANDLING_BOUNDS_MIN
    return min(high, max(low, rng.lognormvariate(math.log(median), rates.HANDLING_SIGMA)))


# --- the street as the simulator sees it ------------------------------------------------


class _Street:
    """The static part of a run: grids and their shapes, the staff and their roles, the
    event rules. Built once per run; user objects are kept so that their memberships are
    read once (``people.selectors.user_memberships`` caches them on the object)."""

    def __init__(self, *, area: Area | None, seed: int, knobs: Knobs) -> None:
        prefix = area.code if area is not None else ""
        grids = Area.objects.filter(level=AreaLevel.GRID, code__startswith=prefix).order_by("code")
        self.grids = [g for g in grids if g.boundary]
        self.shapes = {g.code: shape(g.boundary) for g in self.grids}
        self.prepared = {code: prep(poly) for code, poly in self.shapes.items()}
        self.users: dict[int, Any] = {}
        #: (area code, role) → user ids, by id.
        self.holders: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.department_handler: dict[int, int] = {}
        memberships = (
            Membership.objects.filter(user__is_active=True)
            .select_related("user", "area")
            .order_by("user_id", "id")
        )
        for m in memberships:
            code = m.area.code
            if not (code.startswith(prefix) or prefix.startswith(code)):
                continue
            user = self.users.setdefault(m.user_id, m.user)
            self.holders[(code, m.role)].append(user.pk)
            if m.role == Role.DEPARTMENT_HANDLER and m.department_id is not None:
                self.department_handler.setdefault(m.department_id, user.pk)
        workers = sorted(
            {
                uid
                for (_c, role), ids in self.holders.items()
                if role == Role.GRID_WORKER
                for uid in ids
            }
        )
        away = len(workers) - round(len(workers) * knobs.workers_factor)
        ranked = sorted(workers, key=lambda uid: _rng(seed, "away", uid).random())
        self.absent: frozenset[int] = frozenset(ranked[:away])
        self.rules = {
            r.code: r
            for r in TaskRule.objects.filter(active=True, recurrence="").select_related("task_type")
        }

    def grid_workers(self, grid_code: str, *, present: bool = True) -> list[int]:
        ids = self.holders.get((grid_code, Role.GRID_WORKER), [])
        return [uid for uid in ids if not (present and uid in self.absent)]

    def person_over(self, code: str, roles: Iterable[str], *, not_user: int | None = None) -> Any:
        """The nearest holder of ``roles`` (in that order of preference at each level) over
        the area ``code``: its own area first, then its ancestors; lowest id first."""
        for n in sorted(CODE_LENGTH.values(), reverse=True):
            if n > len(code):
                continue
            for role in roles:
                for uid in self.holders.get((code[:n], role), []):
                    if uid != not_user:
                        return self.users[uid]
        return None

    def random_point(self, rng: random.Random, grid_code: str) -> tuple[float, float]:
        """A point strictly inside the grid (WGS84 lon, lat; rejection sampling)."""
        polygon = self.shapes[grid_code]
        inner = prep(polygon.buffer(-2e-5))
        min_lon, min_lat, max_lon, max_lat = polygon.bounds
        for _attempt in range(1000):
            lon = round(rng.uniform(min_lon, max_lon), 6)
            lat = round(rng.uniform(min_lat, max_lat), 6)
            if inner.contains(Point(lon, lat)):
                return lon, lat
        point = polygon.representative_point()
        return round(point.x, 6), round(point.y, 6)


#: Dispatchers, by preference at each level (the grid leader dispatches, the community
#: admin verifies first: SCENARIOS.md).
_DISPATCHERS = (Role.GRID_LEADER, Role.COMMUNITY_ADMIN, Role.COMMAND_CENTRE)
_VERIFIERS = (Role.COMMUNITY_ADMIN, Role.GRID_LEADER, Role.COMMAND_CENTRE)


# --- one day ----------------------------------------------------------------------------


class _Day:
    """One simulated day: its queue of timed steps and the steps themselves."""

    def __init__(
        self, *, day: dt.date, street: _Street, seed: int, knobs: Knobs, report: SimulationReport
    ) -> None:
        self.day = day
        self.street = street
        self.seed = seed
        self.knobs = knobs
        self.report = report
        self.counts: Counter[str] = Counter()
        self.queue: list[tuple[dt.datetime, int, Callable[[dt.datetime], None]]] = []
        self.order = 0
        self.working = calendar_current().is_working_day(day, warn=False)
        share = 1.0 if self.working else rates.REST_DAY_CAPACITY_SHARE
        self.capacity = max(1, round(knobs.capacity * share))
        self.done: Counter[int] = Counter()  # tasks finished per holder today
        self.prefix = report.area or ""

    def push(self, when: dt.datetime, step: Callable[[dt.datetime], None]) -> None:
        self.order += 1
        heapq.heappush(self.queue, (when, self.order, step))

    def run(self, traveller: Any) -> None:
        day = self.day
        self.push(_at(day, rates.GENERATE_TIME), self.generate)
        for when in rates.SWEEP_TIMES:
            self.push(_at(day, when), self.sweep)
        self.schedule_reports()
        for when in rates.DISPATCH_TIMES if self.working else rates.REST_DAY_DISPATCH_TIMES:
            self.push(_at(day, when), self.dispatch_round)
        for start, end in rates.WORK_ROUNDS if self.working else rates.REST_DAY_WORK_ROUNDS:
            self.push(_at(day, start), self._work_round(_at(day, end)))
        evening_start, evening_end = rates.EVENING_ROUND
        self.push(_at(day, evening_start), self._work_round(_at(day, evening_end), evening=True))
        for when in rates.VERIFY_TIMES if self.working else rates.REST_DAY_VERIFY_TIMES:
            self.push(_at(day, when), self.verify_round)
        while self.queue:
            at, _order, step = heapq.heappop(self.queue)
            traveller.move_to(at)
            step(at)

    # -- bookkeeping ----------------------------------------------------------------------

    def _call(self, name: str, service: Callable[..., Any], **kwargs: Any) -> Any:
        """Call a service; count it, or count and keep its refusal."""
        try:
            result = service(**kwargs)
        except GridgovError as error:
            self.counts["refused"] += 1
            if len(self.report.problems) < PROBLEMS_KEPT:
                self.report.problems.append(f"{name}: {error.message}")
            return None
        self.counts[name] += 1
        return result

    def _scope(self) -> Q:
        return Q(area__code__startswith=self.prefix) if self.prefix else Q()

    # -- the routine and the sweep --------------------------------------------------------

    def generate(self, now: dt.datetime) -> None:
        area = Area.objects.get(code=self.prefix) if self.prefix else None
        summary = generation_run(
            start=self.day,
            end=self.day + dt.timedelta(days=DAILY_WINDOW_DAYS),
            area=area,
            now=now,
        )
        self.counts["routine_generated"] += summary.created

    def sweep(self, now: dt.datetime) -> None:
        result = sweep_run(now=now)
        self.counts["sweeps"] += 1
        self.counts["marked_overdue"] += result.overdue

    # -- reports --------------------------------------------------------------------------

    def schedule_reports(self) -> None:
        factor = self.knobs.event_rate_factor
        worker_factor = factor * (1.0 if self.working else rates.REST_DAY_WORKER_REPORT_FACTOR)
        plans = (
            (TaskSource.WORKER_REPORT, rates.WORKER_REPORT_RATES, worker_factor),
            (TaskSource.RESIDENT_REPORT, rates.RESIDENT_REPORT_RATES, factor),
        )
        for grid in self.street.grids:
            for source, table, scale in plans:
                for code, mean in table.items():
                    rule = self.street.rules.get(code)
                    if rule is None:
                        continue  # another catalogue: no such event rule
                    rng = _rng(self.seed, self.day, grid.code, source, code)
                    for n in range(_poisson(rng, mean * scale)):
                        hours = (
                            rates.WORKER_REPORT_HOURS
                            if source == TaskSource.WORKER_REPORT
                            else rates.RESIDENT_REPORT_HOURS
                        )
                        when = _uniform_time(rng, self.day, hours)
                        lon, lat = self.street.random_point(rng, grid.code)
                        pick = rng.random()
                        key = f"sim:{self.day:%Y%m%d}:{grid.code}:{source}:{code}:{n + 1}"
                        self.push(when, self._report(grid, source, rule, lon, lat, pick, key))

    def _report(
        self, grid: Area, source: str, rule: TaskRule, lon: float, lat: float, pick: float, key: str
    ) -> Callable[[dt.datetime], None]:
        def create(now: dt.datetime) -> None:
            reporter = None
            if source == TaskSource.WORKER_REPORT:
                workers = self.street.grid_workers(grid.code)
                if not workers:
                    return  # nobody at work in the grid to report
                reporter = self.street.users[workers[int(pick * len(workers))]]
            with translation.override(settings.LANGUAGE_CODE):
                name = rule.task_type.name
                if source == TaskSource.WORKER_REPORT:
                    title = _("Found on patrol: %(type)s") % {"type": name}
                else:
                    title = _("Resident report: %(type)s") % {"type": name}
            self._call(
                "reports_created",
                task_create,
                actor=reporter,
                source=source,
                task_type=rule.task_type,
                rule=rule,
                lon=lon,
                lat=lat,
                title=title[:200],
                reporter=reporter,
                source_key=key,
                now=now,
            )

        return create

    # -- dispatchers ----------------------------------------------------------------------

    def dispatch_round(self, now: dt.datetime) -> None:
        street = self.street
        waiting = (
            Task.objects.filter(self._scope(), state=TaskState.REPORTED, reported_at__lte=now)
            .select_related("area")
            .order_by("reported_at", "id")
        )
        for task in waiting:
            dispatcher = street.person_over(task.area.code, _DISPATCHERS)
            if _rng(self.seed, task.number, "reject").random() < rates.REJECT_PROBABILITY:
                with translation.override(settings.LANGUAGE_CODE):
                    reason = _("Not a case: a duplicate or outside the grid's duties.")
                self._call(
                    "rejected", task_reject, actor=dispatcher, task=task, reason=reason, now=now
                )
                continue
            if self._call("registered", task_register, actor=dispatcher, task=task, now=now):
                self._call("dispatched", task_dispatch, actor=dispatcher, task=task, now=now)
        sent_back = Task.objects.filter(self._scope(), state=TaskState.SENT_BACK).select_related(
            "area"
        )
        for task in sent_back.order_by("id"):
            dispatcher = street.person_over(task.area.code, _DISPATCHERS)
            self._call("dispatched", task_dispatch, actor=dispatcher, task=task, now=now)
        pending = Task.objects.filter(
            self._scope(), extension_status=ExtensionStatus.REQUESTED, state__in=OPEN_STATES
        ).select_related("area")
        for task in pending.order_by("id"):
            dispatcher = street.person_over(task.area.code, _DISPATCHERS, not_user=task.assignee_id)
            rng = _rng(self.seed, task.number, "extension", "decide")
            if rng.random() < rates.EXTENSION_APPROVE_PROBABILITY:
                self._call(
                    "extension_approved", task_extension_decide, actor=dispatcher, task=task,
                    approve=True, now=now,
                )  # fmt: skip
            else:
                with translation.override(settings.LANGUAGE_CODE):
                    note = _("Refused: finish it within the time limit.")
                self._call(
                    "extension_refused", task_extension_decide, actor=dispatcher, task=task,
                    approve=False, note=note, now=now,
                )  # fmt: skip
        if street.absent:
            self._transfer_from_absent(now)

    def _transfer_from_absent(self, now: dt.datetime) -> None:
        street = self.street
        held = (
            Task.objects.filter(
                self._scope(), state__in=TRANSFERABLE_STATES, assignee_id__in=street.absent
            )
            .select_related("area")
            .order_by("deadline", "id")
        )
        load: Counter[int] = Counter()
        for task in held:
            colleagues = street.grid_workers(task.area.code[:_GRID_LEN])
            if not colleagues:
                continue  # a one-worker grid: the work waits (SCENARIOS.md, the worker on leave)
            colleague = min(colleagues, key=lambda uid: (load[uid], uid))
            load[colleague] += 1
            dispatcher = street.person_over(task.area.code, _DISPATCHERS)
            with translation.override(settings.LANGUAGE_CODE):
                note = _("The grid worker is on leave.")
            self._call(
                "transferred",
                task_transfer,
                actor=dispatcher,
                task=task,
                assignee=street.users[colleague],
                note=note,
                now=now,
            )

    # -- holders --------------------------------------------------------------------------

    def _work_round(
        self, end: dt.datetime, *, evening: bool = False
    ) -> Callable[[dt.datetime], None]:
        def plan(now: dt.datetime) -> None:
            self.plan_work(now, end, evening=evening)

        return plan

    def plan_work(self, start: dt.datetime, end: dt.datetime, *, evening: bool = False) -> None:
        """Each holder plans their round: tasks in hand, earliest deadline first, one after
        the other from ``start`` until ``end`` or the day's capacity. The evening duty
        takes only tasks dispatched for the evening, up to ``rates.EVENING_CAPACITY``."""
        street = self.street
        tasks = Task.objects.filter(
            self._scope(), state__in=_IN_HAND, suspended_at__isnull=True, dispatched_at__lte=start
        )
        if evening:
            tasks = tasks.filter(dispatched_at__gte=start - dt.timedelta(hours=1))
        tasks = (
            tasks.filter(Q(assignee__isnull=False) | Q(department__isnull=False))
            .select_related("task_type", "rule", "area", "target_household", "target_place")
            .order_by(F("deadline").asc(nulls_last=True), "id")
        )
        by_holder: dict[int, list[Task]] = defaultdict(list)
        for task in tasks:
            holder = task.assignee_id or street.department_handler.get(task.department_id or 0)
            if holder is None or holder in street.absent or holder not in street.users:
                continue
            by_holder[holder].append(task)
        for holder in sorted(by_holder):
            rng = _rng(self.seed, self.day, start.hour, "start", holder)
            cursor = start + dt.timedelta(minutes=rng.uniform(0, 15))
            budget = rates.EVENING_CAPACITY if evening else self.capacity - self.done[holder]
            planned: set[int] = set()
            for task in by_holder[holder]:
                if budget <= 0:
                    break
                key = (task.number, task.rework_count)
                if _rng(self.seed, *key, self.day, start.hour, "defer").random() < (
                    rates.DEFER_PROBABILITY
                ):
                    continue
                minutes = handling_minutes(_rng(self.seed, *key, "handle"), task.task_type.code)
                accept = task.state == TaskState.DISPATCHED
                done_at = cursor + dt.timedelta(minutes=(3 if accept else 0) + minutes)
                if done_at > end:
                    if accept and cursor < end:
                        self.push(cursor, self._accept(task, holder))
                    break
                if accept:
                    self.push(cursor, self._accept(task, holder))
                self.push(done_at, self._feedback(task, holder))
                planned.add(task.pk)
                budget -= 1
                if not evening:
                    self.done[holder] += 1
                cursor = done_at + dt.timedelta(
                    minutes=_rng(self.seed, *key, "walk").uniform(5, 20)
                )
            if not evening:
                late = [t for t in by_holder[holder] if t.pk not in planned]
                self._ask_extensions(late, holder, end)

    def _ask_extensions(self, tasks: list[Task], holder: int, end: dt.datetime) -> None:
        """At the end of a round, the holder asks for more time for some of the tasks left
        undone that fall due within a day (not the urgent ones, not twice)."""
        for task in tasks:
            unit = task.rule.time_limit_unit if task.rule else ""
            if (
                task.deadline is None
                or task.deadline > end + dt.timedelta(days=1)
                or unit in rates.NO_EXTENSION_UNITS
                or task.extension_count
                or task.extension_status == ExtensionStatus.REQUESTED
            ):
                continue
            rng = _rng(self.seed, task.number, "extension")
            if rng.random() >= rates.EXTENSION_REQUEST_PROBABILITY:
                continue
            until = max(task.deadline, end) + dt.timedelta(days=rates.EXTENSION_DAYS)
            self.push(end - dt.timedelta(minutes=5), self._extension(task, holder, until))

    def _extension(
        self, task: Task, holder: int, until: dt.datetime
    ) -> Callable[[dt.datetime], None]:
        def ask(now: dt.datetime) -> None:
            with translation.override(settings.LANGUAGE_CODE):
                reason = _("Too much in hand today; the resident is away until later.")
            self._call(
                "extension_requested", task_extension_request, actor=self.street.users[holder],
                task=task, until=until, reason=reason, now=now,
            )  # fmt: skip

        return ask

    def _accept(self, task: Task, holder: int) -> Callable[[dt.datetime], None]:
        def accept(now: dt.datetime) -> None:
            user = self.street.users[holder]
            self._call("accepted", task_accept, actor=user, task=task, now=now)

        return accept

    def _feedback(self, task: Task, holder: int) -> Callable[[dt.datetime], None]:
        lon, lat = self._where(task)
        answers = _answers(task.rule.form_fields if task.rule else [], _rng(self.seed, task.number))
        photos = task.rule.min_photos if task.rule else 0

        def submit(now: dt.datetime) -> None:
            with translation.override(settings.LANGUAGE_CODE):
                note = _("Handled on site.")
            self._call(
                "handled",
                task_submit_feedback,
                actor=self.street.users[holder],
                task=task,  # the services load it afresh (SELECT … FOR UPDATE) by its id
                note=note,
                lon=lon,
                lat=lat,
                answers=answers,
                photos=[
                    SimpleUploadedFile(f"photo{i + 1}.png", _PHOTO, content_type="image/png")
                    for i in range(photos)
                ],
                now=now,
            )

        return submit

    def _where(self, task: Task) -> tuple[float, float]:
        """Where the holder stands when submitting: within 20 m of the target, else of the
        task's location, else at the grid's representative point (WGS84 lon, lat)."""
        rng = _rng(self.seed, task.number, "where")
        for target in (task.target_household, task.target_place):
            if target is not None and target.lon is not None and target.lat is not None:
                return _near(rng, target.lon, target.lat)
        if task.lon is not None and task.lat is not None:
            return _near(rng, task.lon, task.lat)
        polygon = self.street.shapes.get(task.area.code[:_GRID_LEN])
        if polygon is None:
            polygon = shape(task.area.boundary) if task.area.boundary else None
        if polygon is None:
            return (120.115, 30.283)  # the demo street's middle
        point = polygon.representative_point()
        return round(point.x, 6), round(point.y, 6)

    # -- verifiers ------------------------------------------------------------------------

    def verify_round(self, now: dt.datetime) -> None:
        handled = (
            Task.objects.filter(self._scope(), state=TaskState.HANDLED, handled_at__lte=now)
            .select_related("area")
            .order_by("handled_at", "id")
        )
        with translation.override(settings.LANGUAGE_CODE):
            reasons = [
                _("The photo does not show the problem fixed."),
                _("The answers are incomplete; please visit again."),
            ]
        for task in handled:
            verifier = self.street.person_over(
                task.area.code, _VERIFIERS, not_user=task.assignee_id
            )
            rng = _rng(self.seed, task.number, task.rework_count, "verify")
            if rng.random() < rates.REWORK_PROBABILITY:
                note = reasons[int(rng.random() * len(reasons))]
                self._call(
                    "verified_fail", task_verify, actor=verifier, task=task, passed=False,
                    note=note, now=now,
                )  # fmt: skip
            else:
                self._call(
                    "verified_pass", task_verify, actor=verifier, task=task, passed=True, now=now
                )


def _near(rng: random.Random, lon: float, lat: float) -> tuple[float, float]:
    """A point within about 20 m of (``lon``, ``lat``)."""
    dlat = rng.uniform(-14, 14) * _DEG_PER_M
    dlon = rng.uniform(-14, 14) * _DEG_PER_M / max(0.1, math.cos(math.radians(lat)))
    return round(lon + dlon, 6), round(lat + dlat, 6)


def _answers(fields: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """Plausible answers to a rule's form (``catalog`` form fields: text, number, boolean,
    choice, date): mostly the first choice, mostly "no" to yes/no questions."""
    answers: dict[str, Any] = {}
    for spec in fields:
        name, kind = str(spec.get("name")), spec.get("type")
        if kind == "choice":
            values = [c.get("value") for c in spec.get("choices") or []]
            if values:
                answers[name] = values[0] if rng.random() < 0.8 else rng.choice(values)
        elif kind == "boolean":
            answers[name] = rng.random() < 0.1
        elif kind == "number":
            low = spec.get("min", 0) or 0
            high = spec.get("max", low + 20)
            answers[name] = rng.randint(int(low), int(max(low, high)))
        elif kind == "date":
            answers[name] = timezone.localdate().isoformat()
        else:
            answers[name] = "正常" if rng.random() < 0.9 else "已提醒整改"
    return answers


# --- the run ----------------------------------------------------------------------------


def _check(*, start: dt.date, days: int, knobs: Knobs, today: dt.date) -> None:
    problems = []
    if not 1 <= days <= MAX_DAYS:
        problems.append(
            _("Simulate 1 to %(max)d days, not %(days)d.") % {"max": MAX_DAYS, "days": days}
        )
    if not 0 < knobs.workers_factor <= 1:
        problems.append(
            _(
                "The workers factor is a share of the grid workers, above 0 and at most 1; "
                "not %(v)s."
            )
            % {"v": knobs.workers_factor}
        )
    if knobs.capacity < 1:
        problems.append(
            _("The capacity is at least 1 task a day, not %(v)s.") % {"v": knobs.capacity}
        )
    if not 0 < knobs.event_rate_factor <= 100:
        problems.append(
            _("The event rate factor is above 0 and at most 100, not %(v)s.")
            % {"v": knobs.event_rate_factor}
        )
    if days >= 1 and start + dt.timedelta(days=days - 1) >= today:
        problems.append(
            _(
                "The simulator fills the past: the last day (%(last)s) must be before today "
                "(%(today)s)."
            )
            % {
                "last": (start + dt.timedelta(days=days - 1)).isoformat(),
                "today": today.isoformat(),
            }
        )
    if problems:
        raise ValidationFailed(" ".join(problems), details={"problems": problems})


def simulation_run(
    *,
    days: int,
    start: dt.date | None = None,
    seed: int = 2026,
    area: Area | None = None,
    knobs: Knobs | None = None,
    progress: Callable[[dt.date, bool], None] | None = None,
) -> SimulationReport:
    """Simulate ``days`` local days from ``start`` through the real services; return what
    was done and the figures.

    Inputs: ``start`` (default: ``days`` days before today, so the run ends yesterday);
    ``seed`` (the same seed on the same data gives the same result); ``area`` limits
    the reports, dispatchers, holders and verifiers to the area (and the routine
    generation to its targets; the sweep is street-wide, as in the product); ``knobs``:
    ``rates.Knobs`` (workers factor, capacity, event rate factor). ``progress(day,
    simulated)`` is called after each day (``simulated`` false: skipped as done before).

    The days must lie in the past (before today). Days already simulated
    (``SimulatedDay``) are skipped. Raises ``ValidationFailed`` for a bad number of days,
    a knob out of range or a day not in the past.
    """
    knobs = knobs or Knobs()
    today = timezone.localdate()
    start = start or today - dt.timedelta(days=days)
    _check(start=start, days=days, knobs=knobs, today=today)
    end = start + dt.timedelta(days=days - 1)
    report = SimulationReport(
        start=start, end=end, seed=seed, area=area.code if area is not None else None, knobs=knobs
    )
    began = time.perf_counter()
    done = set(
        SimulatedDay.objects.filter(day__gte=start, day__lte=end).values_list("day", flat=True)
    )
    street: _Street | None = None
    with override_settings(GRIDGOV_OUTBOX_NUDGE=False):  # history: nobody is to be nudged
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            if day in done:
                report.skipped.append(day)
                if progress:
                    progress(day, False)
                continue
            street = street or _Street(area=area, seed=seed, knobs=knobs)
            one = _Day(day=day, street=street, seed=seed, knobs=knobs, report=report)
            with time_machine.travel(_at(day, dt.time(0, 0)), tick=False) as traveller:
                one.run(traveller)
            SimulatedDay.objects.create(
                day=day,
                seed=seed,
                area_code=report.area or "",
                counts=dict(sorted(one.counts.items())),
                simulated_at=timezone.now(),
            )
            report.counts.update(one.counts)
            report.simulated.append(day)
            if progress:
                progress(day, True)
    report.figures = task_figures(
        area=area, start=start, end=end, now=_at(end + dt.timedelta(days=1), dt.time(0, 0))
    )
    report.seconds = time.perf_counter() - began
    return report
