"""The digital-family pages: the live alarm board and a household's device panel.

Thin callers: reads through ``iot.selectors`` (scoped to the user's areas: an alarm or
household outside them is a 404), writes through ``iot.services`` with
``actor=request.user``; their errors come back as messages. The board refreshes its rows
with htmx polling every ``POLL_SECONDS``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gridgov.core.errors import GridgovError
from gridgov.iot import rules
from gridgov.iot.choices import AlarmOutcome, RuleCode
from gridgov.iot.models import Device
from gridgov.iot.selectors import (
    alarm_get_visible,
    alarm_list_visible_to,
    household_devices_visible_to,
)
from gridgov.iot.services import (
    RESPONDER_ROLES,
    alarm_acknowledge,
    alarm_clear,
    alarm_response_record,
    rule_settings,
    setting_for,
)
from gridgov.people.masking import mask_phone
from gridgov.people.models import Household
from gridgov.people.selectors import user_holds_role

POLL_SECONDS = 5
BOARD_LIMIT = 200
HISTORY_LIMIT = 20


def _require_responder(request: HttpRequest) -> None:
    if not user_holds_role(request.user, RESPONDER_ROLES):
        raise DjangoPermissionDenied(_("The alarm pages are for staff with a role."))


def _board_context(request: HttpRequest) -> dict[str, object]:
    alarms = list(alarm_list_visible_to(request.user)[:BOARD_LIMIT])
    return {
        "alarms": alarms,
        "critical": sum(1 for a in alarms if a.severity == "critical"),
        "outcomes": AlarmOutcome.choices,
        "now": timezone.now(),
        "poll_seconds": POLL_SECONDS,
    }


@login_required
@require_GET
def alarm_board(request: HttpRequest) -> HttpResponse:
    """The live board: open alarms in the user's areas, critical first."""
    _require_responder(request)
    return render(request, "iot/alarms.html", _board_context(request))


@login_required
@require_GET
def alarm_rows(request: HttpRequest) -> HttpResponse:
    """The board's rows alone (polled by htmx)."""
    _require_responder(request)
    return render(request, "iot/_alarm_rows.html", _board_context(request))


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("iot:alarms")
    return redirect(target)


@login_required
@require_POST
def alarm_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Acknowledge, clear (``outcome``, ``reason``), or record a phone call
    (``answered``) or a visit, then go back to the page the form came from."""
    alarm = alarm_get_visible(request.user, pk)
    if alarm is None:
        raise Http404(_("No such alarm."))
    note = (request.POST.get("note") or "").strip()
    try:
        if action == "acknowledge":
            alarm_acknowledge(actor=request.user, alarm=alarm, note=note)
            messages.success(request, _("Alarm acknowledged."))
        elif action == "clear":
            alarm_clear(
                actor=request.user,
                alarm=alarm,
                outcome=request.POST.get("outcome") or "",
                reason=request.POST.get("reason") or "",
            )
            messages.success(request, _("Alarm cleared."))
        elif action in ("phone", "visit"):
            answered = None
            if action == "phone":
                answered = {"yes": True, "no": False}.get(request.POST.get("answered") or "")
            alarm_response_record(
                actor=request.user, alarm=alarm, step=action, answered=answered, note=note
            )
            messages.success(request, _("Recorded."))
        else:
            raise Http404(_("No such action."))
    except GridgovError as exc:
        messages.error(request, exc.message)
    return _back(request)


def _device_status(device: Device, table: dict, now: dt.datetime) -> str:
    if device.last_measured_at is None:
        return "never"
    setting = setting_for(table, device.household_id, RuleCode.OFFLINE)
    silent = now - device.last_measured_at >= rules.offline_after(device.kind, setting)
    return "offline" if silent else "online"


@login_required
@require_GET
def household_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """A household's devices (battery, last reading, online or not) and its alarms."""
    try:
        household, devices = household_devices_visible_to(request.user, pk)
    except Household.DoesNotExist:
        raise Http404(_("No such household.")) from None
    now = timezone.now()
    table = rule_settings([household.pk])
    rows = [(d, _device_status(d, table, now)) for d in devices]
    alarms = list(
        alarm_list_visible_to(request.user, open_only=False).filter(household=household)[
            :HISTORY_LIMIT
        ]
    )
    return render(
        request,
        "iot/household.html",
        {
            "household": household,
            "phone": mask_phone(household.phone),
            "devices": rows,
            "alarms": alarms,
            "outcomes": AlarmOutcome.choices,
            "now": now,
        },
    )
