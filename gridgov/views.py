"""Project-level views: the 400 handler that answers in each interface's own format."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: a refused request (e.g. ``core.middleware.NulCharacter``, or any
    other ``SuspiciousOperation``) gets a 400 in the format its client reads — the API's
    error envelope under ``/api/``, the GeoReport v2 error list under ``/open311/`` (XML
    unless the path ends in ``.json``), the 400 page elsewhere."""
    message = _("The request holds characters that are not allowed (such as NUL).")
    path = request.path_info
    if path.startswith("/api/"):
        from gridgov.api.errors import error_response

        return error_response(400, "bad_request", message)
    if path.startswith("/open311/"):
        from gridgov.open311.formats import error_response as open311_error

        return open311_error("json" if path.endswith(".json") else "xml", 400, [message])
    return defaults.bad_request(request, exception)
