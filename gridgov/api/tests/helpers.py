"""Helpers for API tests in any app: a client with a bearer token, JSON and envelope readers."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from gridgov.api.services import api_token_create


def bearer_client(user: Any, **defaults: Any) -> Client:
    """A test client that authenticates as ``user`` with a fresh bearer token."""
    _token, raw = api_token_create(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en", **defaults)


def ok(response: Any, status: int = 200) -> Any:
    """Assert ``status`` and return the decoded JSON body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    return json.loads(response.content)


def envelope(response: Any, status: int | None = None) -> dict[str, Any]:
    """Assert the response is the error envelope (with ``status`` if given); return its
    ``error`` object."""
    if status is not None:
        assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]
