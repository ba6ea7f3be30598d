"""The simulator on the small demo street: determinism, figures, idempotency, the command."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone, translation

from gridgov.analytics.selectors import task_figures
from gridgov.areas.models import Area, AreaLevel
from gridgov.demo.seed import seed_demo
from gridgov.simulation.management.commands.simulate import HEADLINE, JSON_KEYS
from gridgov.simulation.models import SimulatedDay
from gridgov.simulation.rates import Knobs
from gridgov.simulation.services import simulation_run
from gridgov.tasks.choices import TaskAction, TaskSource, TaskState
from gridgov.tasks.models import Task, TaskEvent

pytestmark = pytest.mark.django_db

#: A Monday to Wednesday in the past (working days on the official calendar).
START = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def _street() -> None:
    seed_demo(scale="small")


def _snapshot() -> list[tuple[Any, ...]]:
    return sorted(
        Task.objects.values_list(
            "number", "source", "state", "assignee__username", "rework_count", "closed_at",
            "deadline", "is_overdue", "escalation_level",
        )
    )  # fmt: skip


class _Undo(Exception):
    pass


def _undone(run: Callable[[], Any]) -> Any:
    """Call ``run`` in a savepoint, then roll everything it wrote back; return its result."""
    result = None
    try:
        with transaction.atomic():
            result = run()
            raise _Undo
    except _Undo:
        pass
    return result


@pytest.mark.usefixtures("_street")
def test_same_seed_gives_the_same_tasks_and_figures() -> None:
    first, before = _undone(lambda: (simulation_run(days=3, start=START, seed=7), _snapshot()))
    assert not Task.objects.exists()
    assert not SimulatedDay.objects.exists()

    second = simulation_run(days=3, start=START, seed=7)

    assert _snapshot() == before
    assert second.figures == first.figures
    assert second.counts == first.counts
    # A real street's worth of work happened, all through the services.
    assert first.counts["reports_created"] > 0
    assert first.counts["routine_generated"] > 0
    assert first.counts["verified_pass"] > 0
    assert first.counts["refused"] == 0, first.problems
    assert Task.objects.filter(state=TaskState.CLOSED).exists()


@pytest.mark.usefixtures("_street")
def test_another_seed_gives_other_reports() -> None:
    def reports() -> set[tuple[Any, ...]]:
        return set(Task.objects.exclude(source=TaskSource.ROUTINE).values_list("source_key", "lon"))

    one = _undone(lambda: (simulation_run(days=2, start=START, seed=1), reports())[1])
    simulation_run(days=2, start=START, seed=2)
    two = reports()
    assert one != two


@pytest.mark.usefixtures("_street")
def test_figures_are_those_of_task_figures_and_the_timeline() -> None:
    report = simulation_run(days=3, start=START, seed=11)
    end = START + dt.timedelta(days=2)
    now = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))

    assert report.figures == task_figures(start=START, end=end, now=now)
    # Every closed task went through a verification that passed, and the counts say so.
    closed = Task.objects.filter(state=TaskState.CLOSED).count()
    assert closed == report.counts["verified_pass"]
    assert TaskEvent.objects.filter(action=TaskAction.VERIFY_PASS).count() == closed
    assert report.counts["verified_fail"] == Task.objects.filter(rework_count__gt=0).count()
    assert report.counts["extension_approved"] == Task.objects.filter(extension_count=1).count()
    reports = Task.objects.filter(
        source__in=[TaskSource.WORKER_REPORT, TaskSource.RESIDENT_REPORT]
    ).count()
    assert reports == report.counts["reports_created"]
    # Simulated history is dated on the simulated days, not today.
    span = Task.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert timezone.localdate(span["first"]) == START
    assert timezone.localdate(span["last"]) == end
    # Feedback comes from the holder, verification from someone else, on the timeline.
    for event in TaskEvent.objects.filter(action=TaskAction.VERIFY_PASS).select_related("task")[
        :50
    ]:
        assert event.actor_id is not None
        assert event.actor_id != event.task.assignee_id


@pytest.mark.usefixtures("_street")
def test_the_command_prints_json_and_a_rerun_simulates_nothing_again() -> None:
    out = StringIO()
    args = ["simulate", "--days", "2", "--start", START.isoformat(), "--seed", "5", "--json"]
    call_command(*args, stdout=out, stderr=StringIO())
    data = json.loads(out.getvalue())

    assert tuple(data) == JSON_KEYS
    assert set(HEADLINE) <= set(data["figures"])
    assert data["days_simulated"] == 2
    assert data["days_skipped"] == 0
    assert data["knobs"] == {"workers_factor": 1.0, "capacity": 10, "event_rate_factor": 1.0}
    assert list(SimulatedDay.objects.values_list("day", flat=True)) == [
        START,
        START + dt.timedelta(days=1),
    ]
    # The figures are the same as `gridgov stats` for the same period.
    stats = StringIO()
    end = (START + dt.timedelta(days=1)).isoformat()
    call_command("stats", "--from", START.isoformat(), "--to", end, "--json", stdout=stats)
    figures = json.loads(stats.getvalue())
    for key in HEADLINE:
        if key != "overdue_open":  # "now" differs: the end of the run vs the wall clock
            assert data["figures"][key] == figures[key], key

    tasks, events = Task.objects.count(), TaskEvent.objects.count()
    again = StringIO()
    call_command(*args, stdout=again, stderr=StringIO())
    rerun = json.loads(again.getvalue())
    assert rerun["days_simulated"] == 0
    assert rerun["days_skipped"] == 2
    assert (Task.objects.count(), TaskEvent.objects.count()) == (tasks, events)


@pytest.mark.usefixtures("_street")
def test_absent_workers_do_nothing_and_an_area_limits_the_reports() -> None:
    community = Area.objects.filter(level=AreaLevel.COMMUNITY).order_by("code").first()
    assert community is not None
    report = simulation_run(
        days=2, start=START, seed=3, area=community, knobs=Knobs(workers_factor=0.5, capacity=4)
    )
    assert report.area == community.code
    assert report.counts["refused"] == 0, report.problems
    reports = Task.objects.filter(source__in=[TaskSource.WORKER_REPORT, TaskSource.RESIDENT_REPORT])
    assert reports.exists()
    assert not reports.exclude(area__code__startswith=community.code).exists()
    # Half the grid workers were away: none of them accepted or handled anything.
    from gridgov.simulation.services import _Street

    away = _Street(area=community, seed=3, knobs=Knobs(workers_factor=0.5)).absent
    assert away
    acting = TaskEvent.objects.filter(
        action__in=[TaskAction.ACCEPT, TaskAction.SUBMIT_FEEDBACK], actor_id__in=away
    )
    assert not acting.exists()
    assert SimulatedDay.objects.get(day=START).area_code == community.code


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "1 to 366"),
        (["--days", "2", "--start", "2999-01-01"], "fills the past"),
        (["--days", "1", "--workers-factor", "1.5"], "workers factor"),
        (["--days", "1", "--capacity", "0"], "capacity"),
        (["--days", "1", "--start", "March"], "not a date"),
        (["--days", "1", "--area", "999"], "999"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(args: list[str], message: str) -> None:
    with translation.override("en"), pytest.raises(CommandError, match=message):
        call_command("simulate", *args, stdout=StringIO(), stderr=StringIO())
    assert not Task.objects.exists()
    assert not SimulatedDay.objects.exists()


@pytest.mark.usefixtures("_street")
def test_the_printed_summary_names_its_actions_in_the_users_language() -> None:
    out = StringIO()
    args = ["simulate", "--days", "2", "--start", START.isoformat(), "--seed", "5"]
    with translation.override("zh-hans"):
        call_command(*args, stdout=out, stderr=StringIO())
    [line] = [x for x in out.getvalue().splitlines() if x.startswith("操作：")]
    assert "派遣" in line
    assert "超期扫描" in line
    # No raw key is left (the JSON keeps them; the summary is for people).
    assert not re.search(r"[a-z]_[a-z]|\b(dispatched|accepted|sweeps)\b", line), line
