"""GeoReport v2 views at /open311/v2/ (thin: parse, call a selector or service, render).

Every call answers in the format of its suffix (``.json`` or ``.xml``). Errors
(GeoReport v2): 404 unknown service or request, 403 missing or wrong ``api_key``, 400 for
everything else, 429 when throttled; the body is ``[{code, description}]``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gridgov.core.errors import GridgovError, NotFound, PermissionDenied
from gridgov.open311 import selectors
from gridgov.open311.attributes import service_definition_attributes
from gridgov.open311.formats import PostData, error_response, post_read, respond
from gridgov.open311.models import ApiKey, Channel
from gridgov.open311.services import (
    api_key_authenticate,
    error_problems,
    service_request_create,
    service_request_update_post,
)
from gridgov.open311.throttle import throttle_hit

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
STATUS_OF = {NotFound: 404, PermissionDenied: 403}
View = Callable[..., HttpResponse]


def _throttled(scope: str, ident: str, limit: int) -> int:
    return throttle_hit(
        scope=scope,
        ident=ident,
        limit=limit,
        window_s=settings.GRIDGOV_OPEN311_THROTTLE_WINDOW_SECONDS,
    )


def _too_many(fmt: str, wait: int) -> HttpResponse:
    return error_response(
        fmt,
        429,
        [_("Too many requests; try again in %(s)d seconds.") % {"s": wait}],
        headers={"Retry-After": str(wait)},
    )


def endpoint(*methods: str) -> Callable[[View], View]:
    """Wrap a GeoReport v2 view: allowed methods, per-IP throttling, the jurisdiction
    check (``_other_jurisdiction``), and ``GridgovError`` → the standard error in the
    requested format."""

    def wrap(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            # The language is the client's: gridgov.core.middleware.ClientLanguageMiddleware.
            return _answer(request, *args, fmt=fmt, **kwargs)

        def _answer(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return error_response(
                    fmt, 400, [_("Use %(methods)s here.") % {"methods": _(" or ").join(methods)}]
                )
            ip = request.META.get("REMOTE_ADDR") or "unknown"
            if wait := _throttled("ip", ip, settings.GRIDGOV_OPEN311_THROTTLE_PER_IP):
                return _too_many(fmt, wait)
            jurisdiction = request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
            if refused := _other_jurisdiction(fmt, jurisdiction):
                return refused
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except GridgovError as error:
                return error_response(fmt, STATUS_OF.get(type(error), 400), error_problems(error))

        return inner

    return wrap


def _other_jurisdiction(fmt: str, jurisdiction: str | None) -> HttpResponse | None:
    """The 404 for a ``jurisdiction_id`` that is not ours, else ``None``.

    GeoReport v2 makes ``jurisdiction_id`` required only where one endpoint serves several
    jurisdictions. With ``GRIDGOV_OPEN311_JURISDICTION`` set, a request naming another
    one is refused (it is meant for someone else); unset (the default: the endpoint
    serves its one city and has no id to compare with), ``jurisdiction_id`` is ignored.
    """
    expected = settings.GRIDGOV_OPEN311_JURISDICTION
    if jurisdiction and expected and jurisdiction != expected:
        return error_response(
            fmt, 404, [_("Unknown jurisdiction_id %(j)s.") % {"j": jurisdiction[:40]}]
        )
    return None


def _api_key(fmt: str, raw: str) -> ApiKey | HttpResponse:
    """The client's key, or the 403/429 answer."""
    key = api_key_authenticate(raw=raw.strip()) if raw else None
    if key is None:
        return error_response(
            fmt,
            403,
            [_("api_key is missing or not valid.") if raw else _("api_key is required.")],
        )
    if wait := _throttled("key", str(key.pk), settings.GRIDGOV_OPEN311_THROTTLE_PER_KEY):
        return _too_many(fmt, wait)
    return key


def _extensions(request: HttpRequest) -> bool:
    return request.GET.get("extensions", "").lower() in ("true", "1")


