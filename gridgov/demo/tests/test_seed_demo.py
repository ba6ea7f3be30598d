from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from shapely.geometry import shape
from shapely.ops import unary_union

from gridgov.areas.models import Area, AreaLevel
from gridgov.catalog.selectors import catalog_stats
from gridgov.people.choices import ResidentTag, Role
from gridgov.people.models import Household, Membership, Place, Resident

pytestmark = pytest.mark.django_db


def _seed(*extra: str) -> dict:
    out = StringIO()
    call_command("seed_demo", "--scale", "small", "--json", *extra, stdout=out)
    return json.loads(out.getvalue())


def test_it_builds_the_small_street_through_the_services() -> None:
    summary = _seed()
    assert summary["created"]["areas"] == 1 + 1 + 2 + 8 + 16
    assert Area.objects.filter(level=AreaLevel.GRID).count() == 8
    assert Area.objects.filter(level=AreaLevel.MICRO_GRID).count() == 16
    assert catalog_stats() == {"categories": 6, "task_types": 60, "rules": 83}
    assert Household.objects.count() == 16 * 5
    assert Resident.objects.filter(tag_assignments__tag=ResidentTag.ELDERLY).exists()
    assert Place.objects.exists()
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    usernames = {login["username"] for login in summary["logins"]}
    assert {"admin", "zhou", "lin", "wu", "chen", "pm0001", "he"} <= usernames


def test_it_tessellates_without_gaps_or_overlaps() -> None:
    _seed()
    for parent in Area.objects.filter(level__in=[AreaLevel.COMMUNITY, AreaLevel.GRID]):
        children = [shape(child.boundary) for child in parent.children.all()]
        whole = shape(parent.boundary)
        assert all(child.is_valid for child in children)
        assert unary_union(children).symmetric_difference(whole).area < 1e-9 * whole.area
        assert sum(child.area for child in children) == pytest.approx(whole.area, rel=1e-6)


def test_it_places_every_household_in_its_micro_grid() -> None:
    _seed()
    for household in Household.objects.select_related("area"):
        assert household.area.level == AreaLevel.MICRO_GRID
        assert household.ref.startswith(f"demo-{household.area.code}-")


def test_a_rerun_creates_nothing() -> None:
    _seed()
    models = [Area, Household, Resident, Place, get_user_model(), Membership]
    counts = [model.objects.count() for model in models]
    again = _seed()
    assert not any(again["created"].values()), again["created"]
    assert [model.objects.count() for model in models] == counts


def test_the_demo_logins_work() -> None:
    _seed()
    from django.test import Client

    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "chen", "password": "gridgov-demo"}
    )
    assert response.status_code == 302, response.content[:500]
    assert client.get("/admin/").status_code == 200


def test_every_department_the_catalogue_routes_to_exists() -> None:
    from gridgov.catalog.models import TaskType
    from gridgov.people.models import Department

    _seed()
    routed = set(
        TaskType.objects.exclude(handler_department="").values_list("handler_department", flat=True)
    )
    assert routed
    assert routed <= set(Department.objects.values_list("code", flat=True))


def test_it_redraws_a_national_id_that_is_already_taken() -> None:
    import datetime as dt
    import random

    from gridgov.demo.seed import _household_members

    today = dt.date(2026, 11, 29)
    first = _household_members(random.Random(7), "young_single", today, set())[0]["national_id"]
    used = {first}
    again = _household_members(random.Random(7), "young_single", today, used)[0]["national_id"]
    assert again != first
    assert used == {first, again}


def test_a_rerun_leaves_areas_a_user_added_empty() -> None:
    from gridgov.areas.services import area_create
    from gridgov.areas.tests.factories import square

    _seed()
    grid = Area.objects.get(code="330106004001001")
    lon, lat = shape(grid.boundary).representative_point().coords[0]
    added = area_create(
        code="330106004001001099",
        name="用户新建的微网格",
        level=AreaLevel.MICRO_GRID,
        parent=grid,
        boundary=square(lon - 0.0001, lat - 0.0001, 0.0002),
    )
    again = _seed()
    assert not any(again["created"].values()), again["created"]
    assert not Household.objects.filter(area=added).exists()
    assert not Membership.objects.filter(area=added).exists()


def test_every_community_has_its_admin_and_every_department_a_handler() -> None:
    from gridgov.people.models import Department

    _seed()
    for community in Area.objects.filter(level=AreaLevel.COMMUNITY):
        roles = set(Membership.objects.filter(area=community).values_list("role", flat=True))
        assert {Role.GRID_LEADER, Role.COMMUNITY_ADMIN} <= roles, community.code
    for department in Department.objects.all():
        assert Membership.objects.filter(
            role=Role.DEPARTMENT_HANDLER, department=department
        ).exists(), department.code


def test_micro_grids_are_buildings_and_key_groups_are_present() -> None:
    from gridgov.people.choices import PlaceKind

    _seed()
    micro_grids = Area.objects.filter(level=AreaLevel.MICRO_GRID)
    buildings = Place.objects.filter(kind=PlaceKind.BUILDING).select_related("area")
    assert {b.area.code for b in buildings} == set(micro_grids.values_list("code", flat=True))
    tags = set(Resident.objects.values_list("tag_assignments__tag", flat=True))
    assert {ResidentTag.ELDERLY, ResidentTag.LIVING_ALONE, ResidentTag.FLOATING} <= tags
    assert ResidentTag.VETERAN in tags


def test_public_types_ask_residents_their_report_fields() -> None:
    from gridgov.catalog.models import TaskType
    from gridgov.open311.services import REPORT_FIELDS_DEFAULT

    _seed()
    text = REPORT_FIELDS_DEFAULT.read_text("utf-8")
    asked = TaskType.objects.filter(public=True).exclude(report_fields=[])
    assert asked.exists()
    assert all(t.code in text for t in asked)
