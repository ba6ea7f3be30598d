"""Revealing personal data: who may, what is logged (a row and an audit line), and the
admin's Reveal page going through the same service."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.people import services
from gridgov.people.models import PersonalDataAccess
from gridgov.people.tests.conftest import ACTORS, TARGETS

ALL = set(TARGETS)
#: Where each actor may reveal a resident's national ID (the grid team in its areas).
REVEAL_ID: dict[str, set[str]] = {
    "superuser": ALL,
    "command_centre": set(),  # names and phones only
    "community_admin": {"m11", "g11", "g12"},
    "grid_leader": {"m11", "g11"},
    "grid_worker": {"m11", "g11"},
    "party_member": set(),
    "department_handler": set(),
    "nobody": set(),
}
#: Where each actor may reveal a resident's phone.
REVEAL_PHONE: dict[str, set[str]] = {**REVEAL_ID, "command_centre": ALL}


@pytest.mark.parametrize(("actor", "target"), [(a, t) for a in ACTORS for t in TARGETS])
def test_reveal_matrix(world: Any, audit_records: list[Any], actor: str, target: str) -> None:
    user = world.users[actor]
    resident = world.residents[target]
    for field, allowed in [("national_id", REVEAL_ID), ("phone", REVEAL_PHONE)]:
        before = PersonalDataAccess.objects.count()
        if target in allowed[actor]:
            values = services.resident_reveal(
                actor=user, resident=resident, fields=[field], purpose="home visit"
            )
            assert values == {field: getattr(resident, field)}
            assert PersonalDataAccess.objects.count() == before + 1
        else:
            with pytest.raises(PermissionDenied):
                services.resident_reveal(
                    actor=user, resident=resident, fields=[field], purpose="home visit"
                )
            assert PersonalDataAccess.objects.count() == before
            refused = audit_records[-1]
            assert refused.levelno == logging.WARNING
            assert "personal_data_reveal_refused" in refused.getMessage()


def test_a_reveal_writes_a_row_and_an_audit_line(world: Any, audit_records: list[Any]) -> None:
    worker = world.users["grid_worker"]
    resident = world.residents["m11"]
    with time_machine.travel("2025-06-02 09:30:00+08:00", tick=False):
        values = services.resident_reveal(
            actor=worker,
            resident=resident,
            fields=["name", "national_id", "birth_date", "name"],
            purpose="monthly home visit",
            context="task:42",
            ip_address="127.0.0.1",
        )
    assert values == {
        "name": resident.name,
        "national_id": resident.national_id,
        "birth_date": resident.birth_date.isoformat(),
    }
    row = PersonalDataAccess.objects.get()
    assert row.user == worker
    assert (row.subject_kind, row.subject_id, row.resident) == ("resident", resident.pk, resident)
    assert row.fields == ["name", "national_id", "birth_date"]
    assert (row.purpose, row.context, row.ip_address) == (
        "monthly home visit",
        "task:42",
        "127.0.0.1",
    )
    assert row.area == world.tree["m11"]
    assert row.accessed_at.isoformat() == "2025-06-02T01:30:00+00:00"
    [line] = [r for r in audit_records if r.levelno == logging.INFO]
    message = line.getMessage()
    assert line.name == "gridgov.audit"
    assert f"user=grid_worker#{worker.pk}" in message
    assert f"subject=resident#{resident.pk}" in message
    assert "fields=name,national_id,birth_date" in message
    assert "monthly home visit" in message
    assert resident.national_id not in message  # the log says who saw what, not the value


def test_household_and_place_reveals(world: Any) -> None:
    leader = world.users["grid_leader"]
    household, place = world.households["g11"], world.places["g11"]
    assert services.household_reveal(
        actor=leader, household=household, fields=["address", "phone"], purpose="call"
    ) == {"address": household.address, "phone": household.phone}
    assert services.place_reveal(
        actor=leader, place=place, fields=["contact_phone"], purpose="inspection"
    ) == {"contact_phone": place.contact_phone}
    assert list(PersonalDataAccess.objects.values_list("subject_kind", flat=True)) == [
        "place",
        "household",
    ]


@pytest.mark.parametrize(
    ("fields", "purpose", "message"),
    [
        ([], "x", "at least one field"),
        (["colour"], "x", "not personal fields"),
        (["sex"], "x", "not personal fields"),
        (["phone"], "  ", "purpose"),
        (["phone"], "x" * 201, "200 characters"),
    ],
)
def test_bad_reveal_requests(world: Any, fields: list[str], purpose: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        services.resident_reveal(
            actor=world.users["grid_worker"],
            resident=world.residents["m11"],
            fields=fields,
            purpose=purpose,
        )
    assert not PersonalDataAccess.objects.exists()


def test_the_system_cannot_reveal(world: Any) -> None:
    with pytest.raises(PermissionDenied, match="signed-in"):
        services.resident_reveal(
            actor=None, resident=world.residents["m11"], fields=["name"], purpose="x"
        )


def test_the_admin_reveal_page_goes_through_the_logged_service(world: Any) -> None:
    client = Client()
    client.force_login(world.users["grid_worker"])
    resident = world.residents["g11"]
    change = client.get(reverse("admin:people_resident_change", args=[resident.pk]))
    url = reverse("admin:people_resident_reveal", args=[resident.pk])
    assert url in change.content.decode()
    form = client.get(url)
    assert form.status_code == 200
    assert resident.national_id not in form.content.decode()
    assert not PersonalDataAccess.objects.exists()
    missing_purpose = client.post(url, {"fields_": ["national_id"], "purpose": ""})
    assert resident.national_id not in missing_purpose.content.decode()
    assert not PersonalDataAccess.objects.exists()
    shown = client.post(url, {"fields_": ["national_id", "phone"], "purpose": "home visit"})
    content = shown.content.decode()
    assert resident.national_id in content
    assert resident.phone in content
    assert "no-store" in shown["Cache-Control"] or "no-cache" in shown["Cache-Control"]
    row = PersonalDataAccess.objects.get()
    assert (row.user, row.context, row.fields) == (
        world.users["grid_worker"],
        "admin",
        ["national_id", "phone"],
    )


def test_the_admin_reveal_page_offers_only_permitted_fields(world: Any) -> None:
    client = Client()
    client.force_login(world.users["command_centre"])
    resident = world.residents["g21"]
    url = reverse("admin:people_resident_reveal", args=[resident.pk])
    page = client.get(url).content.decode()
    assert 'value="phone"' in page
    assert 'value="national_id"' not in page
    response = client.post(url, {"fields_": ["national_id"], "purpose": "curious"})
    assert resident.national_id not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()
    client.force_login(world.users["party_member"])
    url = reverse("admin:people_resident_reveal", args=[world.residents["m11"].pk])
    assert client.get(url).status_code == 403
    change = client.get(reverse("admin:people_resident_change", args=[world.residents["m11"].pk]))
    assert url not in change.content.decode()


def test_the_audit_is_append_only_in_the_admin(world: Any) -> None:
    services.resident_reveal(
        actor=world.users["grid_worker"],
        resident=world.residents["m11"],
        fields=["phone"],
        purpose="call",
    )
    row = PersonalDataAccess.objects.get()
    client = Client()
    client.force_login(world.users["superuser"])
    assert client.get(reverse("admin:people_personaldataaccess_changelist")).status_code == 200
    assert client.get(reverse("admin:people_personaldataaccess_add")).status_code == 403
    assert (
        client.get(reverse("admin:people_personaldataaccess_delete", args=[row.pk])).status_code
        == 403
    )
    client.post(
        reverse("admin:people_personaldataaccess_change", args=[row.pk]), {"purpose": "changed"}
    )
    assert PersonalDataAccess.objects.get().purpose == "call"
    # The community admin supervises reads in community 1; the party member sees none.
    for actor, visible in [
        ("community_admin", True),
        ("party_member", False),
        ("grid_worker", True),
    ]:
        client.force_login(world.users[actor])
        page = client.get(reverse("admin:people_personaldataaccess_changelist")).content.decode()
        link = reverse("admin:people_personaldataaccess_change", args=[row.pk])
        assert (link in page) is visible, actor
