from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gridgov.analytics import views

app_name = "analytics"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
    path("map/", views.area_map_page, name="map"),
    path("ranking/", views.ranking, name="ranking"),
    path("hotspots/", views.hotspots, name="hotspots"),
]
