"""Every GeoReport v2 call, in JSON and XML, validated against our schemas (schemas.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from gridgov.open311.models import ServiceRequest
from gridgov.open311.tests import schemas
from gridgov.open311.tests.conftest import IN_G11, Open311World, good_post
from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.models import Task
from gridgov.tasks.services import task_dispatch, task_register

BASE = "/open311/v2"


def post_request(client: Client, world: Open311World, fmt: str = "json", **extra: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", good_post(world, **extra))


def test_discovery_in_json_and_xml(client: Client, world: Open311World) -> None:
    answer = client.get(f"{BASE}/discovery.json")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/json")
    schemas.validate(schemas.DISCOVERY, answer.json())
    assert answer.json()["endpoints"][0]["url"] == "http://testserver/open311/v2"

    xml = client.get(f"{BASE}/discovery.xml")
    assert xml["Content-Type"].startswith("text/xml")
    root = schemas.SafeET.fromstring(xml.content)
    assert root.tag == "discovery"
    formats = [f.text for f in root.find("endpoints/endpoint/formats")]
    assert formats == ["text/xml", "application/json"]


def test_services_are_the_public_types(client: Client, world: Open311World) -> None:
    data = client.get(f"{BASE}/services.json").json()
    schemas.validate(schemas.SERVICES, data)
    assert [s["service_code"] for s in data] == ["8801", "8802"]
    assert data[0]["metadata"] is True
    assert data[1]["metadata"] is False
    items = schemas.xml_list(
        client.get(f"{BASE}/services.xml").content,
        "services",
        "service",
        ("service_code", "service_name", "metadata", "type"),
    )
    assert [i["service_code"] for i in items] == ["8801", "8802"]
    assert items[0]["metadata"] == "true"


def test_service_definition_has_the_six_datatypes(client: Client, world: Open311World) -> None:
    data = client.get(f"{BASE}/services/8801.json").json()
    schemas.validate(schemas.SERVICE_DEFINITION, data)
    assert [a["datatype"] for a in data["attributes"]] == [
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    ]
    assert [a["order"] for a in data["attributes"]] == [1, 2, 3, 4, 5, 6]
    assert data["attributes"][5]["values"][0] == {"key": "light", "name": "Street light"}

    root = schemas.SafeET.fromstring(client.get(f"{BASE}/services/8801.xml").content)
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "8801"
    attributes = root.findall("attributes/attribute")
    assert len(attributes) == 6
    assert [v.findtext("key") for v in attributes[5].findall("values/value")] == [
        "light",
        "cover",
        "bench",
    ]


def test_service_definition_in_chinese_by_default(world: Open311World) -> None:
    data = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(f"{BASE}/services/8801.json").json()
    assert data["attributes"][0]["description"] == "具体位置"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_creates_a_routed_resident_report(
    client: Client, world: Open311World, fmt: str
) -> None:
    answer = post_request(client, world, fmt)
    assert answer.status_code == 201, answer.content
    if fmt == "json":
        schemas.validate(schemas.POST_RESPONSE, answer.json())
        number = answer.json()[0]["service_request_id"]
        assert answer.json()[0]["service_notice"] == "Handled within 4 working hours of dispatch."
    else:
        items = schemas.xml_list(
            answer.content, "service_requests", "request", ("service_request_id", "token")
        )
        number = items[0]["service_request_id"]
    task = Task.objects.get(number=number)
    assert task.source == TaskSource.RESIDENT_REPORT
    # The client speaks English; the stored title is in the site's language.
    assert task.title.startswith(task.task_type.name_zh)
    assert task.task_type.name_zh != task.task_type.name_en
    assert task.state == TaskState.REPORTED
    assert task.area == world.street["g11"]
    assert (task.lon, task.lat) == IN_G11
    request = task.service_request
    assert request.attributes == {
        "where_exactly": "North gate",
        "danger": "no",
        "kinds": ["light", "cover"],
        "count": 2.0,
        "seen_at": "2026-11-29T20:00:00+08:00",
    }
    assert request.api_key == world.key
    assert request.phone == "13812345678"


def test_post_as_json_and_as_xml_bodies(client: Client, world: Open311World) -> None:
    body = {
        "api_key": world.raw_key,
        "service_code": "8801",
        "lat": 30.008,
        "long": 120.008,
        "description": "JSON body",
        "attribute": {"where_exactly": "East", "danger": "yes", "kinds": ["bench"]},
    }
    answer = client.post(f"{BASE}/requests.json", json.dumps(body), content_type="application/json")
    assert answer.status_code == 201, answer.content
    xml = (
        f"<service_request><api_key>{world.raw_key}</api_key><service_code>8801</service_code>"
        "<lat>30.008</lat><long>120.008</long><description>XML body</description>"
        "<attribute><where_exactly>West</where_exactly><danger>no</danger>"
        "<kinds>light</kinds><kinds>bench</kinds></attribute></service_request>"
    )
    answer = client.post(f"{BASE}/requests.xml", xml, content_type="application/xml")
    assert answer.status_code == 201, answer.content
    attributes = [r.attributes for r in ServiceRequest.objects.order_by("id")]
    assert attributes == [
        {"where_exactly": "East", "danger": "yes", "kinds": ["bench"]},
        {"where_exactly": "West", "danger": "no", "kinds": ["light", "bench"]},
    ]


def test_read_back_one_request_and_by_token(client: Client, world: Open311World) -> None:
    created = post_request(client, world).json()[0]
    number, token = created["service_request_id"], created["token"]
    one = client.get(f"{BASE}/requests/{number}.json").json()
    schemas.validate(schemas.requests_schema(), one)
    assert one[0]["service_request_id"] == number
    assert one[0]["status"] == "open"
    assert one[0]["agency_responsible"] == world.street["g11"].name
    assert one[0]["lat"] == 30.008
    assert one[0]["long"] == 120.008
    assert "13812345678" not in json.dumps(one)
    assert "Ming" not in json.dumps(one)
    items = schemas.xml_list(
        client.get(f"{BASE}/requests/{number}.xml").content,
        "service_requests",
        "request",
        ("service_request_id", "status", "requested_datetime"),
    )
    assert items[0]["service_request_id"] == number
    tokens = client.get(f"{BASE}/tokens/{token}.json").json()
    schemas.validate(schemas.TOKEN_RESPONSE, tokens)
    assert tokens == [{"service_request_id": number, "token": token}]
    xml = schemas.xml_list(
        client.get(f"{BASE}/tokens/{token}.xml").content, "service_requests", "request"
    )
    assert xml == [{"service_request_id": number, "token": token}]


def test_expected_datetime_is_the_deadline_once_dispatched(
    client: Client, world: Open311World
) -> None:
    number = post_request(client, world).json()[0]["service_request_id"]
    task = Task.objects.get(number=number)
    zhou = world.street["zhou"]
    task = task_register(actor=zhou, task=task)
    task = task_dispatch(actor=zhou, task=task)
    one = client.get(f"{BASE}/requests/{number}.json?extensions=true").json()
    schemas.validate(schemas.requests_schema(extensions=True), one)
    assert one[0]["status"] == "action_scheduled"
    assert one[0]["expected_datetime"] is not None
    from gridgov.open311.selectors import iso

    assert one[0]["expected_datetime"] == iso(task.deadline)
    assert one[0]["status_notes"] == "Dispatched"


def test_get_requests_filters(client: Client, world: Open311World) -> None:
    first = post_request(client, world).json()[0]["service_request_id"]
    second = post_request(
        client,
        world,
        service_code="8802",
        lat="30.015",
        long="120.015",
        **{"attribute[where_exactly]": "", "attribute[danger]": ""},
    )
    # 8802 has no attributes: the 8801 answers are unknown there.
    assert second.status_code == 400
    payload = {k: v for k, v in good_post(world).items() if not k.startswith("attribute")}
    payload.update(service_code="8802", lat="30.005", long="120.015")
    second_number = client.post(f"{BASE}/requests.json", payload).json()[0]["service_request_id"]

    def ids(query: str) -> list[str]:
        data = client.get(f"{BASE}/requests.json{query}").json()
        schemas.validate(schemas.requests_schema(extensions="extensions" in query), data)
        return [r["service_request_id"] for r in data]

    assert ids("") == [second_number, first]
    assert ids("?service_code=8801") == [first]
    assert ids(f"?service_request_id={first},{second_number}&service_code=9999") == [
        second_number,
        first,
    ]
    assert ids("?status=open") == [second_number, first]
    assert ids("?status=closed") == []
    assert ids("?status=open&extensions=true") == [second_number, first]
    assert ids("?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z") == []
    xml = client.get(f"{BASE}/requests.xml?service_code=8802").content
    assert [
        i["service_request_id"] for i in schemas.xml_list(xml, "service_requests", "request")
    ] == [second_number]


def test_servicerequestupdates_get_and_post(client: Client, world: Open311World) -> None:
    number = post_request(client, world).json()[0]["service_request_id"]
    task = Task.objects.get(number=number)
    task_register(actor=world.street["zhou"], task=task)
    key = world.raw_key
    data = client.get(f"{BASE}/servicerequestupdates.json?api_key={key}").json()
    schemas.validate(schemas.UPDATES, data)
    assert [(u["service_request_id"], u["status"]) for u in data] == [(number, "investigating")]
    xml = client.get(f"{BASE}/servicerequestupdates.xml?api_key={key}").content
    items = schemas.xml_list(
        xml, "service_request_updates", "request_update", ("update_id", "status")
    )
    assert items[0]["status"] == "investigating"

    body = {
        "api_key": key,
        "service_request_id": number,
        "description": "Still broken tonight.",
        "status": "OPEN",
        "update_id_ext": "fms-1",
    }
    answer = client.post(f"{BASE}/servicerequestupdates.json", body)
    assert answer.status_code == 201, answer.content
    schemas.validate(schemas.UPDATE_POST_RESPONSE, answer.json())
    again = client.post(f"{BASE}/servicerequestupdates.xml", body)
    items = schemas.xml_list(again.content, "service_request_updates", "request_update")
    assert items == [{"update_id": answer.json()[0]["update_id"]}]
    comments = task.events.filter(action="comment")
    assert [c.note for c in comments] == ["Still broken tonight."]
    task.refresh_from_db()
    assert task.state == TaskState.REGISTERED


def test_a_fixmystreet_post_with_its_own_attributes_is_accepted(
    client: Client, world: Open311World
) -> None:
    fms = {
        "attribute[fixmystreet_id]": "1001",
        "attribute[title]": "Light out",
        "attribute[report_url]": "https://fms.example.org/report/1001",
        "attribute[easting]": "1",
        "attribute[northing]": "2",
        "attribute[closest_address]": "Gate",
        "media_url": "https://fms.example.org/photo/1001.jpeg",
    }
    answer = post_request(client, world, "xml", **fms)
    assert answer.status_code == 201, answer.content
    request = ServiceRequest.objects.get()
    assert request.attributes["fixmystreet_id"] == "1001"
    assert request.attributes["report_url"] == "https://fms.example.org/report/1001"
    assert request.media_url == "https://fms.example.org/photo/1001.jpeg"
