"""The catalogue over the API: read-only, for every authenticated caller."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.test import Client

from gridgov.tasks.tests.factories import TaskStreet

Make = Callable[[Any], Client]


def _json(response: Any) -> Any:
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def test_categories_types_and_rules(street: TaskStreet, token_client: Make) -> None:
    client = token_client(street["chen"])
    categories = _json(client.get("/api/v1/catalog/categories"))
    assert [c["code"] for c in categories] == ["88"]
    types = _json(client.get("/api/v1/catalog/task-types?category=88"))
    assert len(types) == 5
    enforcement = next(t for t in types if t["handler_department"] == "law_enforcement")
    assert enforcement["handler_role"] == ""
    patrol = _json(client.get(f"/api/v1/catalog/task-types/{street.types['patrol'].code}"))
    assert [r["code"] for r in patrol["rules"]] == sorted(r.code for r in street.rules.values())
    visit = _json(client.get(f"/api/v1/catalog/rules/{street.rules['visit'].code}"))
    assert visit["checkin_radius_m"] == 200
    assert visit["min_photos"] == 1
    assert visit["form_fields"][0]["name"] == "health"
    assert visit["time_limit_unit"] == "work_day"


def test_rule_filters(street: TaskStreet, token_client: Make) -> None:
    client = token_client(street["chen"])
    recurring = _json(client.get("/api/v1/catalog/rules?recurring=true"))
    assert {r["code"] for r in recurring} == {
        street.rules["visit"].code,
        street.rules["patrol"].code,
    }
    event = _json(client.get("/api/v1/catalog/rules?recurring=false&active=true"))
    assert [r["code"] for r in event] == [street.rules["quick"].code]


def test_unknown_codes_are_404_envelopes(street: TaskStreet, token_client: Make) -> None:
    client = token_client(street["chen"])
    for url in ["/api/v1/catalog/task-types/9999", "/api/v1/catalog/rules/999999"]:
        response = client.get(url)
        assert response.status_code == 404
        assert json.loads(response.content)["error"]["code"] == "not_found"


def test_the_catalogue_is_read_only(street: TaskStreet, token_client: Make) -> None:
    response = token_client(street["zhou"]).post("/api/v1/catalog/categories", data={})
    assert response.status_code == 405
