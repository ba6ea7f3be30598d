"""URLs of the API, included by ``gridgov.urls`` at ``api/v1/`` (outside i18n_patterns).

Ninja's own patterns (wrapped so that a 405 is the error envelope too), the docs assets,
and a catch-all that answers any other path under ``/api/v1/`` with the 404 envelope.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from gridgov.api.docs import docs_asset
from gridgov.api.errors import envelope_errors, not_found_view
from gridgov.api.v1 import api


def _wrapped(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    result: list[URLPattern | URLResolver] = []
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            # Ninja's root view (kept by name: Ninja reverses it to find the API's prefix)
            # is a bare 404 page; ours is the envelope.
            root = pattern.name == "api-root"
            pattern = URLPattern(
                pattern.pattern,
                not_found_view if root else envelope_errors(pattern.callback),
                pattern.default_args,
                pattern.name,
            )
        result.append(pattern)
    return result


app_name = "api"
ninja_patterns, _app, _namespace = api.urls
urlpatterns = [
    path("docs/assets/<str:name>", docs_asset, name="docs-asset"),
    *_wrapped(ninja_patterns),
    re_path(r"^.*$", not_found_view, name="not-found"),
]
