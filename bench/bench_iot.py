"""IoT ingestion: ``gridgov mqtt``'s consumer against a bare paho subscriber, same stream,
same broker, same run; and the alarm-to-task latency.

Fixture: the small demo street (``seed_demo``), every household with a kit whose tokens
the benchmark re-issues; a Mosquitto broker of the benchmark's own on a free port
(persistence on, unlimited queues). ``MESSAGES`` (default 50,000) messages — water meter
totals every 15 minutes and the other devices' heartbeats, each a JSON message with a
token, in device-time order, all in the past — are published at QoS 1 while two
persistent sessions wait offline: the raw subscriber's and gridgov's.

Baseline: a bare paho client (MQTT 5, QoS 1, automatic acknowledgement) drains its
session and counts the messages: the broker's delivery rate on this machine. Ours: the
``gridgov mqtt`` consumer (``iot.mqtt.Consumer``) drains the same messages from its own
session — decode, token check, dedup, readings, hourly aggregates, rule states, alarms,
acknowledgement after commit. Figure: readings/s and the ratio (goals: ≥ 5,000/s,
≥ 0.5 of raw).

Latency: with the consumer running live, ``PRESSES`` SOS presses (each a new critical
alarm, hence a task) are published one every 50 ms; the latency of each is the task's
``created_at`` minus the press's publish time; p50 and p99 are printed (goal p99 ≤ 1 s).

``DATABASE_URL=postgres://…/gridgov_bench_iot python -m bench.bench_iot`` runs it on
PostgreSQL (the database must exist and be empty).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import emit, progress, setup_django

MESSAGES = int(os.environ.get("MESSAGES", "50000"))
PRESSES = int(os.environ.get("PRESSES", "100"))
#: Messages per batch; 0: the consumer's default (``iot.mqtt.BATCH_SIZE``).
BATCH = int(os.environ.get("BATCH", "0"))
PREFIX = "bench/v1"


def _fixture() -> dict[str, tuple[str, str]]:
    """Seed the street; return {serial: (kind, token)} of every kit device."""
    from gridgov.demo.seed import seed_demo
    from gridgov.iot.models import Device
    from gridgov.iot.services import device_token_reset

    seed_demo(scale="small")
    devices = {}
    for device in Device.objects.order_by("pk"):
        devices[device.serial] = (device.kind, device_token_reset(actor=None, device=device))
    return devices


def _stream(devices: dict[str, tuple[str, str]], count: int) -> list[tuple[str, bytes]]:
    """``count`` (topic, payload) in device-time order, ending a minute ago."""
    serials = sorted(devices)
    rounds = -(-count // len(serials))
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1) - dt.timedelta(minutes=15 * rounds)
    totals = dict.fromkeys(serials, 0.0)
    out: list[tuple[str, bytes]] = []
    for r in range(rounds):
        at = start + dt.timedelta(minutes=15 * r)
        hour = (at.hour + 8) % 24
        for serial in serials:
            if len(out) >= count:
                return out
            kind, token = devices[serial]
            body: dict[str, Any] = {"id": f"b{r}", "ts": at.isoformat(), "token": token}
            if kind == "water_meter":
                totals[serial] += 5.0 if 6 <= hour < 22 else 0.0
                body["values"] = {"water_total_l": totals[serial], "battery_pct": 90}
                channel = "telemetry"
            elif kind == "electricity_meter":
                totals[serial] += 50.0
                body["values"] = {"power_w": 200.0, "energy_wh": totals[serial]}
                channel = "telemetry"
            else:
                body.update(event="heartbeat", values={"battery_pct": 90})
                channel = "event"
            out.append((f"{PREFIX}/devices/{serial}/{channel}", json.dumps(body).encode()))
    return out


def _session(url: str, client_id: str) -> None:
    """Create an offline persistent session subscribed to the device topics."""
    from gridgov.iot.mqtt import Consumer

    Consumer(url=url, client_id=client_id, prefix=PREFIX).run(idle_exit=0.3)


def _publish(url: str, messages: list[tuple[str, bytes]]) -> None:
    from gridgov.iot.mqtt import publisher_connect

    client = publisher_connect(url)
    pending = []
    for topic, payload in messages:
        pending.append(client.publish(topic, payload, qos=1))
        if len(pending) >= 1000:
            for info in pending:
                info.wait_for_publish(timeout=60)
            pending.clear()
    for info in pending:
        info.wait_for_publish(timeout=60)
    client.disconnect()
    client.loop_stop()


def _raw_rate(url: str, client_id: str, expected: int) -> float:
    """Drain the raw session with a bare paho subscriber; messages per second."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from gridgov.iot.mqtt import broker_address, connect_properties, topics

    host, port, _tls = broker_address(url)
    done = threading.Event()
    state = {"n": 0, "first": 0.0, "last": 0.0}

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe([(t, 1) for t in topics(PREFIX)])

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        if state["n"] == 0:
            state["first"] = time.perf_counter()
        state["n"] += 1
        if state["n"] >= expected:
            state["last"] = time.perf_counter()
            done.set()

    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    client.on_connect = on_connect
    client.on_message = on_message
    started = time.perf_counter()
    client.connect(host, port, clean_start=False, properties=connect_properties())
    client.loop_start()
    done.wait(timeout=600)
    client.disconnect()
    client.loop_stop()
    return expected / (state["last"] - started)


