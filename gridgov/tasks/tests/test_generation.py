"""Routine generation: rules × targets × occurrences → tasks (``gridgov.tasks.generation``).

The street (``factories.make_task_street``) has four grids g11, g12, g21, g22 and the
rules ``patrol`` (grid target, Mondays, 3 work_day) and ``visit`` (households tagged
elderly, Mondays, 2 work_day, high priority); here we add tagged residents, shops and a
place rule. June 2025 has five Mondays (2, 9, 16, 23, 30; the 2nd is the Dragon Boat
holiday) and the rules' occurrences fall at 08:30 local time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.catalog.choices import Priority, TargetKind
from gridgov.catalog.models import TaskRule
from gridgov.catalog.tests.factories import TaskRuleFactory, TaskTypeFactory
from gridgov.core.calendar import deadline_compute
from gridgov.core.choices import TimeLimitUnit
from gridgov.core.errors import ValidationFailed
from gridgov.people.choices import PlaceKind, ResidentTag
from gridgov.people.tests.factories import HouseholdFactory, PlaceFactory, ResidentFactory
from gridgov.tasks import generation
from gridgov.tasks.choices import TaskAction, TaskSource, TaskState
from gridgov.tasks.generation import (
    DAILY_WINDOW_DAYS,
    generation_run,
    generation_run_daily,
    routine_source_key,
)
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.selectors import task_yellow_at
from gridgov.tasks.services import task_create
from gridgov.tasks.tests.factories import TaskStreet

CST = dt.timezone(dt.timedelta(hours=8))
JUNE = (dt.date(2025, 6, 1), dt.date(2025, 7, 1))
MONDAYS = [dt.datetime(2025, 6, d, 8, 30, tzinfo=CST) for d in (2, 9, 16, 23, 30)]
#: A fixed creation time before the window: every task is dispatched at its occurrence.
NOW = dt.datetime(2025, 5, 20, 1, 0, tzinfo=CST)


@pytest.fixture
def town(street: TaskStreet) -> TaskStreet:
    """The street plus: two elderly households (``home`` in m11, ``pair`` in g21 with two
    elderly residents), a household without the tag, two shops and a restaurant, and the
    rule ``shops`` (shops, monthly on the 1st, 7 natural days)."""
    tree = street.tree
    home = street.households["home"]
    ResidentFactory(household=home, tags=[ResidentTag.ELDERLY, ResidentTag.LIVING_ALONE])
    ResidentFactory(household=home, tags=[])
    pair = HouseholdFactory(area=tree["g21"], address="华星路2幢1单元303室", lon=None, lat=None)
    ResidentFactory(household=pair, tags=[ResidentTag.ELDERLY])
    ResidentFactory(household=pair, tags=[ResidentTag.ELDERLY, ResidentTag.DISABLED])
    young = HouseholdFactory(area=tree["g12"])
    ResidentFactory(household=young, tags=[ResidentTag.LOW_INCOME])
    street.households.update(pair=pair, young=young)
    street.places["shop2"] = PlaceFactory(area=tree["g22"], kind=PlaceKind.SHOP, name="二号商店")
    street.places["diner"] = PlaceFactory(area=tree["g11"], kind=PlaceKind.RESTAURANT, name="饭店")
    patrol_type = street.types["patrol"]
    street.rules["shops"] = TaskRuleFactory(
        task_type=patrol_type,
        code=f"{patrol_type.code}04",
        target_kind=TargetKind.PLACE,
        target_place_kind=PlaceKind.SHOP,
        recurrence="FREQ=MONTHLY;BYMONTHDAY=1",
        time_limit_value=7,
        time_limit_unit=TimeLimitUnit.NATURAL_DAY,
        priority=Priority.LOW,
    )
    return street


def run(**kwargs: Any) -> generation.GenerationSummary:
    kwargs.setdefault("start", JUNE[0])
    kwargs.setdefault("end", JUNE[1])
    kwargs.setdefault("now", NOW)
    return generation_run(**kwargs)


def per_rule(rule: TaskRule) -> int:
    return Task.objects.filter(rule=rule).count()


# --- expansion ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_expands_every_target_kind_exactly(town: TaskStreet) -> None:
    summary = run()

    assert per_rule(town.rules["patrol"]) == 4 * 5  # 4 grids × 5 Mondays
    assert per_rule(town.rules["visit"]) == 2 * 5  # home, pair (once despite two elders)
    assert per_rule(town.rules["shops"]) == 2 * 1  # two shops × June 1
    assert per_rule(town.rules["quick"]) == 0  # event-driven
    assert summary.created == Task.objects.count() == 32
    assert summary.skipped == 0
    assert summary.per_rule[town.rules["visit"].code].created == 10
    grids = Counter(
        Task.objects.filter(rule=town.rules["patrol"]).values_list("area__code", flat=True)
    )
    assert grids == {town[g].code: 5 for g in ("g11", "g12", "g21", "g22")}
    visited = Task.objects.filter(rule=town.rules["visit"]).values_list("target_household")
    assert {pk for (pk,) in visited} == {town.households[k].pk for k in ("home", "pair")}


@pytest.mark.django_db
def test_it_fills_each_task_from_rule_target_and_occurrence(town: TaskStreet) -> None:
    run()
    home = town.households["home"]
    task = Task.objects.get(rule=town.rules["visit"], target_household=home, occurrence=MONDAYS[1])
    assert task.source == TaskSource.ROUTINE
    assert task.state == TaskState.DISPATCHED
    assert task.task_type == town.types["patrol"]
    assert task.area == town["m11"]  # the household's micro-grid
    assert (task.lon, task.lat) == (home.lon, home.lat)
    assert task.target_place is None
    assert task.priority == Priority.HIGH
    assert task.source_key == f"routine:{town.rules['visit'].pk}:household:{home.pk}:20250609T0830"
    assert task.dispatched_at == MONDAYS[1]
    assert task.created_at == NOW
    assert task.number.startswith("20250609-")

    shop = Task.objects.get(rule=town.rules["shops"], target_place=town.places["shop"])
    assert shop.area == town["g12"]
    assert shop.priority == Priority.LOW
    assert shop.target_household is None
    grid_task = Task.objects.filter(rule=town.rules["patrol"]).first()
    assert grid_task is not None
    assert grid_task.target_household is None
    assert grid_task.target_place is None
    assert grid_task.lon is None


@pytest.mark.django_db
def test_titles_name_the_rule_and_the_target_with_the_address_masked(town: TaskStreet) -> None:
    run()
    name = {key: rule.name_zh for key, rule in town.rules.items()}
    titles = {
        (t.rule_id, t.area_id, t.target_household_id, t.target_place_id): t.title
        for t in Task.objects.all()
    }
    assert titles[(town.rules["patrol"].pk, town["g21"].pk, None, None)] == (
        f"{name['patrol']}：{town['g21'].name}"
    )
    home = town.households["home"]
    assert titles[(town.rules["visit"].pk, town["m11"].pk, home.pk, None)] == (
        f"{name['visit']}：古荡新村1幢1单元***"
    )
    shop = town.places["shop"]
    assert titles[(town.rules["shops"].pk, town["g12"].pk, None, shop.pk)] == (
        f"{name['shops']}：示例商店"
    )


@pytest.mark.django_db
def test_numbers_are_unique_and_of_the_dispatch_day(town: TaskStreet) -> None:
    # Created on 2025-06-10: the past Mondays are dispatched now, the later ones on the day.
    now = dt.datetime(2025, 6, 10, 9, 0, tzinfo=CST)
    run(now=now, rule_codes=[town.rules["patrol"].code])
    numbers = dict(Task.objects.values_list("occurrence", "number").order_by("number"))
    rows = list(Task.objects.values_list("occurrence", "number", "dispatched_at"))
    assert len({n for _o, n, _d in rows}) == len(rows) == 20
    for occurrence, number, dispatched_at in rows:
        assert dispatched_at == max(occurrence, now)
        assert number[:8] == dispatched_at.astimezone(CST).strftime("%Y%m%d")
    assert numbers[MONDAYS[4]].startswith("20250630-")


# --- the window ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_window_includes_its_start_and_excludes_its_end(town: TaskStreet) -> None:
    patrol = [town.rules["patrol"].code]
    run(start=MONDAYS[0], end=MONDAYS[1], rule_codes=patrol)
    assert set(Task.objects.values_list("occurrence", flat=True)) == {MONDAYS[0]}

    minute = dt.timedelta(minutes=1)
    run(start=MONDAYS[0] + minute, end=MONDAYS[1] + minute, rule_codes=patrol)
    assert set(Task.objects.values_list("occurrence", flat=True)) == {MONDAYS[0], MONDAYS[1]}

    # Dates are local midnights: --from 06-03 --until 06-09 holds no Monday.
    assert run(start=dt.date(2025, 6, 3), end=dt.date(2025, 6, 9)).created == 0


@pytest.mark.django_db
def test_an_empty_or_naive_window_is_refused(town: TaskStreet) -> None:
    with pytest.raises(ValidationFailed, match="empty"):
        run(start=JUNE[1], end=JUNE[0])
    with pytest.raises(ValidationFailed, match="empty"):
        run(start=JUNE[0], end=JUNE[0])
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        run(start=dt.datetime(2025, 6, 1), end=JUNE[1])  # noqa: DTZ001
    with pytest.raises(ValidationFailed, match="batch size"):
        run(batch_size=0)
    assert not Task.objects.exists()


# --- deadlines ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deadlines_count_from_each_occurrence_on_the_working_calendar(town: TaskStreet) -> None:
    run()
    visit = town.rules["visit"]  # 2 work_day
    home = town.households["home"]
    deadlines = dict(
        Task.objects.filter(rule=visit, target_household=home).values_list("occurrence", "deadline")
    )
    # 2 June is the Dragon Boat holiday: the two working days after it are the 3rd and 4th.
    assert deadlines[MONDAYS[0]] == dt.datetime(2025, 6, 4, 17, 30, tzinfo=CST)
    assert deadlines[MONDAYS[1]] == dt.datetime(2025, 6, 11, 17, 30, tzinfo=CST)
    for occurrence, deadline in deadlines.items():
        assert deadline == deadline_compute(start=occurrence, amount=2, unit=TimeLimitUnit.WORK_DAY)
    shop = Task.objects.get(rule=town.rules["shops"], target_place=town.places["shop"])
    assert shop.deadline == dt.datetime(2025, 6, 8, 8, 30, tzinfo=CST)  # 7 natural days
    for task in Task.objects.all():
        assert task.deadline_original == task.deadline
        assert task.yellow_at == task_yellow_at(
            start=task.dispatched_at, deadline=task.deadline, unit=task.rule.time_limit_unit
        )


@pytest.mark.django_db
def test_yellow_time_counts_from_the_dispatch_of_a_future_occurrence(town: TaskStreet) -> None:
    run(rule_codes=[town.rules["shops"].code])  # dispatched at the occurrence, 1 June 08:30
    task = Task.objects.filter(rule=town.rules["shops"]).first()
    assert task is not None
    assert task.dispatched_at == task.occurrence
    # 80% of 7 natural days after 1 June 08:30.
    assert task.yellow_at == task.occurrence + dt.timedelta(days=7) * 0.8


# --- routing ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_routing_balances_workers_and_flags_grids_without_anyone(town: TaskStreet) -> None:
    run()
    by_assignee = Counter(
        Task.objects.filter(area__code__startswith=town["g11"].code).values_list(
            "assignee__username", flat=True
        )
    )
    assert by_assignee == {"chen": 5, "chen2": 5}  # 5 patrols + 5 visits in m11, balanced
    g12 = Task.objects.filter(area=town["g12"]).values_list("assignee__username", flat=True)
    assert set(g12) == {"li"}
    nobody = Task.objects.filter(area=town["g22"])  # no worker, c2 has no grid leader
    assert nobody.count() == 5 + 1
    assert all(t.assignee_id is None and t.needs_attention for t in nobody)
    assert not Task.objects.filter(area=town["g11"], needs_attention=True).exists()


@pytest.mark.django_db
def test_a_department_type_goes_to_the_department_queue(town: TaskStreet) -> None:
    enforcement = town.types["enforcement"]
    rule = TaskRuleFactory(
        task_type=enforcement,
        code=f"{enforcement.code}01",
        target_kind=TargetKind.GRID,
        recurrence="FREQ=MONTHLY;BYMONTHDAY=1",
    )
    run(rule_codes=[rule.code])
    tasks = list(Task.objects.all())
    assert len(tasks) == 4
    assert {(t.department_id, t.assignee_id, t.needs_attention) for t in tasks} == {
        (town.department.pk, None, False)  # type: ignore[union-attr]
    }


# --- timeline -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_task_gets_its_create_and_dispatch_rows(town: TaskStreet) -> None:
    run()
    assert TaskEvent.objects.count() == 2 * Task.objects.count()
    home = town.households["home"]
    task = Task.objects.get(rule=town.rules["visit"], target_household=home, occurrence=MONDAYS[0])
    create, dispatch = task.events.order_by("id")
    assert (create.action, create.from_state, create.to_state) == (
        TaskAction.CREATE, "", TaskState.DISPATCHED
    )  # fmt: skip
    assert create.at == NOW
    assert create.actor is None
    assert (create.lon, create.lat) == (home.lon, home.lat)
    assert create.data == {"source": "routine", "source_key": task.source_key}
    assert (dispatch.action, dispatch.to_state, dispatch.at) == (
        TaskAction.DISPATCH, TaskState.DISPATCHED, task.dispatched_at
    )  # fmt: skip
    assert dispatch.data == {
        "area": town["m11"].code,
        "assignee": task.assignee_id,
        "department": None,
        "needs_attention": False,
    }
    flagged = Task.objects.filter(area=town["g22"]).first()
    assert flagged is not None
    assert flagged.events.get(action=TaskAction.DISPATCH).data["needs_attention"] is True


# --- idempotency ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rerun_creates_nothing_and_fills_only_the_gaps(town: TaskStreet) -> None:
    first = run()
    again = run()
    assert (again.created, again.skipped) == (0, first.created)
    assert Task.objects.count() == first.created

    gone = list(Task.objects.filter(area=town["g12"]).values_list("source_key", flat=True))
    Task.objects.filter(source_key__in=gone).delete()
    third = run()
    assert third.created == len(gone) == 5 + 1  # g12's patrols and its shop
    assert sorted(Task.objects.filter(area=town["g12"]).values_list("source_key", flat=True)) == (
        sorted(gone)
    )
    assert Task.objects.count() == first.created
    assert TaskEvent.objects.count() == 2 * first.created
    assert Task.objects.values("source_key").distinct().count() == first.created


@pytest.mark.django_db
def test_a_task_made_by_task_create_with_the_same_key_is_left_alone(town: TaskStreet) -> None:
    rule = town.rules["patrol"]
    key = routine_source_key(
        rule_id=rule.pk, target_kind="grid", target_id=town["g11"].pk, occurrence=MONDAYS[0]
    )
    existing = task_create(
        actor=None,
        source=TaskSource.ROUTINE,
        task_type=rule.task_type,
        area=town["g11"],
        title="已有",
        rule=rule,
        source_key=key,
        now=NOW,
    )
    summary = run(rule_codes=[rule.code])
    # task_create sets no occurrence, so the run cannot see the key up front: the batch
    # hits the unique key and is written again without it.
    assert (summary.created, summary.skipped) == (19, 1)
    assert Task.objects.get(source_key=key).pk == existing.pk
    assert Task.objects.count() == 20


@pytest.mark.django_db
def test_batches_give_the_same_result_and_report_progress(town: TaskStreet) -> None:
    seen: list[tuple[int, int]] = []
    summary = run(batch_size=7, progress=lambda done, total: seen.append((done, total)))
    assert summary.created == 32
    assert summary.batches == 5  # 7 + 7 + 7 + 7 + 4
    assert seen[0] == (0, 32)
    assert seen[-1] == (32, 32)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    assert TaskEvent.objects.count() == 64


@pytest.mark.django_db
def test_a_failed_batch_leaves_the_committed_ones_whole(
    town: TaskStreet, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = generation._Writer.write
    calls = {"n": 0}

    def failing(self: Any, rows: list[Any], keys: list[str]) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            real_write(self, rows[:3], keys[:3])  # half-written when the crash comes
            raise RuntimeError("power cut")
        real_write(self, rows, keys)

    monkeypatch.setattr(generation._Writer, "write", failing)
    with pytest.raises(RuntimeError):
        run(batch_size=10)
    assert Task.objects.count() == 20  # two whole batches, nothing of the third
    assert TaskEvent.objects.count() == 40
    monkeypatch.undo()
    summary = run(batch_size=10)
    assert (summary.created, summary.skipped) == (12, 20)
    assert Task.objects.values("source_key").distinct().count() == Task.objects.count() == 32


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_number_of_tasks(town: TaskStreet) -> None:
    with CaptureQueriesContext(connection) as small:
        run(rule_codes=[town.rules["visit"].code])
    assert Task.objects.count() == 2 * 5
    Task.objects.all().delete()
    for n in range(40):
        h = HouseholdFactory(area=town["g12"], address=f"新村{n}幢1单元101室")
        ResidentFactory(household=h, tags=[ResidentTag.ELDERLY])
    with CaptureQueriesContext(connection) as big:
        run(rule_codes=[town.rules["visit"].code])
    assert Task.objects.count() == 42 * 5
    assert len(big.captured_queries) == len(small.captured_queries)


# --- what is left out ----------------------------------------------------------------------


@pytest.mark.django_db
def test_inactive_rules_and_negative_list_types_are_skipped(town: TaskStreet) -> None:
    TaskRule.objects.filter(pk=town.rules["patrol"].pk).update(active=False)
    banned = TaskTypeFactory(
        category=town.types["patrol"].category, code="8890", negative_list=True
    )
    banned_rule = TaskRuleFactory(task_type=banned, code=f"{banned.code}01")
    summary = run()
    assert per_rule(town.rules["patrol"]) == 0
    assert per_rule(banned_rule) == 0
    assert summary.created == 12
    with pytest.raises(ValidationFailed, match=town.rules["patrol"].code):
        run(rule_codes=[town.rules["patrol"].code])
    with pytest.raises(ValidationFailed, match="No task rule has the code 999999"):
        run(rule_codes=["999999"])
    with pytest.raises(ValidationFailed, match=banned_rule.code):
        run(rule_codes=[banned_rule.code, town.rules["visit"].code])


@pytest.mark.django_db
def test_targets_in_retired_areas_get_no_task(town: TaskStreet) -> None:
    g21 = town["g21"]
    g21.valid_to = dt.date(2025, 6, 10)  # retired after the 9 June occurrence
    g21.save()
    summary = run(rule_codes=[town.rules["patrol"].code, town.rules["visit"].code])
    assert set(Task.objects.filter(area=g21).values_list("occurrence", flat=True)) == {
        MONDAYS[0],
        MONDAYS[1],
    }
    assert summary.retired == 3 + 3  # g21's patrol and the household ``pair`` in it
    assert summary.created == 30 - 6


@pytest.mark.django_db
def test_an_ancestor_not_yet_valid_retires_its_grids_too(town: TaskStreet) -> None:
    c2 = town["c2"]
    c2.valid_from = dt.date(2025, 6, 15)
    c2.save()
    run(rule_codes=[town.rules["patrol"].code])
    for grid in ("g21", "g22"):
        assert set(Task.objects.filter(area=town[grid]).values_list("occurrence", flat=True)) == (
            set(MONDAYS[2:])
        )
    assert Task.objects.filter(area=town["g11"]).count() == 5


@pytest.mark.django_db
def test_an_area_limits_the_targets(town: TaskStreet) -> None:
    run(area=town["c1"])
    codes = set(Task.objects.values_list("area__code", flat=True))
    assert codes == {town["g11"].code, town["g12"].code, town["m11"].code}
    assert Task.objects.count() == 2 * 5 + 5 + 1  # patrols, home's visits, one shop


# --- the daily job and the command -------------------------------------------------------


@pytest.mark.django_db
def test_the_daily_run_covers_today_and_tomorrow_once(town: TaskStreet) -> None:
    assert DAILY_WINDOW_DAYS == 2
    now = dt.datetime(2025, 6, 1, 0, 30, tzinfo=CST)
    summary = generation_run_daily(today=dt.date(2025, 6, 1), now=now)
    assert summary.start == dt.datetime(2025, 6, 1, tzinfo=CST)
    assert summary.end == dt.datetime(2025, 6, 3, tzinfo=CST)
    # 1 June: the shops; 2 June: four patrols and two visits.
    assert summary.created == 2 + 4 + 2
    assert generation_run_daily(today=dt.date(2025, 6, 1), now=now).created == 0
    # Without ``today`` it is the local date of ``now``.
    assert generation_run_daily(now=now).skipped == 8


@pytest.mark.django_db
def test_the_command_prints_a_json_summary(town: TaskStreet) -> None:
    out = StringIO()
    call_command("generate", "--from", "2025-06-01", "--until", "2025-07-01", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["created"] == 32
    assert summary["rules"][town.rules["visit"].code] == {"created": 10, "skipped": 0, "retired": 0}
    out = StringIO()
    call_command(
        "generate", "--from", "2025-06-01", "--until", "2025-07-01",
        "--rule", town.rules["patrol"].code, stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "0 created, 20 already there" in text
    assert town.rules["patrol"].code in text
    assert town.rules["visit"].code not in text


@pytest.mark.django_db
def test_the_command_limits_to_an_area(town: TaskStreet) -> None:
    out = StringIO()
    call_command(
        "generate", "--from", "2025-06-01", "--until", "2025-07-01", "--area", town["g22"].code,
        "--json", stdout=out,
    )  # fmt: skip
    assert json.loads(out.getvalue())["created"] == 5 + 1
    assert set(Task.objects.values_list("area", flat=True)) == {town["g22"].pk}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-07-01", "--until", "2025-06-01"], "empty"),
        (["--from", "2025-06-01", "--until", "2025-07-01", "--rule", "999999"], "999999"),
        (["--from", "2025-06-01", "--until", "2025-07-01", "--area", "123"], "123"),
        (["--from", "2025-06-01", "--until", "2025-07-01", "--batch-size", "0"], "batch size"),
        (["--from", "June", "--until", "2025-07-01"], "June"),
    ],
)
def test_the_command_refuses_bad_input_without_a_traceback(
    town: TaskStreet, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("generate", *args, stdout=StringIO(), stderr=StringIO())
    assert not Task.objects.exists()


def test_the_command_takes_a_number_of_days_from_today(town: TaskStreet) -> None:
    import time_machine

    with time_machine.travel(dt.datetime(2025, 6, 9, 9, 0, tzinfo=dt.UTC)):
        out = StringIO()
        call_command("generate", "--days", "7", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["from"].startswith("2025-06-09T00:00")
    assert summary["until"].startswith("2025-06-16T00:00")
    assert summary["created"] > 0


# --- lanes (several connections) -------------------------------------------------------------


def _written() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every generated task and timeline row, as comparable tuples."""
    tasks = sorted(
        Task.objects.values_list(
            "source_key", "number", "area_id", "assignee_id", "department_id",
            "needs_attention", "title", "deadline", "dispatched_at", "yellow_at",
        )
    )  # fmt: skip
    rows = sorted(
        (key, action, at, json.dumps(data, sort_keys=True))
        for key, action, at, data in TaskEvent.objects.values_list(
            "task__source_key", "action", "at", "data"
        )
    )
    return tasks, rows


