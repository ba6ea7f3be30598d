"""The admin as non-superuser staff use it: writes through the services, masked forms
that keep what is left blank, search by exact values only where one may see them."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from gridgov.people.choices import ResidentTag, Role
from gridgov.people.models import Household, Membership, Resident
from gridgov.people.tests.factories import UserFactory


def _client(world: Any, actor: str) -> Client:
    client = Client()
    client.force_login(world.users[actor])
    return client


INLINE_EMPTY = {"residents-TOTAL_FORMS": "0", "residents-INITIAL_FORMS": "0"}


def test_adding_a_household_with_a_location_places_it_in_the_micro_grid(world: Any) -> None:
    client = _client(world, "grid_worker")
    response = client.post(
        reverse("admin:people_household_add"),
        {
            "address": "新村9幢1单元101室",
            "lon": "120.001",
            "lat": "30.001",
            "area": "",
            "phone": "139 0000 5555",
            "away_until": "",
            "ref": "",
            **INLINE_EMPTY,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    household = Household.objects.get(address="新村9幢1单元101室")
    assert household.area == world.tree["m11"]
    assert household.phone == "13900005555"


def test_a_location_outside_ones_areas_is_a_form_error(world: Any) -> None:
    client = _client(world, "grid_worker")
    response = client.post(
        reverse("admin:people_household_add"),
        {
            "address": "别处1幢",
            "lon": "120.031",
            "lat": "30.001",
            "area": "",
            "phone": "",
            "away_until": "",
            "ref": "",
            **INLINE_EMPTY,
        },
    )
    assert response.status_code == 200
    assert "outside your areas" in response.content.decode()
    assert not Household.objects.filter(address="别处1幢").exists()


def test_the_resident_form_keeps_blank_personal_fields_and_sets_tags(world: Any) -> None:
    client = _client(world, "grid_worker")
    resident = world.residents["g11"]
    page = client.get(reverse("admin:people_resident_change", args=[resident.pk])).content.decode()
    for value in (
        resident.name,
        resident.national_id,
        resident.phone,
        resident.emergency_contact_phone,
    ):
        assert value not in page
    response = client.post(
        reverse("admin:people_resident_change", args=[resident.pk]),
        {
            "household": resident.household_id,
            "name": "",
            "national_id": "",
            "sex": resident.sex,
            "birth_date": "",
            "phone": "13900007777",
            "tags": [ResidentTag.LIVING_ALONE, ResidentTag.ELDERLY],
            "emergency_contact_name": "",
            "emergency_contact_phone": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    after = Resident.objects.get(pk=resident.pk)
    assert after.phone == "13900007777"
    assert (after.name, after.national_id, after.birth_date) == (
        resident.name,
        resident.national_id,
        resident.birth_date,
    )
    assert after.emergency_contact_phone == resident.emergency_contact_phone
    assert after.tags == [ResidentTag.ELDERLY, ResidentTag.LIVING_ALONE]


def test_a_bad_national_id_in_the_admin_is_a_clear_form_error(world: Any) -> None:
    client = _client(world, "grid_worker")
    response = client.post(
        reverse("admin:people_resident_add"),
        {
            "household": world.households["g11"].pk,
            "name": "王甲",
            "national_id": "330106195005175787",
            "sex": "",
            "birth_date": "",
            "phone": "",
            "emergency_contact_name": "",
            "emergency_contact_phone": "",
        },
    )
    assert response.status_code == 200
    assert "wrong check character" in response.content.decode()
    other = client.post(
        reverse("admin:people_resident_add"),
        {
            "household": world.households["g21"].pk,
            "name": "王甲",
            "national_id": "",
            "sex": "",
            "birth_date": "",
            "phone": "",
            "emergency_contact_name": "",
            "emergency_contact_phone": "",
        },
    )
    assert other.status_code == 200  # household g21 is not a valid choice
    assert not Resident.objects.filter(household=world.households["g21"], name="王甲").exists()


def test_search_by_exact_id_or_phone_only_for_those_who_may_see_them(world: Any) -> None:
    resident = world.residents["m11"]
    link = reverse("admin:people_resident_change", args=[resident.pk])
    url = reverse("admin:people_resident_changelist")
    worker = _client(world, "grid_worker")
    assert link in worker.get(url, {"q": resident.national_id}).content.decode()
    assert link in worker.get(url, {"q": resident.phone}).content.decode()
    assert link in worker.get(url, {"q": resident.name}).content.decode()
    assert link not in worker.get(url, {"q": "13000000000"}).content.decode()
    member = _client(world, "party_member")
    assert link in member.get(url).content.decode()
    for term in (resident.national_id, resident.phone, resident.name):
        assert link not in member.get(url, {"q": term}).content.decode()
    assert link in member.get(url, {"q": world.tree["m11"].name}).content.decode()


def test_tag_and_level_filters(world: Any) -> None:
    client = _client(world, "community_admin")
    url = reverse("admin:people_household_changelist")
    links = {
        k: reverse("admin:people_household_change", args=[h.pk])
        for k, h in world.households.items()
    }
    elderly = client.get(url, {"tag": ResidentTag.ELDERLY}).content.decode()
    assert all(links[k] in elderly for k in ("m11", "g11", "g12"))
    assert links["m11"] not in client.get(url, {"tag": ResidentTag.DISABLED}).content.decode()
    micro = client.get(url, {"area_level": "micro_grid"}).content.decode()
    assert links["m11"] in micro
    assert links["g11"] not in micro


def test_granting_and_revoking_in_the_admin(world: Any) -> None:
    client = _client(world, "community_admin")
    newcomer = UserFactory(is_staff=False)
    form = client.get(reverse("admin:people_membership_add")).content.decode()
    assert f'value="{world.tree["g21"].pk}"' not in form
    assert 'value="command_centre"' not in form
    response = client.post(
        reverse("admin:people_membership_add"),
        {
            "user": newcomer.pk,
            "area": world.tree["g12"].pk,
            "role": Role.GRID_WORKER,
            "department": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = Membership.objects.get(user=newcomer)
    assert membership.granted_by == world.users["community_admin"]
    newcomer.refresh_from_db()
    assert newcomer.is_staff
    wrong_level = client.post(
        reverse("admin:people_membership_add"),
        {
            "user": newcomer.pk,
            "area": world.tree["c1"].pk,
            "role": Role.GRID_WORKER,
            "department": "",
        },
    )
    assert "cannot be held on a" in wrong_level.content.decode()
    client.post(reverse("admin:people_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert not Membership.objects.filter(user=newcomer).exists()
    # The command centre's own membership is out of the community admin's reach.
    centre = Membership.objects.get(user=world.users["command_centre"])
    client.post(reverse("admin:people_membership_delete", args=[centre.pk]), {"post": "yes"})
    assert Membership.objects.filter(pk=centre.pk).exists()


def test_the_admin_index_lists_the_people_models_for_staff(world: Any) -> None:
    page = _client(world, "party_member").get(reverse("admin:index")).content.decode()
    assert reverse("admin:people_household_changelist") in page
    assert reverse("admin:people_household_add") not in page


def test_list_pages_take_a_fixed_number_of_queries(world: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gridgov.people.tests.factories import PlaceFactory, ResidentFactory

    client = _client(world, "community_admin")

    def count(model: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(f"admin:people_{model}_changelist")).status_code == 200
        return len(ctx.captured_queries)

    before = {m: count(m) for m in ("household", "resident", "place")}
    for _ in range(5):
        ResidentFactory(household__area=world.tree["g12"], tags=[ResidentTag.DISABLED])
        PlaceFactory(area=world.tree["m12"])
    assert {m: count(m) for m in before} == before


def test_the_household_page_links_to_its_device_panel(world: Any) -> None:
    from gridgov.iot.choices import DeviceKind
    from gridgov.iot.models import Device

    household = world.households["m11"]
    client = _client(world, "grid_worker")
    url = reverse("admin:people_household_change", args=[household.pk])
    assert "digital-family devices" in client.get(url).content.decode().lower()
    for n, kind in enumerate([DeviceKind.WATER_METER, DeviceKind.SOS_BUTTON]):
        Device.objects.create(household=household, kind=kind, serial=f"D-{n}")
    page = client.get(url).content.decode()
    assert f'href="/en/iot/households/{household.pk}/"' in page
    assert "2 devices: open the panel" in page
    # Adding a household shows no panel.
    assert (
        "digital-family devices"
        not in client.get(reverse("admin:people_household_add")).content.decode().lower()
    )
