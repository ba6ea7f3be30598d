"""Households, residents and places through the services: location → area, identity,
tags, validation messages; memberships and departments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gridgov.areas.tests.factories import make_area
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.people import selectors, services
from gridgov.people.choices import ResidentTag, Role, Sex
from gridgov.people.models import Membership, Resident
from gridgov.people.tests.factories import DepartmentFactory, ResidentFactory, UserFactory

ID_1950_F = "330106195005175786"  # valid: born 1950-05-17, female


# --- households and places: location → area ----------------------------------------------


def test_household_with_a_location_in_a_micro_grid_gets_the_micro_grid(tree: Any) -> None:
    household = services.household_create(
        actor=None, address="古荡新村1幢1单元101室", lon=120.002, lat=30.002
    )
    assert household.area == tree["m11"]
    assert (household.lon, household.lat) == (120.002, 30.002)


def test_household_with_a_location_outside_micro_grids_gets_the_grid(tree: Any) -> None:
    household = services.household_create(
        actor=None, address="古荡新村2幢", lon=120.017, lat=30.008, area=tree["g12"]
    )
    assert household.area == tree["g12"]


def test_household_without_a_location_gets_the_grid_given(tree: Any) -> None:
    household = services.household_create(actor=None, address="某村8号", area=tree["g21"])
    assert household.area == tree["g21"]
    assert household.lon is None


def test_moving_a_households_location_moves_its_area(tree: Any) -> None:
    household = services.household_create(actor=None, address="x", area=tree["g21"])
    services.household_update(actor=None, household=household, data={"lon": 120.032, "lat": 30.001})
    household.refresh_from_db()
    assert household.area == tree["m22"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lon": 121.5, "lat": 31.2}, "inside no known area"),
        ({"lon": 120.002, "lat": 30.002, "area_key": "g21"}, "not inside"),
        ({"lon": 120.002}, "both longitude and latitude"),
        ({}, "Give a location or a grid"),
        ({"area_key": "c1"}, "belong to a grid or a micro-grid"),
        ({"lon": 200.0, "lat": 30.0}, "not a WGS84"),
    ],
)
def test_bad_locations_are_refused_clearly(tree: Any, kwargs: dict[str, Any], message: str) -> None:
    area_key = kwargs.pop("area_key", None)
    with pytest.raises(ValidationFailed) as exc:
        services.household_create(
            actor=None, address="x", area=tree[area_key] if area_key else None, **kwargs
        )
    assert message in exc.value.message


def test_a_place_is_located_like_a_household(tree: Any) -> None:
    place = services.place_create(
        actor=None,
        kind="restaurant",
        name="演示餐馆",
        lon=120.022,
        lat=30.003,
        contact_phone="0571 8800 1234",
    )
    assert place.area == tree["m21"]
    assert place.contact_phone == "0571-88001234"
    with pytest.raises(ValidationFailed, match="Unknown place kind"):
        services.place_create(actor=None, kind="casino", name="x", area=tree["g11"])


def test_household_phone_is_validated_and_normalised(tree: Any) -> None:
    household = services.household_create(
        actor=None, address="x", area=tree["g11"], phone="+86 139 0000 1234"
    )
    assert household.phone == "13900001234"
    with pytest.raises(ValidationFailed, match="Phone number 12345 is neither"):
        services.household_update(actor=None, household=household, data={"phone": "12345"})
    with pytest.raises(ValidationFailed, match="Cannot change colour"):
        services.household_update(actor=None, household=household, data={"colour": "red"})


# --- residents ----------------------------------------------------------------------------


@pytest.fixture
def household(tree: Any) -> Any:
    return services.household_create(actor=None, address="演示新村1幢1单元101室", area=tree["g11"])


def test_resident_takes_birth_date_and_sex_from_the_national_id(household: Any) -> None:
    resident = services.resident_create(
        actor=None,
        household=household,
        name=" 王甲乙 ",
        national_id=ID_1950_F.lower(),
        phone="13800001111",
        tags=[ResidentTag.ELDERLY, ResidentTag.LIVING_ALONE, ResidentTag.ELDERLY],
    )
    assert resident.name == "王甲乙"
    assert resident.birth_date == dt.date(1950, 5, 17)
    assert resident.sex == Sex.FEMALE
    assert resident.tags == [ResidentTag.ELDERLY, ResidentTag.LIVING_ALONE]


def test_resident_identity_must_agree(household: Any) -> None:
    with pytest.raises(ValidationFailed, match="does not match the one in the national ID"):
        services.resident_create(
            actor=None,
            household=household,
            name="王甲",
            national_id=ID_1950_F,
            birth_date=dt.date(1950, 5, 18),
        )
    with pytest.raises(ValidationFailed, match="does not match the national ID"):
        services.resident_create(
            actor=None, household=household, name="王甲", national_id=ID_1950_F, sex=Sex.MALE
        )
    with pytest.raises(ValidationFailed, match="wrong check character"):
        services.resident_create(
            actor=None, household=household, name="王甲", national_id="330106195005175787"
        )


def test_a_national_id_is_registered_once(household: Any) -> None:
    services.resident_create(actor=None, household=household, name="王甲", national_id=ID_1950_F)
    with pytest.raises(ValidationFailed, match="national_id"):
        services.resident_create(
            actor=None, household=household, name="李乙", national_id=ID_1950_F
        )


def test_resident_without_id_and_with_empty_name(household: Any) -> None:
    resident = services.resident_create(actor=None, household=household, name="李乙")
    assert resident.national_id is None
    services.resident_create(actor=None, household=household, name="赵丙")  # two NULL IDs
    with pytest.raises(ValidationFailed, match="name"):
        services.resident_create(actor=None, household=household, name="  ")
    with pytest.raises(ValidationFailed, match="Unknown resident tag"):
        services.resident_create(actor=None, household=household, name="王甲", tags=["vip"])


def test_resident_update_replaces_tags_and_rederives_identity(household: Any) -> None:
    resident = services.resident_create(
        actor=None, household=household, name="王甲", tags=[ResidentTag.ELDERLY]
    )
    services.resident_update(
        actor=None,
        resident=resident,
        data={"tags": [ResidentTag.DISABLED], "national_id": ID_1950_F},
    )
    resident = Resident.objects.get(pk=resident.pk)
    assert resident.tags == [ResidentTag.DISABLED]
    assert (resident.birth_date, resident.sex) == (dt.date(1950, 5, 17), Sex.FEMALE)


def test_households_with_a_tag_in_an_area_is_one_query(
    tree: Any, django_assert_num_queries: Any
) -> None:
    inside = services.household_create(actor=None, address="a", area=tree["m11"])
    other = services.household_create(actor=None, address="b", area=tree["g11"])
    outside = services.household_create(actor=None, address="c", area=tree["g21"])
    for hh in (inside, outside):
        ResidentFactory(household=hh, tags=[ResidentTag.LIVING_ALONE])
        ResidentFactory(household=hh, tags=[ResidentTag.LIVING_ALONE, ResidentTag.DISABLED])
    ResidentFactory(household=other, tags=[ResidentTag.DISABLED])
    with django_assert_num_queries(1):
        found = list(selectors.household_list(area=tree["c1"], tag=ResidentTag.LIVING_ALONE))
    assert found == [inside]  # once, although two of its residents match
    assert set(selectors.household_list(tag=ResidentTag.DISABLED)) == {inside, other, outside}


# --- memberships and departments ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "ok_levels"),
    [
        (Role.COMMAND_CENTRE, {"district", "street"}),
        (Role.COMMUNITY_ADMIN, {"c1"}),
        (Role.GRID_LEADER, {"c1", "g11"}),
        (Role.GRID_WORKER, {"g11"}),
        (Role.PARTY_MEMBER, {"g11", "m11"}),
    ],
)
def test_roles_fit_area_levels(tree: Any, role: str, ok_levels: set[str]) -> None:
    user = UserFactory(is_staff=False)
    for key in ("district", "street", "c1", "g11", "m11"):
        if key in ok_levels:
            services.membership_grant(actor=None, user=user, area=tree[key], role=role)
        else:
            with pytest.raises(ValidationFailed, match="cannot be held on a"):
                services.membership_grant(actor=None, user=user, area=tree[key], role=role)
    assert Membership.objects.filter(user=user).count() == len(ok_levels)
    user.refresh_from_db()
    assert user.is_staff


def test_department_handlers_need_a_department_covering_their_area(tree: Any) -> None:
    user = UserFactory()
    department = DepartmentFactory(area=tree["c1"])
    with pytest.raises(ValidationFailed, match="needs a department"):
        services.membership_grant(
            actor=None, user=user, area=tree["c1"], role=Role.DEPARTMENT_HANDLER
        )
    with pytest.raises(ValidationFailed, match="outside the area served"):
        services.membership_grant(
            actor=None,
            user=user,
            area=tree["c2"],
            role=Role.DEPARTMENT_HANDLER,
            department=department,
        )
    with pytest.raises(ValidationFailed, match="Only a department handler"):
        services.membership_grant(
            actor=None, user=user, area=tree["g11"], role=Role.GRID_WORKER, department=department
        )
    membership = services.membership_grant(
        actor=None,
        user=user,
        area=tree["g11"],
        role=Role.DEPARTMENT_HANDLER,
        department=department,
    )
    assert membership.department == department


def test_who_grants_what(tree: Any, audit_records: list[Any]) -> None:
    centre, admin1, leader, worker, target = (UserFactory() for _ in range(5))
    services.membership_grant(
        actor=None, user=centre, area=tree["street"], role=Role.COMMAND_CENTRE
    )
    services.membership_grant(actor=centre, user=admin1, area=tree["c1"], role=Role.COMMUNITY_ADMIN)
    services.membership_grant(actor=admin1, user=leader, area=tree["g11"], role=Role.GRID_LEADER)
    m = services.membership_grant(
        actor=leader, user=worker, area=tree["g11"], role=Role.GRID_WORKER
    )
    assert m.granted_by == leader
    # Idempotent.
    assert (
        services.membership_grant(
            actor=leader, user=worker, area=tree["g11"], role=Role.GRID_WORKER
        )
        == m
    )
    refusals = [
        (centre, tree["street"], Role.COMMAND_CENTRE, "may not grant"),
        (admin1, tree["c2"], Role.GRID_LEADER, "outside your areas"),
        (admin1, tree["c1"], Role.COMMUNITY_ADMIN, "may not grant"),
        (leader, tree["g12"], Role.GRID_WORKER, "outside your areas"),
        (worker, tree["g11"], Role.GRID_WORKER, "may not grant"),
    ]
    for actor, area, role, message in refusals:
        with pytest.raises(PermissionDenied, match=message):
            services.membership_grant(actor=actor, user=target, area=area, role=role)
    with pytest.raises(PermissionDenied):
        services.membership_revoke(actor=worker, membership=m)
    assert any("membership_grant" in r.getMessage() for r in audit_records)


def test_revoking_the_last_membership_ends_staff_access(tree: Any) -> None:
    user = UserFactory(is_staff=False)
    m = services.membership_grant(actor=None, user=user, area=tree["g11"], role=Role.GRID_WORKER)
    assert selectors.area_codes_visible_to(user) == [tree["g11"].code]
    services.membership_revoke(actor=None, membership=m)
    user.refresh_from_db()
    assert not user.is_staff
    assert selectors.area_codes_visible_to(user) == []


def test_departments_are_made_by_the_command_centre(tree: Any) -> None:
    centre, admin1 = UserFactory(), UserFactory()
    services.membership_grant(
        actor=None, user=centre, area=tree["street"], role=Role.COMMAND_CENTRE
    )
    services.membership_grant(actor=None, user=admin1, area=tree["c1"], role=Role.COMMUNITY_ADMIN)
    department = services.department_create(
        actor=centre, code="SW", name="水务", area=tree["street"]
    )
    services.department_update(actor=centre, department=department, data={"name": "水务站"})
    assert department.name == "水务站"
    with pytest.raises(PermissionDenied, match="command centre"):
        services.department_create(actor=admin1, code="JT", name="交通", area=tree["c1"])
    with pytest.raises(ValidationFailed, match="code"):
        services.department_create(actor=centre, code="SW", name="again", area=tree["street"])


# --- selectors ----------------------------------------------------------------------------


def test_area_codes_are_the_fewest_prefixes(tree: Any) -> None:
    user = UserFactory()
    for key, role in [
        ("c1", Role.COMMUNITY_ADMIN),
        ("g11", Role.GRID_WORKER),
        ("g21", Role.GRID_WORKER),
    ]:
        services.membership_grant(actor=None, user=user, area=tree[key], role=role)
    assert selectors.area_codes_visible_to(user) == [tree["c1"].code, tree["g21"].code]
    assert selectors.area_codes_visible_to(user, roles={Role.GRID_WORKER}) == [
        tree["g11"].code,
        tree["g21"].code,
    ]
    user.is_active = False
    assert selectors.area_codes_visible_to(user) == []


def test_scope_queryset_filters_any_model_by_its_area_path(tree: Any) -> None:
    user = UserFactory()
    services.membership_grant(actor=None, user=user, area=tree["g21"], role=Role.GRID_WORKER)
    inside = services.household_create(actor=None, address="a", area=tree["m21"])
    services.household_create(actor=None, address="b", area=tree["g11"])
    resident = ResidentFactory(household=inside)
    ResidentFactory(household__area=tree["g12"])
    assert list(
        selectors.scope_queryset(Resident.objects.all(), user, area_field="household__area")
    ) == [resident]
    assert selectors.scope_queryset(Resident.objects.all(), UserFactory()).count() == 0


def test_a_new_area_is_covered_by_code_prefix(tree: Any) -> None:
    user = UserFactory()
    services.membership_grant(actor=None, user=user, area=tree["c2"], role=Role.COMMUNITY_ADMIN)
    new_grid = make_area(code=f"{tree['c2'].code}003", parent=tree["c2"])
    assert selectors.user_can_access_area(user, new_grid)
