"""The pages of the command centre, community admins and grid leaders (``/manage/``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "manage"

urlpatterns: list[URLPattern | URLResolver] = []