@pytest.mark.django_db(transaction=True)
def test_lanes_write_exactly_what_one_connection_writes(
    town: TaskStreet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridgov.tasks.models import TaskNumberCounter
    from gridgov.tasks.tests.test_lanes import record_lanes

    used = record_lanes(monkeypatch)
    two = run(connections=2, batch_size=3)
    in_lanes = _written()
    # On PostgreSQL the dispatch days (the 1st and the five Mondays) alternate between
    # two connections; SQLite has one writer at a time and uses one.
    assert used == ({0, 1} if connection.vendor == "postgresql" else {0})
    Task.objects.all().delete()
    TaskNumberCounter.objects.all().delete()
    one = run(connections=1, batch_size=3)
    assert _written() == in_lanes
    assert two.as_dict() | {"batches": 0} == one.as_dict() | {"batches": 0}
    assert two.created == 32


@pytest.mark.django_db(transaction=True)
def test_a_failed_batch_in_a_lane_fails_the_run_and_leaves_the_others_whole(
    town: TaskStreet, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = generation._Writer.write

    def write(self: Any, rows: list[Any], keys: list[str]) -> None:
        if any(":20250630T" in key for key in keys):  # the last Monday's batches
            raise RuntimeError("disk full")
        real_write(self, rows, keys)

    monkeypatch.setattr(generation._Writer, "write", write)
    with pytest.raises(RuntimeError, match="disk full"):
        run(connections=2, batch_size=3)
    # Every batch written is whole; the failed one left nothing; a rerun fills the gap.
    assert not Task.objects.filter(source_key__contains=":20250630T").exists()
    for task in Task.objects.all():
        assert task.events.count() == 2
    monkeypatch.setattr(generation._Writer, "write", real_write)
    before = Task.objects.count()
    assert 0 < before < 32
    assert run(connections=2).created == 32 - before
    assert Task.objects.count() == 32