@endpoint("GET")
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """Where the GeoReport v2 endpoint is and what it speaks."""
    url = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt}))
    base = url.rsplit("/", 1)[0]
    return respond(
        fmt,
        "discovery",
        {
            "changeset": "2026-11-30T00:00:00+08:00",
            "contact": settings.GRIDGOV_OPEN311_CONTACT,
            "key_service": _("Ask the administrator for an api key (one per client)."),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base,
                    "changeset": "2026-11-30T00:00:00+08:00",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@endpoint("GET")
def services(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """GET services: the public task types."""
    return respond(
        fmt, "services", [selectors.service_as_dict(t) for t in selectors.service_list()]
    )


@endpoint("GET")
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    """GET service definition: the type's report fields as attributes."""
    task_type = selectors.service_get(code=code)
    return respond(
        fmt,
        "service_definition",
        {
            "service_code": task_type.code,
            "attributes": service_definition_attributes(task_type.report_fields or []),
        },
    )


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    data: PostData = post_read(request)
    # A JSON or XML body may name the jurisdiction too (a form's is checked by endpoint).
    if refused := _other_jurisdiction(fmt, data.get("jurisdiction_id")):
        return refused
    key = _api_key(fmt, data.get("api_key"))
    if isinstance(key, HttpResponse):
        return key
    created = service_request_create(
        service_code=data.get("service_code"),
        lat=data.get("lat"),
        lon=data.get("long"),
        description=data.get("description"),
        attributes=data.attributes,
        address_string=data.get("address_string"),
        address_id=data.get("address_id"),
        media_url=data.get("media_url"),
        photos=data.files,
        phone=data.get("phone"),
        email=data.get("email"),
        first_name=data.get("first_name"),
        last_name=data.get("last_name"),
        device_id=data.get("device_id"),
        account_id=data.get("account_id"),
        api_key=key,
        channel=Channel.OPEN311,
    )
    return respond(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": created.task.number,
                "token": created.token,
                "service_notice": selectors.service_notice(created.task.task_type),
                "account_id": created.account_id or None,
            }
        ],
        status=201,
    )


@endpoint("GET", "POST")
def requests_(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """GET requests (filters) or POST a new request (with ``api_key``)."""
    if request.method == "POST":
        return _post_request(request, fmt)
    extensions = _extensions(request)
    query = selectors.request_query_parse(request.GET, extensions=extensions)
    found = selectors.request_list(query=query)
    return respond(
        fmt, "service_requests", selectors.requests_as_dicts(found, extensions=extensions)
    )


@endpoint("GET")
def request_detail(request: HttpRequest, number: str, *, fmt: str) -> HttpResponse:
    """GET service request: one report by its id (the task number), in a list."""
    found = selectors.request_get(number=number)
    return respond(
        fmt,
        "service_requests",
        [selectors.request_as_dict(found, extensions=_extensions(request))],
    )


@endpoint("GET")
def token(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    """GET service_request_id from a token."""
    found = selectors.request_get_by_token(token=token)
    return respond(
        fmt, "service_requests", [{"service_request_id": found.task.number, "token": found.token}]
    )


@endpoint("GET", "POST")
def updates(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """FixMyStreet's servicerequestupdates: GET the state changes of reports in a date
    range; POST a resident's update to a report. Both need ``api_key``."""
    data = post_read(request) if request.method == "POST" else PostData()
    if request.method == "GET":
        for name, value in request.GET.items():
            data.add(name, value)
    if refused := _other_jurisdiction(fmt, data.get("jurisdiction_id")):
        return refused
    key = _api_key(fmt, data.get("api_key"))
    if isinstance(key, HttpResponse):
        return key
    if request.method == "POST":
        event = service_request_update_post(
            api_key=key,
            service_request_id=data.get("service_request_id"),
            description=data.get("description"),
            status=data.get("status"),
            # FixMyStreet sends its own id as update_id_ext, or as update_id.
            update_id_ext=data.get("update_id_ext") or data.get("update_id"),
            media_url=data.get("media_url"),
        )
        return respond(fmt, "service_request_updates", [{"update_id": str(event.pk)}], status=201)
    query = selectors.request_query_parse(request.GET)
    return respond(
        fmt,
        "service_request_updates",
        selectors.update_list(start=query.start, end=query.end),
    )


@csrf_exempt
def unknown(request: HttpRequest, path: str) -> HttpResponse:
    """Any other path under /open311/v2/: 404 in XML (or JSON for a .json path)."""
    fmt = "json" if path.endswith(".json") else "xml"
    return error_response(fmt, 404, [_("No such call: %(path)s") % {"path": path[:80]}])
