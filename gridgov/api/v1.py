"""The REST API, version 1: one ``NinjaAPI`` mounted at ``/api/v1/``.

Routers live with their apps (``gridgov/<app>/api.py``) and are thin: parse, call a
selector or service, render. Authentication is a bearer token or the session (see
``auth.py``); errors are one envelope (see ``errors.py``). OpenAPI at
``/api/v1/openapi.json``, Swagger UI at ``/api/v1/docs`` (served locally, see ``docs.py``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser

from gridgov.api.auth import SessionAuth, TokenAuth
from gridgov.api.docs import OfflineSwagger
from gridgov.api.errors import install_error_handlers
from gridgov.api.schemas import ErrorOut
from gridgov.core.errors import ValidationFailed
from gridgov.core.validators import (
    character_name,
    control_character_message,
    data_forbidden_character,
)

DESCRIPTION = """\
gridgov's API for the web pages, phones and scripts.

Authenticate with `Authorization: Bearer <token>` (create one with
`gridgov api-token create USERNAME`) or a logged-in session (unsafe methods need the
`X-CSRFToken` header). Every error is `{"error": {"code", "message", "details"}}`.
Everything is scoped to the caller's areas. See docs/api.md.
"""


class GridgovParser(Parser):
    """Ninja's JSON parser, refusing a body whose text (values or keys, at any depth)
    holds a character of ``gridgov.core.validators.FORBIDDEN_CHARACTERS_RE`` — NUL, the
    other control characters but TAB, LF and CR, DEL, lone surrogates — with
    ``ValidationFailed`` code ``control_character`` (422, the envelope, ``details``
    ``{"field": dotted path, "character": "U+XXXX"}``; see ``errors._handle_http``).
    URLs and forms are checked by ``core.middleware.RejectControlCharactersMiddleware``."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        found = data_forbidden_character(data)
        if found:
            where, character = found
            raise ValidationFailed(
                f"{where}: {control_character_message(character)}"
                if where
                else control_character_message(character),
                code="control_character",
                details={"field": where, "character": character_name(character)},
            )
        return data


class GridgovAPI(NinjaAPI):
    """A ``NinjaAPI`` whose OpenAPI document declares the error envelope on every
    operation (as ``4XX``), so that clients and schema checkers know its shape."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in error_schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault("ErrorOut", error_schema)
        error_response = {
            "description": "Error envelope (400, 401, 403, 404, 405, 409, 422…)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.setdefault("responses", {}).setdefault("4XX", error_response)
        return schema


api = GridgovAPI(
    title="gridgov API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    docs=OfflineSwagger(),
    parser=GridgovParser(),
)
install_error_handlers(api)


def _add_routers() -> None:
    from gridgov.areas.api import router as areas_router
    from gridgov.catalog.api import router as catalog_router

    api.add_router("", areas_router, tags=["areas"])
    api.add_router("/catalog", catalog_router, tags=["catalogue"])
    from gridgov.api.campaigns import router as campaigns_router
    from gridgov.tasks.api import router as tasks_router

    api.add_router("", tasks_router)
    api.add_router("", campaigns_router)
    from gridgov.iot.api import router as iot_router

    api.add_router("", iot_router)


_add_routers()
