"""Characters no text may hold (``gridgov.core.validators.FORBIDDEN_CHARACTERS_RE``) are
refused in every POST encoding — form (the middleware), JSON and XML (``post_read``) —
with GeoReport's ``[{code, description}]`` 400 in the requested format, and store
nothing; the XML writer never emits one; ``jurisdiction_id`` is checked in every
encoding when configured and ignored when not."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

import pytest
from defusedxml import ElementTree as SafeET
from django.test import Client

from gridgov.open311.formats import xml_bytes
from gridgov.open311.tests.conftest import Open311World, good_post
from gridgov.open311.tests.test_errors import assert_error, counts
from gridgov.tasks.models import Task

BASE = "/open311/v2"
CHARS = ["\x00", "\x01", "\x0b", "\x1f", "\x7f"]


def json_body(world: Open311World, **change: Any) -> str:
    body: dict[str, Any] = {
        "api_key": world.raw_key,
        "service_code": world.service.code,
        "lat": 30.008,
        "long": 120.008,
        "description": "JSON body",
        "attribute": {"where_exactly": "East", "danger": "yes"},
    }
    body.update(change)
    return json.dumps(body)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("char", CHARS)
def test_a_json_body_with_a_control_character_is_refused(
    client: Client, world: Open311World, fmt: str, char: str
) -> None:
    before = counts()
    for change in (
        {"description": f"a{char}b"},
        {"first_name": f"M{char}"},
        {"attribute": {"where_exactly": f"E{char}", "danger": "yes"}},
        {f"x{char}": "1"},
    ):
        answer = client.post(
            f"{BASE}/requests.{fmt}", json_body(world, **change), content_type="application/json"
        )
        assert_error(answer, 400, fmt, f"U+{ord(char):04X}")
    assert counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("char", CHARS)
def test_a_form_post_with_a_control_character_is_refused(
    client: Client, world: Open311World, char: str
) -> None:
    before = counts()
    for fmt in ("json", "xml"):
        answer = client.post(f"{BASE}/requests.{fmt}", good_post(world, description=f"x{char}y"))
        assert_error(answer, 400, fmt)
    assert counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("reference", ["&#1;", "&#x0B;", "&#0;", "\x01"])
def test_an_xml_body_with_a_control_character_is_refused(
    client: Client, world: Open311World, reference: str
) -> None:
    before = counts()
    xml = (
        f"<service_request><api_key>{world.raw_key}</api_key><service_code>8801</service_code>"
        f"<lat>30.008</lat><long>120.008</long><description>a{reference}b</description>"
        "<attribute><where_exactly>West</where_exactly><danger>no</danger></attribute>"
        "</service_request>"
    )
    answer = client.post(f"{BASE}/requests.xml", xml, content_type="application/xml")
    assert_error(answer, 400, "xml")
    assert counts() == before


@pytest.mark.django_db
def test_tab_and_line_breaks_pass(client: Client, world: Open311World) -> None:
    answer = client.post(
        f"{BASE}/requests.json",
        json_body(world, description="line one\r\nline\ttwo"),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    assert Task.objects.get().description == "line one\r\nline\ttwo"


@pytest.mark.django_db
def test_the_xml_answer_stays_well_formed_with_a_stored_control_character(
    client: Client, world: Open311World
) -> None:
    answer = client.post(f"{BASE}/requests.json", json_body(world), content_type="application/json")
    number = answer.json()[0]["service_request_id"]
    # Stored before the input checks existed (PostgreSQL holds U+0001, not NUL).
    Task.objects.update(description="x\x01\x0by\tz")
    for url in (f"{BASE}/requests.xml", f"{BASE}/requests/{number}.xml"):
        tree = SafeET.fromstring(client.get(url).content)
        assert tree.find("request/description").text == "xy\tz"
    # JSON can say anything: it keeps the stored value.
    assert client.get(f"{BASE}/requests/{number}.json").json()[0]["description"] == "x\x01\x0by\tz"


def test_the_xml_writer_drops_what_xml_forbids() -> None:
    body = xml_bytes("errors", [{"code": 400, "description": "a\x00\x01\x0b\x7f\ud800\uffff\tb"}])
    assert SafeET.fromstring(body).find("error/description").text == "a\tb"


@pytest.mark.django_db
def test_jurisdiction_id_is_ignored_when_none_is_configured(
    client: Client, world: Open311World, settings: Any
) -> None:
    settings.GRIDGOV_OPEN311_JURISDICTION = ""
    assert client.get(f"{BASE}/services.json?jurisdiction_id=foo").status_code == 200
    answer = client.post(
        f"{BASE}/requests.json",
        json_body(world, jurisdiction_id="foo"),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_another_jurisdiction_is_refused_in_every_encoding(
    client: Client, world: Open311World, settings: Any, fmt: str
) -> None:
    settings.GRIDGOV_OPEN311_JURISDICTION = "xihu.example.cn"
    assert_error(
        client.get(f"{BASE}/services.{fmt}?jurisdiction_id=foo"), 404, fmt, "jurisdiction_id"
    )
    before = counts()
    answer = client.post(
        f"{BASE}/requests.{fmt}",
        json_body(world, jurisdiction_id="elsewhere"),
        content_type="application/json",
    )
    assert_error(answer, 404, fmt, "jurisdiction_id")
    xml = (
        f"<service_request><jurisdiction_id>{escape('else<where')}</jurisdiction_id>"
        f"<api_key>{world.raw_key}</api_key><service_code>8801</service_code>"
        "<lat>30.008</lat><long>120.008</long></service_request>"
    )
    answer = client.post(f"{BASE}/requests.{fmt}", xml, content_type="application/xml")
    assert_error(answer, 404, fmt, "jurisdiction_id")
    assert counts() == before
    answer = client.post(
        f"{BASE}/requests.{fmt}",
        json_body(world, jurisdiction_id="xihu.example.cn"),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
