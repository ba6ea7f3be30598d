"""Ingestion: what is stored, what is refused and why, in order, without duplicates."""

from __future__ import annotations

import datetime as dt
import json

from gridgov.iot.choices import DeviceKind, Metric, RejectReason
from gridgov.iot.models import HourlyAggregate, IngestCounter, IngestReject, Reading
from gridgov.iot.services import IncomingMessage, reading_ingest, readings_ingest
from gridgov.iot.tests.conftest import T0, Kit

WM = DeviceKind.WATER_METER


def test_it_stores_values_use_and_hourly_aggregates(kit: Kit) -> None:
    assert kit.send(WM, T0, {"water_total_l": 1000.0, "battery_pct": 90}).accepted
    assert kit.send(WM, T0 + dt.timedelta(minutes=15), {"water_total_l": 1012.5}).accepted
    uses = list(
        Reading.objects.filter(metric=Metric.WATER_USE_L)
        .order_by("measured_at")
        .values_list("value", flat=True)
    )
    assert uses == [0.0, 12.5]
    agg = HourlyAggregate.objects.get(metric=Metric.WATER_USE_L)
    assert (agg.count, agg.total, agg.minimum, agg.maximum, agg.last) == (2, 12.5, 0.0, 12.5, 12.5)
    device = kit.devices[WM]
    device.refresh_from_db()
    assert device.battery_pct == 90
    assert device.last_total == 1012.5


def test_it_rejects_with_a_counted_logged_reason_and_never_raises(kit: Kit) -> None:
    device = kit.devices[WM]
    token = kit.tokens[WM]
    good = {"id": "a1", "ts": T0.isoformat(), "values": {"water_total_l": 5}}
    cases = [
        (IncomingMessage(b"{not json", serial=device.serial, token=token), RejectReason.MALFORMED),
        (IncomingMessage({**good, "ts": "2026-03-02T08:00"}, device.serial, token), "malformed"),
        (IncomingMessage({**good, "values": {"x": 1}}, device.serial, token), "malformed"),
        (IncomingMessage(good, "NO-SUCH", token), RejectReason.UNKNOWN_DEVICE),
        (IncomingMessage(good, device.serial, "wrong"), RejectReason.BAD_TOKEN),
        (
            IncomingMessage(
                {**good, "id": "f", "ts": (T0 + dt.timedelta(hours=1)).isoformat()},
                device.serial,
                token,
            ),
            RejectReason.FAR_FUTURE,
        ),
        (IncomingMessage(good, device.serial, token), ""),
        (IncomingMessage(good, device.serial, token), RejectReason.DUPLICATE),
    ]
    results = readings_ingest(messages=[m for m, _r in cases], channel="mqtt", now=T0)
    assert [r.reason for r in results] == [r for _m, r in cases]
    assert results[6].accepted
    counts = dict(IngestCounter.objects.values_list("outcome", "count"))
    assert counts == {"accepted": 1, "malformed": 3, "unknown_device": 1, "bad_token": 1,
                      "far_future": 1, "duplicate": 1}  # fmt: skip
    assert IngestReject.objects.count() == 7
    # The duplicate in a later batch is refused too, and nothing was stored twice.
    again = reading_ingest(payload=json.dumps(good), serial=device.serial, token=token, now=T0)
    assert again.reason == RejectReason.DUPLICATE
    assert Reading.objects.filter(metric=Metric.WATER_TOTAL_L).count() == 1


def test_it_applies_a_batch_in_time_order_and_refuses_older_than_applied(kit: Kit) -> None:
    device, token = kit.devices[WM], kit.tokens[WM]

    def msg(i: int, minutes: int, total: float) -> IncomingMessage:
        at = (T0 + dt.timedelta(minutes=minutes)).isoformat()
        return IncomingMessage({"id": f"o{i}", "ts": at, "values": {"water_total_l": total}},
                               device.serial, token)  # fmt: skip

    now = T0 + dt.timedelta(hours=1)
    results = readings_ingest(
        messages=[msg(2, 30, 20.0), msg(1, 15, 10.0)], channel="http", now=now
    )
    assert all(r.accepted for r in results)
    uses = Reading.objects.filter(metric=Metric.WATER_USE_L).order_by("measured_at")
    assert [u.value for u in uses] == [0.0, 10.0]
    late = readings_ingest(messages=[msg(3, 5, 1.0)], channel="http", now=now)[0]
    assert late.reason == RejectReason.OUT_OF_ORDER


def test_it_accepts_senml(kit: Kit) -> None:
    device, token = kit.devices[WM], kit.tokens[WM]
    pack = [
        {"bn": f"urn:dev:sn:{device.serial}:", "bt": T0.timestamp(), "mid": "s1", "tok": token,
         "n": "water_total_l", "u": "m3", "v": 1.5},
        {"n": "battery_pct", "u": "%EL", "v": 77},
    ]  # fmt: skip
    result = reading_ingest(payload=json.dumps(pack), now=T0)
    assert result.accepted, result
    assert Reading.objects.get(metric=Metric.WATER_TOTAL_L).value == 1500.0
    bad_unit = [{"bn": f"{device.serial}/", "bt": T0.timestamp(), "n": "water_total_l",
                 "u": "W", "v": 1, "tok": token}]  # fmt: skip
    assert reading_ingest(payload=bad_unit, now=T0).reason == RejectReason.MALFORMED
