"""The one error envelope: every status, from our errors, Ninja's and Django's."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.http import Http404, HttpRequest
from django.test import Client
from django.urls import include, path
from ninja import NinjaAPI, Schema

from gridgov.api.errors import install_error_handlers
from gridgov.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gridgov.tasks.tests.factories import TaskStreet

# A throwaway API with the same handlers, whose operations raise each kind of error.
probe = NinjaAPI(urls_namespace="probe")
install_error_handlers(probe)

ERRORS: dict[str, Exception] = {
    "validation": ValidationFailed("title is empty", details={"field": "title"}),
    "not_found": NotFound("task X does not exist"),
    "permission": PermissionDenied("not your grid"),
    "conflict": Conflict("someone else accepted it", code="state_conflict"),
    "http404": Http404("gone"),
    "crash": RuntimeError("secret internals: password=hunter2"),
}


class Payload(Schema):
    title: str
    count: int


@probe.get("/raise/{kind}")
def raise_kind(request: HttpRequest, kind: str) -> None:
    raise ERRORS[kind]


@probe.post("/echo")
def echo(request: HttpRequest, payload: Payload) -> dict[str, Any]:
    return payload.dict()


urlpatterns = [path("probe/", include(probe.urls[0]))]


def envelope(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("validation", 422, "validation_failed"),
        ("not_found", 404, "not_found"),
        ("permission", 403, "permission_denied"),
        ("conflict", 409, "state_conflict"),
        ("http404", 404, "not_found"),
    ],
)
def test_each_application_error_has_its_status_and_code(kind: str, status: int, code: str) -> None:
    response = Client().get(f"/probe/raise/{kind}")
    assert response.status_code == status
    error = envelope(response)
    assert error["code"] == code
    if kind == "validation":
        assert error["message"] == "title is empty"
        assert error["details"] == {"field": "title"}


@pytest.mark.urls(__name__)
def test_an_unexpected_error_is_a_500_envelope_without_traceback_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="gridgov.api"):
        response = Client().get("/probe/raise/crash")
    assert response.status_code == 500
    error = envelope(response)
    assert error["code"] == "server_error"
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content
    assert any(r.exc_info and "hunter2" in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.urls(__name__)
def test_malformed_json_is_a_400_envelope() -> None:
    response = Client().post("/probe/echo", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert envelope(response)["code"] == "bad_request"


@pytest.mark.urls(__name__)
def test_ninja_validation_is_a_422_envelope_with_the_fields() -> None:
    response = Client().post(
        "/probe/echo", data={"title": "x", "count": "many"}, content_type="application/json"
    )
    assert response.status_code == 422
    error = envelope(response)
    assert error["code"] == "validation_failed"
    assert [d["loc"] for d in error["details"]] == [["body", "payload", "count"]]
    assert error["details"][0]["type"] == "int_parsing"


def test_no_credentials_is_a_401_envelope(db: Any) -> None:
    response = Client().get("/api/v1/areas")
    assert response.status_code == 401
    assert envelope(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_url_under_the_api_is_a_404_envelope(
    street: TaskStreet, token_client: Callable[[Any], Client]
) -> None:
    for url in ["/api/v1/nowhere", "/api/v1/areas/x/y", "/api/v1/"]:
        response = token_client(street["zhou"]).get(url)
        assert response.status_code == 404, url
        assert envelope(response)["code"] == "not_found"


def test_a_wrong_method_is_a_405_envelope_with_allow(
    street: TaskStreet, token_client: Callable[[Any], Client]
) -> None:
    response = token_client(street["zhou"]).delete("/api/v1/areas")
    assert response.status_code == 405
    error = envelope(response)
    assert error["code"] == "method_not_allowed"
    assert error["details"] == {"allowed": ["GET"]}
    assert response["Allow"] == "GET"


def test_query_validation_is_a_422_envelope(
    street: TaskStreet, token_client: Callable[[Any], Client]
) -> None:
    response = token_client(street["zhou"]).get("/api/v1/areas?limit=0&level=planet")
    assert response.status_code == 422
    error = envelope(response)
    assert {tuple(d["loc"]) for d in error["details"]} == {
        ("query", "limit"),
        ("query", "level"),
    }


def test_messages_follow_the_request_language(db: Any) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/api/v1/areas")
    assert envelope(response)["message"] == "需要身份认证：请发送令牌（Bearer token）或先登录。"
