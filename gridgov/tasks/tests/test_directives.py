"""Directives: expansion to grids, one task per grid, idempotent fan-out, permissions,
progress figures and the patrol-coverage indicator (see ``gridgov.tasks.directives``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from gridgov.areas.tests.factories import make_area
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.people.choices import ResidentTag, Role
from gridgov.people.tests.factories import HouseholdFactory, MembershipFactory, UserFactory
from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.directives import (
    directive_issue,
    directive_list_visible_to,
    directive_progress,
    directive_tasks_create,
    percent,
)
from gridgov.tasks.models import Directive, Task
from gridgov.tasks.tests.factories import TaskStreet, make_task

CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=CST)  # a Monday
DEADLINE = dt.datetime(2025, 6, 6, 17, 30, tzinfo=CST)


def issue(street: TaskStreet, actor: Any, areas: list[Any], **kwargs: Any) -> Directive:
    values: dict[str, Any] = {
        "title": "防汛隐患排查",
        "instruction": "排查辖区内低洼地带、地下车库的防汛隐患，周五前反馈。",
        "task_type": street.types["patrol"],
        "deadline": DEADLINE,
        "now": NOW,
    }
    values.update(kwargs)
    return directive_issue(actor=actor, areas=areas, **values)


# --- expansion, one task per grid, idempotence ----------------------------------------------


def test_it_expands_a_community_to_its_grids_with_one_dispatched_task_each(
    street: TaskStreet,
) -> None:
    directive = issue(street, street["zhou"], [street["c1"]])

    tasks = list(directive.tasks.order_by("area__code"))
    assert [t.area for t in tasks] == [street["g11"], street["g12"]]
    for task in tasks:
        assert task.source == TaskSource.DIRECTIVE
        assert task.state == TaskState.DISPATCHED
        assert task.deadline == DEADLINE
        assert task.title == "防汛隐患排查"
        assert task.source_key == f"directive:{directive.pk}:{task.area_id}"
    assert tasks[0].assignee in (street["chen"], street["chen2"])
    assert tasks[1].assignee == street["li"]
    assert list(directive.areas.all()) == [street["c1"]]
    assert directive.issued_by == street["zhou"]


def test_it_counts_a_grid_named_twice_once_and_skips_grids_not_in_force(
    street: TaskStreet,
) -> None:
    g12 = street["g12"]
    g12.valid_to = dt.date(2025, 5, 1)  # redrawn before the day of issue
    g12.save(update_fields=["valid_to"])

    directive = issue(street, street["zhou"], [street["c1"], street["g11"], street["g21"]])

    assert sorted(directive.tasks.values_list("area__code", flat=True)) == [
        street["g11"].code,
        street["g21"].code,
    ]


def test_a_street_expands_to_every_grid_and_an_empty_grid_is_flagged(street: TaskStreet) -> None:
    directive = issue(street, street["zhou"], [street["street"]])

    by_grid = {t.area.code[-6:]: t for t in directive.tasks.select_related("area")}
    assert sorted(by_grid) == ["001001", "001002", "002001", "002002"]
    # Grid g22 has no worker and its community no leader: unassigned, flagged.
    assert by_grid["002002"].assignee is None
    assert by_grid["002002"].needs_attention is True


def test_rerunning_the_fan_out_creates_nothing_twice(street: TaskStreet) -> None:
    directive = issue(street, street["zhou"], [street["c1"]])
    assert directive_tasks_create(actor=street["zhou"], directive=directive, now=NOW) == []
    assert directive.tasks.count() == 2

    # A crash between the directive and its tasks: the rerun creates the missing ones only.
    crashed = Directive.objects.create(
        title="晚到的指令",
        instruction="补发",
        task_type=street.types["patrol"],
        deadline=DEADLINE,
    )
    crashed.areas.set([street["c2"]])
    first = directive_tasks_create(actor=None, directive=crashed, now=NOW)
    again = directive_tasks_create(actor=None, directive=crashed, now=NOW)
    assert sorted(t.area.code for t in first) == [street["g21"].code, street["g22"].code]
    assert again == []
    assert Task.objects.filter(directive=crashed).count() == 2


# --- permissions and validation -------------------------------------------------------------


def test_a_grid_worker_cannot_issue(street: TaskStreet) -> None:
    with pytest.raises(PermissionDenied, match="Only the command centre or a community admin"):
        issue(street, street["chen"], [street["g11"]])
    assert not Directive.objects.exists()


def test_a_community_admin_issues_inside_their_community_only(street: TaskStreet) -> None:
    directive = issue(street, street["lin"], [street["c1"]])
    assert directive.tasks.count() == 2
    with pytest.raises(PermissionDenied, match="outside the areas"):
        issue(street, street["lin"], [street["c1"], street["g21"]])
    assert Directive.objects.count() == 1


def test_a_command_centre_cannot_issue_outside_its_street(street: TaskStreet) -> None:
    other_street = make_area(code="330106005", name="西溪街道", parent=street["district"])
    other_centre = UserFactory(username="other_centre")
    MembershipFactory(user=other_centre, area=other_street, role=Role.COMMAND_CENTRE)

    with pytest.raises(PermissionDenied, match="outside the areas"):
        issue(street, other_centre, [street["c1"]])
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"areas_key": "m11"}, "not to"),
        ({"deadline": NOW - dt.timedelta(hours=1)}, "not in the future"),
        ({"deadline": NOW + dt.timedelta(days=400)}, "more than 366 days ahead"),
        ({"title": "  "}, "needs a title"),
        ({"title": "长" * 201}, "at most 200 characters"),
        ({"instruction": ""}, "needs an instruction"),
        ({"priority": "whenever"}, "Unknown priority"),
        ({"indicator": "happiness", "indicator_target": 90}, "Unknown indicator"),
        ({"indicator": "patrol_coverage", "indicator_target": 120}, "between 0 and 100"),
        ({"indicator": "patrol_coverage", "indicator_target": "lots"}, "between 0 and 100"),
        ({"indicator": "patrol_coverage"}, "between 0 and 100"),
        ({"indicator_target": 90}, "needs an indicator"),
        (
            {
                "indicator": "patrol_coverage",
                "indicator_target": 90,
                "period_start": dt.date(2025, 6, 30),
                "period_end": dt.date(2025, 6, 1),
            },
            "before it starts",
        ),
    ],
)
def test_it_refuses_bad_input_and_changes_nothing(
    street: TaskStreet, kwargs: dict[str, Any], message: str
) -> None:
    areas = [street[kwargs.pop("areas_key", "c1")]]
    with pytest.raises(ValidationFailed, match=message):
        issue(street, street["zhou"], areas, **kwargs)
    assert not Directive.objects.exists()
    assert not Task.objects.exists()


# --- progress ---------------------------------------------------------------------------------


def test_progress_aggregates_the_tasks(street: TaskStreet) -> None:
    directive = issue(street, street["zhou"], [street["street"]])
    tasks = {t.area.code[-6:]: t for t in directive.tasks.select_related("area")}

    def set_state(key: str, state: str, **fields: Any) -> None:
        Task.objects.filter(pk=tasks[key].pk).update(state=state, **fields)

    # g11 closed before the deadline, g12 closed after it, g21 still open, g22 cancelled.
    set_state("001001", TaskState.CLOSED, closed_at=DEADLINE - dt.timedelta(days=1))
    set_state("001002", TaskState.CLOSED, closed_at=DEADLINE + dt.timedelta(hours=2))
    set_state("002001", TaskState.ACCEPTED)
    set_state("002002", TaskState.CANCELLED, cancelled_at=NOW)

    before = directive_progress(directive=directive, now=DEADLINE - dt.timedelta(hours=1))
    after = directive_progress(directive=directive, now=DEADLINE + dt.timedelta(days=1))

    expected = {
        "issued": 4,
        "closed": 2,
        "open": 1,
        "cancelled": 1,
        "closed_on_time": 1,
        "due": 3,
        "closure_rate": Decimal("66.67"),
        "on_time_rate": Decimal("33.33"),
        "indicator": None,
    }
    assert {k: after[k] for k in expected} == expected
    assert before["overdue"] == 0
    assert after["overdue"] == 1
    grids = after["grids"]
    assert [g["grid_code"][-6:] for g in grids] == ["001001", "001002", "002001", "002002"]
    assert [(g["state"], g["closed_on_time"], g["overdue"]) for g in grids] == [
        (TaskState.CLOSED, True, False),
        (TaskState.CLOSED, False, False),
        (TaskState.ACCEPTED, False, True),
        (TaskState.CANCELLED, False, False),
    ]


def test_a_suspended_task_is_not_counted_overdue(street: TaskStreet) -> None:
    directive = issue(street, street["zhou"], [street["g11"]])
    Task.objects.filter(directive=directive).update(suspended_at=NOW)
    progress = directive_progress(directive=directive, now=DEADLINE + dt.timedelta(days=3))
    assert (progress["open"], progress["overdue"]) == (1, 0)


def test_percent_rounds_half_up_and_is_undefined_over_zero() -> None:
    assert percent(2, 3) == Decimal("66.67")
    assert percent(1, 8) == Decimal("12.50")
    assert percent(1, 200) == Decimal("0.50")
    assert percent(0, 0) is None


# --- the patrol-coverage indicator ------------------------------------------------------------


def test_patrol_coverage_counts_distinct_households_visited_in_the_period(
    street: TaskStreet, django_assert_num_queries: Any
) -> None:
    """g11: 4 households (1 in its micro-grid), 2 visited → 50%; g12: 2 households, both
    visited → 100%; c1 overall 4 / 6 = 66.67%; target 75% → g11 not met, g12 met."""
    g11, g12, m11 = street["g11"], street["g12"], street["m11"]
    home = street.households["home"]  # in m11, so in g11
    h11 = [home, *(HouseholdFactory(area=g11) for _ in range(2)), HouseholdFactory(area=m11)]
    h12 = [HouseholdFactory(area=g12) for _ in range(2)]
    HouseholdFactory(area=street["g21"])  # another community: not counted
    visit, patrol = street.rules["visit"], street.rules["patrol"]
    in_june = dt.datetime(2025, 6, 10, 10, 0, tzinfo=CST)

    def visited(household: Any, *, at: dt.datetime = in_june, **fields: Any) -> None:
        values: dict[str, Any] = {
            "source": TaskSource.ROUTINE,
            "rule": visit,
            "target_household": household,
            "state": TaskState.CLOSED,
        }
        values.update(fields)
        make_task(area=household.area, task_type=street.types["patrol"], at=at, **values)

    visited(h11[0])
    visited(h11[0], at=in_june + dt.timedelta(days=7))  # the same household again: once
    visited(h11[1], at=dt.datetime(2025, 6, 30, 23, 59, tzinfo=CST))  # last minute: counts
    # Not counted: handled but not verified; before the period; after it; a grid rule;
    # a worker's report about a household.
    visited(h11[2], state=TaskState.HANDLED)
    visited(h11[2], at=dt.datetime(2025, 5, 31, 23, 59, tzinfo=CST))
    visited(h11[3], at=dt.datetime(2025, 7, 1, 0, 0, tzinfo=CST))
    visited(h11[3], rule=patrol)
    visited(h11[3], source=TaskSource.WORKER_REPORT, rule=None)
    visited(h12[0])
    visited(h12[1])

    directive = issue(
        street,
        street["zhou"],
        [street["c1"]],
        indicator="patrol_coverage",
        indicator_target=75,
        period_start=dt.date(2025, 6, 1),
        period_end=dt.date(2025, 6, 30),
    )
    with django_assert_num_queries(4):  # tasks, grids, households, visits
        progress = directive_progress(directive=directive, now=NOW)

    indicator = progress["indicator"]
    assert {k: indicator[k] for k in ("name", "target", "numerator", "denominator", "value")} == {
        "name": "patrol_coverage",
        "target": Decimal("75.00"),
        "numerator": 4,
        "denominator": 6,
        "value": Decimal("66.67"),
    }
    assert (indicator["grids_met"], indicator["grids_not_met"], indicator["met"]) == (1, 1, False)
    assert [(g["grid_code"], g["indicator"]) for g in progress["grids"]] == [
        (g11.code, {"numerator": 2, "denominator": 4, "value": Decimal("50.00"), "met": False}),
        (g12.code, {"numerator": 2, "denominator": 2, "value": Decimal("100.00"), "met": True}),
    ]


def test_the_indicator_period_defaults_to_issue_day_through_deadline_day(
    street: TaskStreet,
) -> None:
    directive = issue(
        street, street["zhou"], [street["g21"]], indicator="patrol_coverage", indicator_target=95
    )
    assert (directive.indicator_period_start, directive.indicator_period_end) == (
        dt.date(2025, 6, 2),
        dt.date(2025, 6, 6),
    )
    progress = directive_progress(directive=directive, now=NOW)
    # No household in g21: the coverage is undefined, neither met nor missed.
    assert progress["grids"][0]["indicator"] == {
        "numerator": 0,
        "denominator": 0,
        "value": None,
        "met": None,
    }
    assert (progress["indicator"]["grids_undefined"], progress["indicator"]["met"]) == (1, False)


def test_directives_are_listed_to_those_who_see_their_grids(street: TaskStreet) -> None:
    in_c1 = issue(street, street["zhou"], [street["c1"]])
    in_c2 = issue(street, street["zhou"], [street["c2"]])
    assert list(directive_list_visible_to(street["lin"])) == [in_c1]
    assert list(directive_list_visible_to(street["zhou"])) == [in_c2, in_c1]
    assert list(directive_list_visible_to(street["nobody"])) == []


def test_it_uses_the_elderly_tag_free_household_count(street: TaskStreet) -> None:
    """Households in the grid are all of them, tagged or not (GLOSSARY: households in the
    grid), whatever tag the visiting rule selects."""
    assert street.rules["visit"].target_tag == ResidentTag.ELDERLY
    HouseholdFactory(area=street["g22"])
    directive = issue(
        street, street["zhou"], [street["g22"]], indicator="patrol_coverage", indicator_target=50
    )
    row = directive_progress(directive=directive, now=NOW)["grids"][0]
    assert row["indicator"]["denominator"] == 1