def _ours_rate(url: str, client_id: str, expected: int) -> tuple[float, dict[str, Any]]:
    from gridgov.iot.mqtt import BATCH_SIZE, Consumer

    consumer = Consumer(url=url, client_id=client_id, prefix=PREFIX, batch_size=BATCH or BATCH_SIZE)
    started = time.perf_counter()
    stats = consumer.run(max_messages=expected, idle_exit=30)
    return stats.received / (time.perf_counter() - started), stats.as_dict()


def _latency(url: str, devices: dict[str, tuple[str, str]]) -> list[float]:
    from django.db import connection

    from gridgov.iot.models import Alarm
    from gridgov.iot.mqtt import Consumer, publisher_connect

    buttons = [s for s, (kind, _t) in sorted(devices.items()) if kind == "sos_button"]
    consumer = Consumer(url=url, client_id="bench-live", prefix=PREFIX, batch_size=500)

    def live() -> None:
        try:
            consumer.run()
        finally:
            connection.close()

    runner = threading.Thread(target=live)
    runner.start()
    consumer.connected.wait(timeout=30)
    time.sleep(0.5)
    client = publisher_connect(url)
    published: dict[str, float] = {}
    for n in range(PRESSES):
        serial = buttons[n % len(buttons)]
        _kind, token = devices[serial]
        now = dt.datetime.now(dt.UTC)
        body = {"id": f"press{n}", "ts": now.isoformat(), "token": token, "event": "sos"}
        client.publish(f"{PREFIX}/devices/{serial}/event", json.dumps(body), qos=1)
        published.setdefault(serial, now.timestamp())
        if n % len(buttons) == len(buttons) - 1:
            time.sleep(1.0)  # let the batch land before a repeat press
        time.sleep(0.05)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if Alarm.objects.filter(rule="sos", task__isnull=False).count() >= len(published):
            break
        time.sleep(0.2)
    consumer.stop()
    runner.join(timeout=30)
    client.disconnect()
    client.loop_stop()
    latencies = []
    for alarm in Alarm.objects.filter(rule="sos").select_related("device", "task"):
        if alarm.task and alarm.device.serial in published:
            latencies.append(alarm.task.created_at.timestamp() - published[alarm.device.serial])
    return latencies


def main() -> None:
    setup_django("bench_iot")
    from gridgov.iot.tests.broker import Broker

    progress("bench_iot: seeding the demo street and its kits …")
    devices = _fixture()
    broker = Broker(Path(tempfile.mkdtemp(prefix="gridgov-bench-mqtt-")))
    broker.start()
    try:
        _session(broker.url, "bench-raw")
        _session(broker.url, "bench-ours")
        messages = _stream(devices, MESSAGES)
        progress(f"bench_iot: publishing {len(messages)} messages from {len(devices)} devices …")
        _publish(broker.url, messages)
        progress("bench_iot: raw subscriber …")
        raw = _raw_rate(broker.url, "bench-raw", len(messages))
        progress("bench_iot: gridgov mqtt …")
        ours, stats = _ours_rate(broker.url, "bench-ours", len(messages))
        emit(
            "iot_ingest_mqtt", ours, "readings/s", baseline=raw, goal=">= 5000/s and >= 0.5",
            messages=len(messages), devices=len(devices), accepted=stats["accepted"],
            rejected=stats["rejected"], alarms=stats["alarms"],
        )  # fmt: skip
        progress("bench_iot: alarm-to-task latency …")
        latencies = sorted(_latency(broker.url, devices))
        if latencies:
            p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
            emit(
                "iot_alarm_to_task_p99", p99, "s", goal="<= 1 s",
                p50=round(statistics.median(latencies), 3), alarms=len(latencies),
            )  # fmt: skip
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
