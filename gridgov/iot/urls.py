"""The digital-family pages at /iot/ (the live alarm board, a household's device panel)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "iot"
urlpatterns: list[URLPattern | URLResolver] = []
