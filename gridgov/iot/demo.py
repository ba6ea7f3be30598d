"""The demo street's digital-family kits (called by ``gridgov seed-demo``)."""

from __future__ import annotations

import secrets

from django.db.models import Exists, OuterRef

from gridgov.iot.choices import DeviceKind
from gridgov.iot.models import Device
from gridgov.iot.services import KIND_CODES, device_token_hash
from gridgov.people.choices import ResidentTag
from gridgov.people.models import Household, ResidentTagAssignment

#: Tags that make a household "elderly" for the kit (Wuxing: households with people 60+).
KIT_TAGS = (
    ResidentTag.ELDERLY, ResidentTag.ELDERLY_HIGH_RISK, ResidentTag.ELDERLY_KEY,
    ResidentTag.ELDERLY_RED, ResidentTag.LIVING_ALONE, ResidentTag.EMPTY_NEST,
)  # fmt: skip


def kits_seed(*, area_code: str = "") -> int:
    """Give every household with an elderly resident (inside ``area_code``) a kit — a
    device of each kind, serial ``DEMO-<household id>-<kind code>`` — unless it has one;
    return the devices created. Idempotent. The tokens are random and thrown away:
    ``gridgov iot-simulate`` issues new ones for the households it simulates."""
    elderly = ResidentTagAssignment.objects.filter(
        resident__household=OuterRef("pk"), tag__in=KIT_TAGS
    )
    households = (
        Household.objects.filter(Exists(elderly), area__code__startswith=area_code)
        .exclude(Exists(Device.objects.filter(household=OuterRef("pk"))))
        .values_list("pk", flat=True)
    )
    devices = [
        Device(
            household_id=pk,
            kind=kind,
            serial=f"DEMO-{pk}-{KIND_CODES[kind]}",
            token_hash=device_token_hash(secrets.token_urlsafe(32)),
        )
        for pk in households
        for kind in DeviceKind.values
    ]
    Device.objects.bulk_create(devices, batch_size=1000, ignore_conflicts=True)
    return len(devices)
