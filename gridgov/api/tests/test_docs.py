"""OpenAPI and the offline docs page."""

from __future__ import annotations

import json
import re
from typing import Any

from django.test import Client


def test_openapi_declares_both_auths_and_the_envelope(db: Any) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    assert "ErrorOut" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        assert path.startswith("/api/v1/")
        for operation in operations.values():
            assert "4XX" in operation["responses"], path


def test_the_docs_page_loads_nothing_from_other_hosts(db: Any) -> None:
    client = Client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assets = re.findall(r"""(?:src|href)=["'](/api/v1/docs/assets/[^"']+)""", html)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {
        "swagger-ui-bundle.js",
        "swagger-ui-init.js",
        "swagger-ui.css",
    }
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content)
        assert len(body) > 100


def test_only_the_listed_assets_are_served(db: Any) -> None:
    client = Client()
    for name in ["redoc.standalone.js", "..%2F__init__.py", "nothing.js"]:
        response = client.get(f"/api/v1/docs/assets/{name}")
        assert response.status_code == 404, name
