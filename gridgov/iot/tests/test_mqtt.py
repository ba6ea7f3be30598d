"""Ingestion over a real Mosquitto broker (one of the test's own): QoS 1, persistent
session, acknowledged after commit; a broker restart mid-stream loses no reading."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from typing import Any

import pytest

from gridgov.iot.choices import DeviceKind, Metric
from gridgov.iot.models import IngestCounter, Reading
from gridgov.iot.mqtt import Consumer, publisher_connect, serial_of
from gridgov.iot.tests.broker import Broker
from gridgov.iot.tests.conftest import Kit, make_kit
from gridgov.tasks.tests.factories import make_task_street

PREFIX = "gridgov/v1"


@pytest.fixture
def live_kit(transactional_db: Any) -> Kit:
    return make_kit(make_task_street(), prefix=f"Q{uuid.uuid4().hex[:6]}")


def publish_readings(url: str, kit: Kit, start: int, count: int) -> None:
    """Publish ``count`` water-meter readings at QoS 1, each confirmed by the broker."""
    client = publisher_connect(url)
    device = kit.devices[DeviceKind.WATER_METER]
    base = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    try:
        for n in range(start, start + count):
            body = {
                "id": f"r{n}",
                "ts": (base + dt.timedelta(seconds=n)).isoformat(),
                "token": kit.tokens[DeviceKind.WATER_METER],
                "values": {"water_total_l": float(n)},
            }
            info = client.publish(
                f"{PREFIX}/devices/{device.serial}/telemetry", json.dumps(body), qos=1
            )
            info.wait_for_publish(timeout=10)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def consume(url: str, client_id: str, idle: float = 2.0, batch: int = 100) -> Any:
    consumer = Consumer(url=url, client_id=client_id, prefix=PREFIX, batch_size=batch)
    return consumer.run(idle_exit=idle)


def test_topics_name_the_serial() -> None:
    assert serial_of("gridgov/v1/devices/WM-1/telemetry") == "WM-1"
    assert serial_of("gridgov/v1/devices/WM-1/event") == "WM-1"
    assert serial_of("gridgov/v1/devices/WM-1/other") is None


def test_it_ingests_over_mqtt_with_rejects_counted(broker: Broker, live_kit: Kit) -> None:
    client_id = f"t-{uuid.uuid4().hex[:8]}"
    consume(broker.url, client_id, idle=0.5)  # the session exists from now on
    publish_readings(broker.url, live_kit, 0, 50)
    client = publisher_connect(broker.url)
    for topic, body in [
        (f"{PREFIX}/devices/NOPE/telemetry", json.dumps({"id": "x", "ts": 1_800_000_000})),
        (f"{PREFIX}/devices/{live_kit.devices['water_meter'].serial}/telemetry", "not json"),
    ]:
        client.publish(topic, body, qos=1).wait_for_publish(timeout=10)
    client.disconnect()
    client.loop_stop()
    stats = consume(broker.url, client_id)
    assert stats.accepted == 50
    assert stats.rejected == {"malformed": 1, "unknown_device": 1}
    assert Reading.objects.filter(metric=Metric.WATER_TOTAL_L).count() == 50
    counts = dict(IngestCounter.objects.filter(channel="mqtt").values_list("outcome", "count"))
    assert counts == {"accepted": 50, "malformed": 1, "unknown_device": 1}


def test_a_broker_restart_mid_stream_loses_no_reading(broker: Broker, live_kit: Kit) -> None:
    client_id = f"t-{uuid.uuid4().hex[:8]}"
    consume(broker.url, client_id, idle=0.5)
    problems: list[BaseException] = []

    def stream() -> None:
        try:
            publish_readings(broker.url, live_kit, 0, 300)
            broker.restart()  # sessions and queued QoS 1 messages are kept on disk
            publish_readings(broker.url, live_kit, 300, 300)
        except BaseException as exc:  # reported by the test thread
            problems.append(exc)

    publisher = threading.Thread(target=stream)
    publisher.start()
    stats = consume(broker.url, client_id, idle=4.0, batch=25)
    publisher.join(timeout=60)
    assert not problems, problems
    values = sorted(
        Reading.objects.filter(metric=Metric.WATER_TOTAL_L).values_list("value", flat=True)
    )
    assert values == [float(n) for n in range(600)]  # every reading, once
    assert stats.accepted == 600
