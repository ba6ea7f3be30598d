from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

admin.site.site_header = admin.site.site_title = "gridgov"

#: A refused request answers in its interface's format (gridgov/views.py).
handler400 = "gridgov.views.bad_request"

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
    # The REST API: versioned, outside i18n_patterns (the language comes from the
    # Accept-Language header), see gridgov/api and docs/api.md.
    path("api/v1/", include("gridgov.api.urls", namespace="api-v1")),
    # Open311 GeoReport v2 for residents' apps (gridgov/open311, docs/open311.md).
    path("open311/v2/", include("gridgov.open311.urls", namespace="open311")),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("manage/", include("gridgov.web.manage_urls", namespace="manage")),
    path("dashboard/", include("gridgov.analytics.urls", namespace="analytics")),
    path("iot/", include("gridgov.iot.urls", namespace="iot")),
    path("resident/", include("gridgov.open311.resident_urls", namespace="resident")),
    # The web pages (gridgov/web, docs/web.md): the root is the user's home page.
    path("", include("gridgov.web.urls", namespace="web")),
    prefix_default_language=False,
)
