"""Reads of the digital family, scoped by the reader's areas (``people.selectors``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, Count, Q, QuerySet, Value, When

from gridgov.areas.models import Area
from gridgov.iot.choices import FALSE_ALARM_OUTCOMES, OPEN_ALARM_STATES, AlarmState, Severity
from gridgov.iot.models import Alarm, Device
from gridgov.people.models import Household
from gridgov.people.selectors import scope_queryset


def alarm_list_visible_to(user: Any, *, open_only: bool = True) -> QuerySet[Alarm]:
    """Return the alarms of households in ``user``'s areas with device, household, area
    and task: active before acknowledged (before cleared), critical before major before
    warning, then newest first; ``open_only``: active and acknowledged only."""
    qs = Alarm.objects.select_related("device", "household__area", "task__assignee")
    if open_only:
        qs = qs.filter(state__in=OPEN_ALARM_STATES)
    severity_rank = Case(
        When(severity=Severity.CRITICAL, then=Value(0)),
        When(severity=Severity.MAJOR, then=Value(1)),
        default=Value(2),
    )
    state_rank = Case(When(state=AlarmState.ACTIVE, then=Value(0)), default=Value(1))
    return scope_queryset(qs, user, area_field="household__area").order_by(
        state_rank, severity_rank, "-last_at", "-id"
    )


def alarm_get_visible(user: Any, pk: int) -> Alarm | None:
    """Return alarm ``pk`` if it is in ``user``'s areas, else None."""
    return alarm_list_visible_to(user, open_only=False).filter(pk=pk).first()


def household_devices_visible_to(user: Any, household_id: int) -> tuple[Household, list[Device]]:
    """Return a household in ``user``'s areas and its devices; raise ``Household.DoesNotExist``
    when it is not there (or not visible)."""
    household = scope_queryset(
        Household.objects.select_related("area"), user, area_field="area"
    ).get(pk=household_id)
    return household, list(Device.objects.filter(household=household).order_by("kind", "serial"))


def false_alarm_rate(
    *, area: Area | None, since: dt.datetime, until: dt.datetime
) -> dict[str, Any]:
    """The false-alarm rate of alarms cleared in [``since``, ``until``) in ``area`` (and
    below; ``None``: everywhere): ``false_alarms / cleared`` where false alarms are the
    outcomes ``false_alarm``, ``away`` and ``meter_fault`` (each recorded with a reason).
    Output: ``{"cleared": n, "false_alarms": m, "rate": m / n or None}``."""
    qs = Alarm.objects.filter(state=AlarmState.CLEARED, cleared_at__gte=since, cleared_at__lt=until)
    if area is not None:
        qs = qs.filter(household__area__code__startswith=area.code)
    row = qs.aggregate(
        cleared=Count("id"), false_alarms=Count("id", filter=Q(outcome__in=FALSE_ALARM_OUTCOMES))
    )
    cleared, false = row["cleared"], row["false_alarms"]
    return {
        "cleared": cleared,
        "false_alarms": false,
        "rate": (false / cleared) if cleared else None,
    }
