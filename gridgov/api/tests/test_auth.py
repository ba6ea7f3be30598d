"""Bearer tokens and sessions: who gets in, and CSRF on session writes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from gridgov.api.models import ApiToken
from gridgov.api.services import api_token_create, api_token_revoke
from gridgov.core.errors import Conflict
from gridgov.tasks.tests.factories import TaskStreet

NOON = dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC)


def _bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _code(response: Any) -> str:
    return json.loads(response.content)["error"]["code"]


def test_a_token_is_stored_only_as_its_sha256(street: TaskStreet) -> None:
    token, raw = api_token_create(user=street["chen"], name="phone")
    assert raw.startswith("ggv_")
    assert len(raw) > 40
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {row.key_hash, row.prefix, row.name}
    assert raw.startswith(row.prefix)


def test_a_valid_token_authenticates_and_records_last_use(street: TaskStreet) -> None:
    token, raw = api_token_create(user=street["chen"])
    with time_machine.travel(NOON, tick=False):
        response = _bearer(raw).get("/api/v1/areas")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == NOON
    # Within a minute, no further write; after it, one.
    with time_machine.travel(NOON + dt.timedelta(seconds=30), tick=False):
        _bearer(raw).get("/api/v1/areas")
    token.refresh_from_db()
    assert token.last_used_at == NOON
    with time_machine.travel(NOON + dt.timedelta(minutes=2), tick=False):
        _bearer(raw).get("/api/v1/areas")
    token.refresh_from_db()
    assert token.last_used_at == NOON + dt.timedelta(minutes=2)


def test_bad_tokens_get_401(street: TaskStreet) -> None:
    _token, raw = api_token_create(user=street["chen"])
    _other, inactive_raw = api_token_create(user=street["li"])
    street["li"].is_active = False
    street["li"].save()
    revoked, revoked_raw = api_token_create(user=street["zhou"])
    api_token_revoke(token=revoked)
    for header in [
        f"Bearer {raw}x",
        f"Bearer {revoked_raw}",
        f"Bearer {inactive_raw}",
        "Bearer ",
        "Bearer nonsense",
        f"Token {raw}",
        f"Basic {raw}",
    ]:
        response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/areas")
        assert response.status_code == 401, header
        assert _code(response) == "not_authenticated"


def test_a_revoked_token_stops_working(street: TaskStreet) -> None:
    token, raw = api_token_create(user=street["chen"])
    assert _bearer(raw).get("/api/v1/areas").status_code == 200
    api_token_revoke(token=token)
    assert _bearer(raw).get("/api/v1/areas").status_code == 401
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_a_session_authenticates_reads(street: TaskStreet) -> None:
    client = Client()
    client.force_login(street["chen"])
    assert client.get("/api/v1/areas").status_code == 200


def test_session_writes_need_the_csrf_token(street: TaskStreet) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(street["chen"])
    # Any unsafe method under the API: the check runs before the operation.
    response = client.post("/api/v1/tasks", data={}, content_type="application/json")
    assert response.status_code == 403
    assert _code(response) == "csrf_failed"
    client.get("/api/v1/docs")  # sets the CSRF cookie, as any page of the site does
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/tasks", data={}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert response.status_code == 422  # past authentication: the empty body is invalid


def test_token_writes_need_no_csrf_token(
    street: TaskStreet,
) -> None:
    _token, raw = api_token_create(user=street["chen"])
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post("/api/v1/tasks", data={}, content_type="application/json")
    assert response.status_code == 422


def test_anonymous_writes_get_401_not_a_csrf_error(db: Any) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/tasks", data={}, content_type="application/json"
    )
    assert response.status_code == 401
    assert _code(response) == "not_authenticated"


def test_revoking_twice_is_a_conflict(street: TaskStreet) -> None:
    token, _raw = api_token_create(user=street["chen"])
    api_token_revoke(token=token, now=timezone.now())
    with pytest.raises(Conflict) as excinfo:
        api_token_revoke(token=token)
    assert excinfo.value.code == "already_revoked"
