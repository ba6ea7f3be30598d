"""Bad input gets the GeoReport v2 error (status, ``[{code, description}]`` in the
requested format) and creates nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from gridgov.open311.models import ServiceRequest
from gridgov.open311.services import api_key_revoke
from gridgov.open311.tests import schemas
from gridgov.open311.tests.conftest import Open311World, good_post
from gridgov.tasks.models import Task, TaskEvent

BASE = "/open311/v2"


def counts() -> tuple[int, int, int]:
    return Task.objects.count(), ServiceRequest.objects.count(), TaskEvent.objects.count()


def assert_error(answer: Any, status: int, fmt: str, contains: str = "") -> list[str]:
    assert answer.status_code == status, answer.content
    if fmt == "json":
        data = answer.json()
        schemas.validate(schemas.ERRORS, data)
        assert all(e["code"] == status for e in data)
        descriptions = [e["description"] for e in data]
    else:
        items = schemas.xml_list(answer.content, "errors", "error", ("code", "description"))
        assert all(i["code"] == str(status) for i in items)
        descriptions = [i["description"] for i in items]
    assert any(contains in d for d in descriptions), descriptions
    return descriptions


BAD_POSTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown service", {"service_code": "9999"}, 404, "Unknown service_code"),
    ("private service", {"service_code": "8803"}, 404, "Unknown service_code"),
    ("no api key", {"api_key": ""}, 403, "api_key is required"),
    ("wrong api key", {"api_key": "o311_wrong"}, 403, "not valid"),
    ("missing attribute", {"attribute[danger]": ""}, 400, "danger is required"),
    ("bad list value", {"attribute[danger]": "maybe"}, 400, "is not one of"),
    ("bad multi value", {"attribute[kinds][]": ["light", "sofa"]}, 400, "distinct keys"),
    ("bad number", {"attribute[count]": "many"}, 400, "is not a number"),
    ("naive datetime", {"attribute[seen_at]": "2026-11-29T20:00:00"}, 400, "offset"),
    ("long string", {"attribute[where_exactly]": "x" * 201}, 400, "longer than 200"),
    ("unknown attribute", {"attribute[colour]": "red"}, 400, "Unknown attribute colour"),
    ("no location", {"lat": "", "long": ""}, 400, "lat and long are required"),
    ("bad lat", {"lat": "91"}, 400, "lat must be a number"),
    ("lat not a number", {"lat": "north"}, 400, "lat must be a number"),
    ("bad long", {"long": "nan"}, 400, "long must be a number"),
    ("outside every area", {"lat": "10.0", "long": "10.0"}, 400, "lies in no area"),
    ("description too long", {"description": "长" * 4001}, 400, "at most 4000"),
    ("bad media url", {"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ("bad email", {"email": "not-an-email"}, 400, "email"),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("case", "change", "status", "contains"), BAD_POSTS, ids=[c[0] for c in BAD_POSTS]
)
def test_a_bad_post_creates_nothing(
    client: Client,
    world: Open311World,
    fmt: str,
    case: str,
    change: dict[str, Any],
    status: int,
    contains: str,
) -> None:
    before = counts()
    answer = client.post(f"{BASE}/requests.{fmt}", good_post(world, **change))
    assert_error(answer, status, fmt, contains)
    assert counts() == before


def test_every_problem_is_listed(client: Client, world: Open311World) -> None:
    answer = client.post(
        f"{BASE}/requests.json",
        good_post(world, lat="99", **{"attribute[danger]": "", "description": "x" * 4001}),
    )
    descriptions = assert_error(answer, 400, "json")
    assert len(descriptions) == 3


def test_a_revoked_key_is_refused(client: Client, world: Open311World) -> None:
    api_key_revoke(api_key=world.key)
    before = counts()
    assert_error(client.post(f"{BASE}/requests.xml", good_post(world)), 403, "xml")
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "content_type", "fmt", "contains"),
    [
        ("{not json", "application/json", "json", "not well-formed JSON"),
        ("[1, 2]", "application/json", "json", "expected an object"),
        ('{"lat": {"a": 1}}', "application/json", "json", "plain value"),
        ("<service_request><lat>1</lat>", "application/xml", "xml", "not well-formed XML"),
        (
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "boom">]><r><lat>&e;</lat></r>',
            "application/xml",
            "xml",
            "not well-formed XML",
        ),
    ],
)
def test_malformed_bodies_are_refused(
    client: Client, world: Open311World, body: str, content_type: str, fmt: str, contains: str
) -> None:
    before = counts()
    answer = client.post(
        f"{BASE}/requests.{fmt}?api_key={world.raw_key}", body, content_type=content_type
    )
    assert_error(answer, 400, fmt, contains)
    assert counts() == before


def test_a_bad_photo_is_refused(client: Client, world: Open311World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = counts()
    fake = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    answer = client.post(f"{BASE}/requests.json", {**good_post(world), "media": fake})
    descriptions = assert_error(answer, 400, "json", "x.jpg")
    assert not any("{" in d for d in descriptions), descriptions  # a sentence, not a dict
    assert counts() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_not_found_answers(client: Client, world: Open311World, fmt: str) -> None:
    assert_error(client.get(f"{BASE}/services/9999.{fmt}"), 404, fmt, "Unknown service_code")
    assert_error(client.get(f"{BASE}/services/8803.{fmt}"), 404, fmt)
    assert_error(client.get(f"{BASE}/requests/20990101-000001.{fmt}"), 404, fmt)
    assert_error(client.get(f"{BASE}/tokens/nope.{fmt}"), 404, fmt, "Unknown token")
    assert_error(client.get(f"{BASE}/nothing/here.{fmt}"), 404, fmt, "No such call")


@pytest.mark.parametrize(
    ("query", "contains"),
    [
        ("start_date=yesterday", "start_date must be an ISO 8601"),
        ("end_date=2026-01-01T00:00:00", "end_date must be an ISO 8601"),
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "at most 90 days"),
        ("start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "after end_date"),
        ("status=fixed", "Unknown status fixed"),
    ],
)
def test_bad_filters(client: Client, world: Open311World, query: str, contains: str) -> None:
    assert_error(client.get(f"{BASE}/requests.json?{query}"), 400, "json", contains)
    assert_error(client.get(f"{BASE}/requests.xml?{query}"), 400, "xml", contains)


def test_wrong_method_and_updates_need_a_key(client: Client, world: Open311World) -> None:
    assert_error(client.post(f"{BASE}/services.json"), 400, "json", "Use GET")
    assert_error(client.get(f"{BASE}/servicerequestupdates.xml"), 403, "xml", "api_key")
    before = counts()
    answer = client.post(
        f"{BASE}/servicerequestupdates.json",
        {"api_key": world.raw_key, "service_request_id": "20990101-000001", "description": "x"},
    )
    assert_error(answer, 404, "json")
    assert counts() == before


def test_throttling_per_ip_and_per_key(client: Client, world: Open311World, settings: Any) -> None:
    settings.GRIDGOV_OPEN311_THROTTLE_PER_IP = 3
    for _ in range(3):
        assert client.get(f"{BASE}/services.json").status_code == 200
    answer = client.get(f"{BASE}/services.json")
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) >= 1
    schemas.validate(schemas.ERRORS, answer.json())
    other_ip = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.0.0.9")
    assert other_ip.get(f"{BASE}/services.json").status_code == 200

    settings.GRIDGOV_OPEN311_THROTTLE_PER_IP = 10_000
    settings.GRIDGOV_OPEN311_THROTTLE_PER_KEY = 1
    url = f"{BASE}/servicerequestupdates.json?api_key={world.raw_key}"
    assert other_ip.get(url).status_code == 200
    assert Client(REMOTE_ADDR="10.0.0.10").get(url).status_code == 429  # same key, other IP


def test_json_error_bodies_are_valid_json(client: Client, world: Open311World) -> None:
    answer = client.get(f"{BASE}/requests/none.json")
    assert json.loads(answer.content)[0]["code"] == 404


def test_another_jurisdiction_is_not_found(
    client: Client, world: Open311World, settings: Any
) -> None:
    settings.GRIDGOV_OPEN311_JURISDICTION = "xihu.example.cn"
    assert client.get(f"{BASE}/services.json?jurisdiction_id=xihu.example.cn").status_code == 200
    assert client.get(f"{BASE}/services.json").status_code == 200
    before = counts()
    answer = client.post(f"{BASE}/requests.xml", good_post(world, jurisdiction_id="elsewhere"))
    assert_error(answer, 404, "xml", "jurisdiction_id")
    assert counts() == before
