"""The access matrix: every role × records inside and outside its areas, for reads and
writes, through the selectors, the services and the Django admin.

The expectations are written out by hand (not derived from ``rules``), so that a change
of the rules shows up here as a failing line.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gridgov.core.errors import PermissionDenied
from gridgov.people import selectors, services
from gridgov.people.masking import mask_name
from gridgov.people.models import Household, Place, Resident
from gridgov.people.tests.conftest import ACTORS, TARGETS

ALL = set(TARGETS)
#: Who reads what (the records' areas are the keys of TARGETS).
READS: dict[str, set[str]] = {
    "superuser": ALL,
    "command_centre": ALL,  # the street
    "community_admin": {"m11", "g11", "g12"},  # community 1
    "grid_leader": {"m11", "g11"},  # grid 1-1
    "grid_worker": {"m11", "g11"},  # grid 1-1 and its micro-grid
    "party_member": {"m11"},  # micro-grid 1-1 only
    "department_handler": {"m11", "g11", "g12"},  # community 1
    "nobody": set(),
}
#: Who creates and changes households, residents and places where.
WRITES: dict[str, set[str]] = {
    "superuser": ALL,
    "command_centre": ALL,
    "community_admin": {"m11", "g11", "g12"},
    "grid_leader": {"m11", "g11"},
    "grid_worker": {"m11", "g11"},
    "party_member": set(),
    "department_handler": set(),
    "nobody": set(),
}

_DWELLING_ALL = {"g11", "g12", "g21", "g22", "m11", "m12", "m21", "m22"}
#: The grid and micro-grid choices on the household form.
AREA_CHOICES: dict[str, set[str]] = {
    "superuser": _DWELLING_ALL,
    "command_centre": _DWELLING_ALL,
    "community_admin": {"g11", "g12", "m11", "m12"},
    "grid_leader": {"g11", "m11"},
    "grid_worker": {"g11", "m11"},
    "party_member": set(),
    "department_handler": set(),
    "nobody": set(),
}

MATRIX = [(actor, target) for actor in ACTORS for target in TARGETS]


def test_the_expectation_tables_cover_every_actor() -> None:
    assert set(READS) == set(WRITES) == set(ACTORS)


@pytest.mark.parametrize(("actor", "target"), MATRIX)
def test_selectors_read_matrix(world: Any, actor: str, target: str) -> None:
    user = world.users[actor]
    expected = target in READS[actor]
    assert household_in(selectors.household_list_visible_to(user), world, target) is expected
    assert (
        selectors.resident_list_visible_to(user).filter(pk=world.residents[target].pk).exists()
        is expected
    )
    assert (
        selectors.place_list_visible_to(user).filter(pk=world.places[target].pk).exists()
        is expected
    )
    assert selectors.user_can_access_area(user, world.tree[target]) is expected
    assert selectors.area_queryset_visible_to(user).filter(pk=world.tree[target].pk).exists() is (
        expected
    )


def household_in(qs: Any, world: Any, target: str) -> bool:
    return qs.filter(pk=world.households[target].pk).exists()


@pytest.mark.parametrize(("actor", "target"), MATRIX)
def test_services_write_matrix(world: Any, actor: str, target: str) -> None:
    user = world.users[actor]
    household = world.households[target]
    resident = world.residents[target]
    place = world.places[target]
    area = world.tree[target]
    if target in WRITES[actor]:
        services.household_update(actor=user, household=household, data={"phone": "13900000001"})
        services.resident_update(actor=user, resident=resident, data={"phone": "13900000002"})
        services.place_update(actor=user, place=place, data={"contact_phone": "13900000003"})
        created = services.household_create(actor=user, address="新楼1幢1单元101室", area=area)
        services.resident_create(actor=user, household=created, name="测甲")
        services.place_create(actor=user, kind="shop", name="新店", area=area)
        assert Household.objects.get(pk=household.pk).phone == "13900000001"
        assert Resident.objects.get(pk=resident.pk).phone == "13900000002"
        assert Place.objects.get(pk=place.pk).contact_phone == "13900000003"
        return
    calls = [
        lambda: services.household_update(actor=user, household=household, data={"phone": ""}),
        lambda: services.resident_update(actor=user, resident=resident, data={"phone": ""}),
        lambda: services.place_update(actor=user, place=place, data={"contact_phone": ""}),
        lambda: services.household_create(actor=user, address="新楼1幢1单元101室", area=area),
        lambda: services.resident_create(actor=user, household=household, name="测甲"),
        lambda: services.place_create(actor=user, kind="shop", name="新店", area=area),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert Household.objects.get(pk=household.pk).phone == household.phone != ""
    assert Resident.objects.get(pk=resident.pk).phone == resident.phone != ""
    assert Household.objects.count() == len(TARGETS)
    assert Resident.objects.count() == len(TARGETS)
    assert Place.objects.count() == len(TARGETS)


def test_a_move_needs_write_rights_at_both_ends(world: Any) -> None:
    worker = world.users["grid_worker"]
    with pytest.raises(PermissionDenied):
        services.household_update(
            actor=worker, household=world.households["g11"], data={"area": world.tree["g21"]}
        )
    with pytest.raises(PermissionDenied):
        services.resident_update(
            actor=worker,
            resident=world.residents["m11"],
            data={"household": world.households["g12"]},
        )
    assert Resident.objects.get(pk=world.residents["m11"].pk).household == world.households["m11"]


# --- the admin ----------------------------------------------------------------------------


def _client(world: Any, actor: str) -> Client:
    client = Client()
    client.force_login(world.users[actor])
    return client


ADMIN_MODELS = ["household", "resident", "place"]


@pytest.mark.parametrize("actor", ACTORS)
def test_admin_changelists_show_only_records_inside(world: Any, actor: str) -> None:
    client = _client(world, actor)
    for model in ADMIN_MODELS:
        response = client.get(reverse(f"admin:people_{model}_changelist"))
        if not READS[actor]:
            assert response.status_code in (302, 403)
            continue
        assert response.status_code == 200
        content = response.content.decode()
        records = getattr(world, f"{model}s")
        for target in TARGETS:
            link = reverse(f"admin:people_{model}_change", args=[records[target].pk])
            assert (link in content) is (target in READS[actor]), (model, target)
        for resident in world.residents.values():
            assert resident.national_id not in content
            assert resident.phone not in content


@pytest.mark.parametrize(("actor", "target"), MATRIX)
def test_admin_object_pages_outside_never_show_the_data(
    world: Any, actor: str, target: str
) -> None:
    client = _client(world, actor)
    resident = world.residents[target]
    for model, obj in [
        ("household", world.households[target]),
        ("resident", resident),
        ("place", world.places[target]),
    ]:
        for view in ("change", "history", "delete", "reveal"):
            response = client.get(reverse(f"admin:people_{model}_{view}", args=[obj.pk]))
            content = response.content.decode()
            assert resident.national_id not in content
            assert resident.phone not in content
            assert resident.name not in content
            if target not in READS[actor]:
                assert response.status_code in (302, 403, 404), (model, view)
        response = client.get(reverse(f"admin:people_{model}_change", args=[obj.pk]))
        assert (response.status_code == 200) is (target in READS[actor])
    if target in READS[actor]:
        page = client.get(reverse("admin:people_resident_change", args=[resident.pk]))
        assert mask_name(resident.name) in page.content.decode()


@pytest.mark.parametrize(("actor", "target"), MATRIX)
def test_admin_change_posts_are_scoped(world: Any, actor: str, target: str) -> None:
    client = _client(world, actor)
    place = world.places[target]
    response = client.post(
        reverse("admin:people_place_change", args=[place.pk]),
        {
            "kind": place.kind,
            "name": "改名",
            "address": place.address,
            "area": world.tree[target].pk,
            "lon": "",
            "lat": "",
            "contact_phone": "",
            "ref": "",
        },
    )
    renamed = Place.objects.get(pk=place.pk).name == "改名"
    assert renamed is (target in WRITES[actor]), response.status_code
    if target in WRITES[actor]:
        assert response.status_code == 302
        # Blank personal field = keep: the stored phone survives the form.
        assert Place.objects.get(pk=place.pk).contact_phone == place.contact_phone


@pytest.mark.parametrize("actor", ACTORS)
def test_admin_area_choices_are_scoped(world: Any, actor: str) -> None:
    client = _client(world, actor)
    response = client.get(reverse("admin:people_household_add"))
    if not WRITES[actor]:
        assert response.status_code in (302, 403)
        return
    assert response.status_code == 200
    content = response.content.decode()
    for key, area in world.tree.items():
        offered = f'value="{area.pk}"' in content
        assert offered is (key in AREA_CHOICES[actor]), key
