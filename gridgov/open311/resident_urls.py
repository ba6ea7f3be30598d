"""The resident's pages at /resident/ (report a problem, follow a report)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from gridgov.open311 import resident_views as views

app_name = "resident"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("code/", views.code, name="code"),
    path("receipt/<str:number>/", views.receipt, name="receipt"),
    path("follow/", views.follow, name="follow"),
]
