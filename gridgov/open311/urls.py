"""GeoReport v2 at /open311/v2/ (outside i18n_patterns), see docs/open311.md."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "open311"
urlpatterns: list[URLPattern | URLResolver] = []
