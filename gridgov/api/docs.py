"""The API's documentation page, served with no network access beyond this server.

Ninja's ``Swagger`` page loads Swagger UI from a CDN unless ``ninja`` is an installed app;
gridgov runs on closed networks, so the page here always uses the copy of Swagger UI that
the installed django-ninja package ships (``ninja/static/ninja``), served by
``docs_asset`` under ``/api/v1/docs/assets/``.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

import ninja
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_safe
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger, _csrf_needed

NINJA_STATIC = Path(ninja.__file__).resolve().parent / "static" / "ninja"
#: The only files ``docs_asset`` serves (nothing else of the package is reachable).
ASSETS: frozenset[str] = frozenset(
    {
        "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.map",
        "swagger-ui-init.js",
        "swagger-ui.css",
        "swagger-ui.css.map",
        "favicon.png",
        "favicon.svg",
    }
)


class OfflineSwagger(Swagger):
    """Swagger UI rendered from ``api/swagger.html`` with locally served assets."""

    template = "api/swagger.html"

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {
            "swagger_settings": json.dumps(settings, indent=1),
            "api": api,
            "add_csrf": _csrf_needed(api),
        }
        return render(request, self.template, context)


@require_safe
def docs_asset(request: HttpRequest, name: str) -> HttpResponseBase:
    """Serve one Swagger UI file from the installed django-ninja package."""
    from gridgov.api.errors import not_found_view

    if name not in ASSETS or not (NINJA_STATIC / name).is_file():
        return not_found_view(request)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse((NINJA_STATIC / name).open("rb"), content_type=content_type)
    # The files change only with the package version: let browsers keep them a day.
    response["Cache-Control"] = "public, max-age=86400"
    return response
