from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gridgov.analytics import views

app_name = "analytics"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
]
