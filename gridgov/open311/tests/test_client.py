"""A Python Open311 client from PyPI drives a live server: discovery, services, a
service definition, posting a request and reading it back, in JSON and XML.

``georeport`` (0.3, Python 3) covers the GET calls; it has no discovery and no POST, so
those two go through ``requests`` exactly as the specification writes them. The older
clients ``three`` and ``open311`` are Python 2 only (``itertools.ifilter``, implicit
relative imports) and do not import on Python 3.11 (docs/open311.md).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from georeport import GeoReport

from gridgov.open311.tests import schemas
from gridgov.open311.tests.conftest import IN_G11, make_world


@pytest.fixture
def live(live_server: Any, transactional_db: Any) -> tuple[str, str]:
    world = make_world()
    return f"{live_server.url}/open311/v2", world.raw_key


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_client_discovers_posts_and_reads_back(live: tuple[str, str], fmt: str) -> None:
    base, key = live
    session = requests.Session()
    session.headers["Accept-Language"] = "en"
    discovery = session.get(f"{base.rsplit('/v2', 1)[0]}/v2/discovery.json", timeout=10)
    schemas.validate(schemas.DISCOVERY, discovery.json())
    endpoint = discovery.json()["endpoints"][0]["url"]
    assert endpoint == base

    client = GeoReport(endpoint, api_key=key, output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert codes == ["8801", "8802"]
    definition = client.get_service_definition("8801")
    if fmt == "json":
        schemas.validate(schemas.SERVICE_DEFINITION, definition)
        attributes = definition["attributes"]
    else:
        attributes = definition["attributes"]["attribute"]
    required = [a["code"] for a in attributes if str(a["required"]).lower() == "true"]
    assert required == ["where_exactly", "danger"]

    lon, lat = IN_G11
    posted = session.post(
        f"{endpoint}/requests.{fmt}",
        data={
            "api_key": key,
            "service_code": "8801",
            "lat": lat,
            "long": lon,
            "description": f"Posted as {fmt}",
            "attribute[where_exactly]": "gate",
            "attribute[danger]": "yes",
        },
        timeout=10,
    )
    assert posted.status_code == 201, posted.text
    if fmt == "json":
        number = posted.json()[0]["service_request_id"]
    else:
        number = schemas.xml_list(posted.content, "service_requests", "request")[0][
            "service_request_id"
        ]

    one = client.get_service_request(number)
    assert one["service_request_id"] == number
    assert one["status"] == "open"
    assert one["description"] == f"Posted as {fmt}"
    listed = client.get_service_requests(service_code="8801", status="open")
    listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one item → dict
    assert [r["service_request_id"] for r in listed] == [number]
