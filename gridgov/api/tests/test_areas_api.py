"""Areas over the API: list with filters and pagination, detail, GeoJSON — all scoped."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gridgov.tasks.tests.factories import TaskStreet

Make = Callable[[Any], Client]


def _json(response: Any) -> Any:
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def test_the_command_centre_lists_its_whole_street(street: TaskStreet, token_client: Make) -> None:
    page = _json(token_client(street["zhou"]).get("/api/v1/areas?level=grid"))
    assert page["count"] == 4
    assert [a["code"] for a in page["items"]] == sorted(a["code"] for a in page["items"])
    first = page["items"][0]
    assert first["parent_code"] == street["c1"].code
    assert first["bbox"] == [120.0, 30.0, 120.01, 30.01]
    assert "boundary" not in first


def test_a_grid_worker_sees_only_their_grid_and_below(
    street: TaskStreet, token_client: Make
) -> None:
    page = _json(token_client(street["chen"]).get("/api/v1/areas"))
    assert {a["code"] for a in page["items"]} == {street["g11"].code, street["m11"].code}
    client = token_client(street["chen"])
    response = client.get(f"/api/v1/areas/{street['g12'].code}")
    assert response.status_code == 404
    assert json.loads(response.content)["error"]["code"] == "not_found"


def test_a_user_without_memberships_sees_nothing(street: TaskStreet, token_client: Make) -> None:
    assert _json(token_client(street["nobody"]).get("/api/v1/areas"))["count"] == 0


def test_pagination_and_the_parent_filter(street: TaskStreet, token_client: Make) -> None:
    client = token_client(street["zhou"])
    inside_c1 = _json(client.get(f"/api/v1/areas?parent={street['c1'].code}"))
    assert inside_c1["count"] == 4  # two grids, two micro-grids
    page = _json(client.get(f"/api/v1/areas?parent={street['c1'].code}&limit=3&offset=2"))
    assert page["count"] == 4
    assert (page["limit"], page["offset"]) == (3, 2)
    assert [a["code"] for a in page["items"]] == [a["code"] for a in inside_c1["items"][2:]]
    assert client.get("/api/v1/areas?limit=201").status_code == 422


def test_the_list_costs_a_fixed_number_of_queries(street: TaskStreet, token_client: Make) -> None:
    client = token_client(street["zhou"])
    client.get("/api/v1/areas")  # token last-use write happens once a minute
    with CaptureQueriesContext(connection) as queries:
        _json(client.get("/api/v1/areas"))
    # token lookup, memberships, count, page (with parents joined)
    assert len(queries) == 4


def test_detail_has_the_boundary_and_the_path(street: TaskStreet, token_client: Make) -> None:
    area = _json(token_client(street["chen"]).get(f"/api/v1/areas/{street['m11'].code}"))
    assert area["boundary"]["type"] == "Polygon"
    assert [p["level"] for p in area["path"]] == [
        "district",
        "street",
        "community",
        "grid",
        "micro_grid",
    ]


def test_geojson_is_a_feature_collection_of_visible_areas(
    street: TaskStreet, token_client: Make
) -> None:
    client = token_client(street["wu"])  # grid leader of community c1
    collection = _json(client.get("/api/v1/areas.geojson?level=grid"))
    assert collection["type"] == "FeatureCollection"
    codes = {f["properties"]["code"] for f in collection["features"]}
    assert codes == {street["g11"].code, street["g12"].code}
    feature = collection["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["level"] == "grid"


def test_bad_codes_are_refused_before_the_database(street: TaskStreet, token_client: Make) -> None:
    client = token_client(street["zhou"])
    assert client.get("/api/v1/areas/abc").status_code == 422
    # A NUL character never reaches the API (core.middleware.RejectNulMiddleware: 400).
    refused = client.get("/api/v1/areas?parent=12%0034")
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "bad_request")
