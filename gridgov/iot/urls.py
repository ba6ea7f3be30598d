"""The digital-family pages at /iot/ (the live alarm board, a household's device panel)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gridgov.iot import views

app_name = "iot"
urlpatterns: list[URLPattern | URLResolver] = [
    path("alarms/", views.alarm_board, name="alarms"),
    path("alarms/rows/", views.alarm_rows, name="alarm-rows"),
    path("alarms/<int:pk>/<slug:action>/", views.alarm_action, name="alarm-action"),
    path("households/<int:pk>/", views.household_panel, name="household"),
]
