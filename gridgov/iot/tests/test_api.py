"""``POST /api/v1/iot/ingest`` with the device's token."""

from __future__ import annotations

import datetime as dt
import json

from django.test import Client
from django.utils import timezone

from gridgov.iot.choices import DeviceKind
from gridgov.iot.models import Alarm, IngestCounter
from gridgov.iot.tests.conftest import Kit

URL = "/api/v1/iot/ingest"


def post(client: Client, body: object, token: str | None) -> tuple[int, dict]:
    headers = {"HTTP_X_DEVICE_TOKEN": token} if token else {}
    response = client.post(URL, data=json.dumps(body), content_type="application/json", **headers)
    return response.status_code, response.json()


def test_it_ingests_with_the_device_token_and_answers_a_retry_as_duplicate(kit: Kit) -> None:
    client = Client()
    device = kit.devices[DeviceKind.SOS_BUTTON]
    body = {"serial": device.serial, "id": "h1", "ts": timezone.now().isoformat(), "event": "sos"}
    status, data = post(client, body, kit.tokens[DeviceKind.SOS_BUTTON])
    assert status == 202
    assert data["accepted"] is True
    assert data["alarms"] == [Alarm.objects.get().pk]
    status, data = post(client, body, kit.tokens[DeviceKind.SOS_BUTTON])
    assert (status, data["reason"]) == (200, "duplicate")
    counts = dict(IngestCounter.objects.filter(channel="http").values_list("outcome", "count"))
    assert counts == {"accepted": 1, "duplicate": 1}


def test_it_refuses_bad_tokens_unknown_devices_and_bad_bodies(kit: Kit) -> None:
    client = Client()
    device = kit.devices[DeviceKind.WATER_METER]
    now = timezone.now()
    body = {
        "serial": device.serial,
        "id": "h2",
        "ts": now.isoformat(),
        "values": {"water_total_l": 1},
    }
    status, data = post(client, body, "wrong")
    assert (status, data["error"]["code"]) == (401, "device_not_authenticated")
    status, data = post(client, {**body, "serial": "NOPE"}, kit.tokens[DeviceKind.WATER_METER])
    assert (status, data["error"]["code"]) == (401, "device_not_authenticated")
    future = (now + dt.timedelta(hours=2)).isoformat()
    status, data = post(client, {**body, "ts": future}, kit.tokens[DeviceKind.WATER_METER])
    assert (status, data["error"]["details"]["reason"]) == (422, "far_future")
    response = client.post(URL, data=b"\xff\x00", content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["reason"] == "malformed"
