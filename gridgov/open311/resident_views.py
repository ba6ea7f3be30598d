"""The resident's pages at /resident/: report a problem (no login; the phone is checked
with an SMS code), a receipt with the report's number, and "follow my report" by number
and phone. Thin: forms in, services and selectors out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gridgov.areas.models import AreaLevel
from gridgov.areas.selectors import area_export_geojson
from gridgov.core.errors import Conflict, GridgovError, NotFound, ValidationFailed
from gridgov.open311 import selectors
from gridgov.open311.forms import FollowForm, ReportForm
from gridgov.open311.models import Channel
from gridgov.open311.services import (
    error_problems,
    phone_clean,
    service_request_create,
    sms_code_send,
    sms_code_verify,
)
from gridgov.open311.throttle import throttle_hit

VERIFIED = "open311_verified_phone"
MINE = "open311_reports"


#: Tries of "follow my report" per IP and window: a number is public on a receipt, so
#: guessing the phone behind it must stay slow.
FOLLOW_TRIES = 10


def _throttled(request: HttpRequest, scope: str, limit: int | None = None) -> bool:
    return bool(
        throttle_hit(
            scope=f"resident-{scope}",
            ident=request.META.get("REMOTE_ADDR") or "unknown",
            limit=limit or settings.GRIDGOV_OPEN311_THROTTLE_PER_IP,
            window_s=settings.GRIDGOV_OPEN311_THROTTLE_WINDOW_SECONDS,
        )
    )


def home(request: HttpRequest) -> HttpResponse:
    """The resident's start page: report a problem, or follow a report."""
    return render(request, "open311/resident/home.html")


def _map_context() -> dict[str, Any]:
    grids = area_export_geojson(level=AreaLevel.GRID, on=timezone.localdate())
    return {"grids": grids, "tile_url": getattr(settings, "GRIDGOV_MAP_TILE_URL", "")}


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """Report a problem. A phone verified once in this session needs no new code."""
    types = selectors.service_list()
    form = ReportForm(request.POST or None, request.FILES or None, types=types)
    if request.method == "POST" and form.is_valid():
        if _throttled(request, "report"):
            form.add_error(None, _("Too many reports from here; try again in a minute."))
        else:
            number = _report_send(request, form)
            if number:
                request.session[MINE] = [*request.session.get(MINE, []), number][-20:]
                return HttpResponseRedirect(reverse("resident:receipt", args=[number]))
    return render(
        request, "open311/resident/report.html", {"form": form, "types": types, **_map_context()}
    )


def _report_send(request: HttpRequest, form: ReportForm) -> str | None:
    """Check the phone's code (once per session), then create the report; put every
    problem on the form and return ``None`` when it fails."""
    data = form.cleaned_data
    try:
        phone = phone_clean(data["phone"])
        if request.session.get(VERIFIED) != phone:
            if not data.get("code"):
                raise ValidationFailed(_("Enter the verification code sent to your phone."))
            sms_code_verify(phone=phone, code=data["code"])
            request.session[VERIFIED] = phone
        if data.get("lon") is None or data.get("lat") is None:
            raise ValidationFailed(
                _("Give the location: allow the browser's location or tap the map.")
            )
        created = service_request_create(
            service_code=data["task_type"].code,
            lon=data["lon"],
            lat=data["lat"],
            description=data["description"],
            attributes=form.attributes(),
            photos=[data["photo"]] if data.get("photo") else [],
            phone=phone,
            channel=Channel.RESIDENT_PAGE,
        )
    except GridgovError as error:
        for problem in error_problems(error):
            form.add_error(None, problem)
        return None
    return created.task.number


@require_http_methods(["POST"])
def code(request: HttpRequest) -> HttpResponse:
    """Send a verification code to the posted phone; answer with a line of status
    (htmx swaps it in beside the button)."""
    if _throttled(request, "code"):
        message, ok = _("Too many codes asked from here; try again in a minute."), False
    else:
        try:
            sms_code_send(phone=request.POST.get("phone", ""))
            message, ok = _("A code was sent to your phone."), True
        except (ValidationFailed, Conflict) as error:
            message, ok = error.message, False
    if not request.headers.get("HX-Request"):  # without JavaScript: back to the form
        (messages.success if ok else messages.error)(request, message)
        return HttpResponseRedirect(reverse("resident:report"))
    return render(request, "open311/resident/_code_status.html", {"message": message, "ok": ok})


def receipt(request: HttpRequest, number: str) -> HttpResponse:
    """The receipt of a report made in this session: its number and status."""
    if number not in request.session.get(MINE, []):
        return HttpResponseRedirect(reverse("resident:follow"))
    found = selectors.request_get(number=number)
    return render(
        request,
        "open311/resident/receipt.html",
        {
            "request_": found,
            "task": found.task,
            "notice": selectors.service_notice(found.task.task_type),
        },
    )


@require_http_methods(["GET", "POST"])
def follow(request: HttpRequest) -> HttpResponse:
    """Follow a report by number and phone: its status and the public timeline."""
    form = FollowForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        if _throttled(
            request, "follow", min(FOLLOW_TRIES, settings.GRIDGOV_OPEN311_THROTTLE_PER_IP)
        ):
            form.add_error(None, _("Too many tries from here; try again in a minute."))
        else:
            try:
                found = selectors.request_follow(
                    number=form.cleaned_data["number"], phone=form.cleaned_data["phone"]
                )
            except NotFound as error:
                form.add_error(None, error.message)
            else:
                shown = found.task.duplicate_of or found.task
                context.update(
                    request_=found,
                    task=found.task,
                    shown=shown,
                    status=selectors.request_status(found.task, extensions=True),
                    timeline=selectors.request_timeline(found),
                    agency=selectors.agency_responsible(found.task),
                )
    return render(request, "open311/resident/follow.html", context)
