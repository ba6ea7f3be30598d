"""Api keys in the admin and with ``gridgov open311-key``; reports in the admin, masked."""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from gridgov.open311.models import ApiKey
from gridgov.open311.services import api_key_authenticate, service_request_create
from gridgov.open311.tests.conftest import IN_G11, Open311World


@pytest.fixture
def root(world: Open311World) -> Client:
    client = Client()
    client.force_login(world.street["root"])
    return client


def test_a_superuser_adds_a_key_and_sees_it_once(root: Client, world: Open311World) -> None:
    answer = root.post(
        "/en/admin/open311/apikey/add/", {"name": "city-app", "contact": "ops"}, follow=True
    )
    assert answer.status_code == 200
    match = re.search(r"is (o311_[A-Za-z0-9_-]+)", answer.content.decode())
    assert match
    key = ApiKey.objects.get(name="city-app")
    assert api_key_authenticate(raw=match.group(1)) == key
    assert match.group(1) not in (key.key_hash, key.prefix)
    root.post(
        "/en/admin/open311/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )
    assert api_key_authenticate(raw=match.group(1)) is None


def test_staff_without_superuser_cannot_see_keys(world: Open311World) -> None:
    client = Client()
    user = world.street["zhou"]
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert client.get("/en/admin/open311/apikey/").status_code == 403


def test_reports_in_the_admin_are_masked(root: Client, world: Open311World) -> None:
    lon, lat = IN_G11
    service_request_create(
        service_code="8802", lon=lon, lat=lat, description="x", phone="13812345678"
    )
    page = root.get("/en/admin/open311/servicerequest/").content.decode()
    assert "138****5678" in page
    assert "13812345678" not in page


def test_the_command_creates_lists_and_revokes(world: Open311World) -> None:
    out, err = StringIO(), StringIO()
    call_command("open311_key", "create", "fixmystreet", "--contact", "fms", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert api_key_authenticate(raw=raw) is not None
    assert "not shown again" in err.getvalue()
    listed = StringIO()
    call_command("open311_key", "list", "--json", stdout=listed)
    rows: list[dict[str, Any]] = json.loads(listed.getvalue())
    assert [r["client"] for r in rows] == ["fixmystreet", "test-app"]
    assert raw not in listed.getvalue()
    call_command("open311_key", "revoke", "fixmystreet", stdout=StringIO())
    assert api_key_authenticate(raw=raw) is None
    with pytest.raises(CommandError, match="already revoked"):
        call_command("open311_key", "revoke", "fixmystreet", stdout=StringIO())
    with pytest.raises(CommandError, match="already has a live key"):
        call_command("open311_key", "create", "test-app", stdout=StringIO(), stderr=StringIO())
    # Rotation: a revoked client gets a new key under the same name; the old one stays dead.
    rotated = StringIO()
    call_command("open311_key", "create", "fixmystreet", stdout=rotated, stderr=StringIO())
    new = rotated.getvalue().strip()
    assert api_key_authenticate(raw=new) is not None
    assert api_key_authenticate(raw=raw) is None
    call_command("open311_key", "revoke", "fixmystreet", stdout=StringIO())  # the live one
    assert api_key_authenticate(raw=new) is None


def test_services_page_edits_public_and_report_fields(root: Client, world: Open311World) -> None:
    from gridgov.catalog.models import TaskType

    plain = world.plain
    url = f"/en/admin/open311/service/{plain.pk}/change/"
    assert root.get("/en/admin/open311/service/").status_code == 200
    bad = root.post(url, {"public": "on", "report_fields": '[{"code": "x", "datatype": "colour"}]'})
    assert bad.status_code == 200
    assert "colour" in bad.content.decode()
    fields = [{"code": "x", "datatype": "text", "description_zh": "甲", "description_en": "A"}]
    good = root.post(url, {"public": "on", "report_fields": json.dumps(fields)})
    assert good.status_code == 302
    assert TaskType.objects.get(pk=plain.pk).report_fields == fields
