"""Routing: department queue, least-loaded grid worker, party members, leader queue."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.people.choices import Role
from gridgov.people.models import Department
from gridgov.people.tests.factories import MembershipFactory, UserFactory
from gridgov.tasks.choices import TaskState
from gridgov.tasks.routing import Route, RoutingTable, route_task
from gridgov.tasks.tests.factories import TaskStreet, make_task


def test_it_routes_a_department_type_to_the_department_queue(street: TaskStreet) -> None:
    route = route_task(task_type=street.types["enforcement"], area=street["g11"])
    assert route == Route(
        area=street["g11"],
        assignee_id=None,
        department_id=street.department.pk,
        needs_attention=False,
    )


def test_it_sends_an_unknown_department_to_the_leader_queue(street: TaskStreet) -> None:
    Department.objects.filter(pk=street.department.pk).update(is_active=False)
    route = route_task(task_type=street.types["enforcement"], area=street["g11"])
    assert route.department_id is None
    assert route.assignee_id == street["wu"].pk
    assert route.needs_attention


def test_it_picks_the_grid_worker_with_the_fewest_open_tasks(street: TaskStreet) -> None:
    patrol = street.types["patrol"]
    # chen has two open tasks, chen2 one (plus closed ones, which do not count).
    for _ in range(2):
        make_task(area=street["g11"], task_type=patrol, assignee=street["chen"])
    make_task(area=street["g11"], task_type=patrol, assignee=street["chen2"])
    for _ in range(3):
        make_task(
            area=street["g11"], task_type=patrol, assignee=street["chen2"], state=TaskState.CLOSED
        )
    route = route_task(task_type=patrol, area=street["g11"])
    assert route.assignee_id == street["chen2"].pk
    assert not route.needs_attention


def test_it_breaks_ties_by_the_lowest_user_id(street: TaskStreet) -> None:
    route = route_task(task_type=street.types["patrol"], area=street["g11"])
    assert route.assignee_id == min(street["chen"].pk, street["chen2"].pk)


def test_it_routes_a_micro_grid_task_to_its_grids_worker_and_keeps_the_area(
    street: TaskStreet,
) -> None:
    route = route_task(task_type=street.types["patrol"], area=street["m11"])
    assert route.area == street["m11"]
    assert route.assignee_id in {street["chen"].pk, street["chen2"].pk}


def test_it_routes_a_party_member_type_in_a_micro_grid_to_its_party_member(
    street: TaskStreet,
) -> None:
    route = route_task(task_type=street.types["volunteer"], area=street["m11"])
    assert route.assignee_id == street["pm"].pk


def test_a_party_member_type_without_a_party_member_goes_to_the_grid_worker(
    street: TaskStreet,
) -> None:
    # m12 has no party member; and outside a micro-grid the type goes to the grid worker too.
    assert route_task(task_type=street.types["volunteer"], area=street["m12"]).assignee_id == (
        street["li"].pk
    )
    assert route_task(task_type=street.types["volunteer"], area=street["g12"]).assignee_id == (
        street["li"].pk
    )


def test_it_sends_a_grid_without_workers_to_the_grid_leader_queue(street: TaskStreet) -> None:
    # g22 has no worker; community c2 no grid leader → unassigned and flagged.
    route = route_task(task_type=street.types["patrol"], area=street["g22"])
    assert route == Route(street["g22"], None, None, True)
    # Give c2 a grid leader: the task waits in their queue, flagged.
    leader = UserFactory(username="c2leader")
    MembershipFactory(user=leader, area=street["c2"], role=Role.GRID_LEADER)
    route = route_task(task_type=street.types["patrol"], area=street["g22"])
    assert route == Route(street["g22"], leader.pk, None, True)


def test_a_grids_own_leader_comes_before_the_communitys(street: TaskStreet) -> None:
    own = UserFactory(username="g11leader")
    MembershipFactory(user=own, area=street["g11"], role=Role.GRID_LEADER)
    route = route_task(task_type=street.types["leader"], area=street["m11"])
    assert route.assignee_id == own.pk
    assert not route.needs_attention
    # Grid g12 has no own leader: the community's.
    assert route_task(task_type=street.types["leader"], area=street["g12"]).assignee_id == (
        street["wu"].pk
    )


def test_it_routes_a_community_admin_type_to_the_community_admin(street: TaskStreet) -> None:
    route = route_task(task_type=street.types["community"], area=street["g12"])
    assert route.assignee_id == street["lin"].pk
    # Community c2 has no admin and no grid leader: unassigned, flagged.
    route = route_task(task_type=street.types["community"], area=street["g21"])
    assert (route.assignee_id, route.needs_attention) == (None, True)


def test_inactive_users_are_not_candidates(street: TaskStreet) -> None:
    for name in ("chen", "chen2"):
        user = street[name]
        user.is_active = False
        user.save(update_fields=["is_active"])
    route = route_task(task_type=street.types["patrol"], area=street["g11"])
    assert (route.assignee_id, route.needs_attention) == (street["wu"].pk, True)


def test_it_uses_the_targets_area_when_no_area_is_given(street: TaskStreet) -> None:
    route = route_task(
        task_type=street.types["patrol"], area=None, target_place=street.places["shop"]
    )
    assert (route.area, route.assignee_id) == (street["g12"], street["li"].pk)
    with pytest.raises(ValueError, match="needs an area"):
        route_task(task_type=street.types["patrol"], area=None)


def test_a_table_balances_what_it_hands_out_without_queries(street: TaskStreet) -> None:
    make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    areas = [street[k] for k in ("g11", "m11", "g12", "g21", "g22")]
    table = RoutingTable.build(areas=areas)
    patrol = street.types["patrol"]
    with CaptureQueriesContext(connection) as queries:
        picks = [table.route(patrol, street["g11"]).assignee_id for _ in range(5)]
        other = table.route(patrol, street["g21"])
    assert len(queries) == 0
    chen, chen2 = street["chen"].pk, street["chen2"].pk
    # chen starts with one open task: chen2 gets the first, then they alternate.
    assert picks == [chen2, min(chen, chen2), max(chen, chen2), min(chen, chen2), max(chen, chen2)]
    assert abs((picks.count(chen) + 1) - picks.count(chen2)) <= 1
    assert other.assignee_id == street["zhao"].pk


def test_building_a_table_costs_a_fixed_number_of_queries(street: TaskStreet) -> None:
    areas = [street[k] for k in ("g11", "m11", "g12", "g21", "g22", "m21", "m22")]
    with CaptureQueriesContext(connection) as queries:
        RoutingTable.build(areas=areas)
    assert len(queries) == 3
