"""The resident's pages at /resident/ (report a problem, follow a report)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "resident"
urlpatterns: list[URLPattern | URLResolver] = []
