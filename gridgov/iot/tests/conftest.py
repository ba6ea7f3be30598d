"""Fixtures of the digital family's tests: the task engine's small street (household
``home`` in micro-grid ``m11``, grid workers ``chen``/``chen2``) with a kit of devices."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import factory.random
import pytest
from django.utils import translation

from gridgov.iot.choices import DeviceKind
from gridgov.iot.models import Device
from gridgov.iot.services import IngestResult, device_provision, reading_ingest
from gridgov.iot.tests.broker import Broker
from gridgov.tasks.tests.factories import TaskStreet, make_task_street

T0 = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)  # a Monday, 08:00 in Shanghai


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _seeded_fakes() -> None:
    factory.random.reseed_random("gridgov-iot")


@dataclass
class Kit:
    street: TaskStreet
    devices: dict[str, Device]
    tokens: dict[str, str]
    ids: Iterator[int]

    def send(
        self,
        kind: str,
        at: dt.datetime,
        values: dict[str, Any] | None = None,
        *,
        event: str | None = None,
        now: dt.datetime | None = None,
        message_id: str | None = None,
    ) -> IngestResult:
        """Send one message of the kit's ``kind`` device measured at ``at``."""
        device = self.devices[kind]
        body: dict[str, Any] = {
            "id": message_id or f"m{next(self.ids)}",
            "ts": at.isoformat(),
            "values": values or {},
        }
        if event:
            body["event"] = event
        return reading_ingest(
            payload=body,
            serial=device.serial,
            token=self.tokens[kind],
            channel="http",
            now=now or at,
        )


def make_kit(street: TaskStreet, prefix: str = "T") -> Kit:
    devices, tokens = {}, {}
    for kind in DeviceKind.values:
        device, token = device_provision(
            actor=None, household=street.households["home"], kind=kind, serial=f"{prefix}-{kind}"
        )
        devices[kind], tokens[kind] = device, token
    return Kit(street, devices, tokens, itertools.count(1))


@pytest.fixture
def kit(db: Any) -> Kit:
    return make_kit(make_task_street())


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A Mosquitto of the test's own (see ``broker.py``), stopped afterwards."""
    b = Broker(tmp_path)
    b.start()
    yield b
    b.stop()
