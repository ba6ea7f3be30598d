"""A household kit simulator: daily routines of water and power use, heartbeats, and
injected anomalies, published over MQTT like real devices (``gridgov iot-simulate``).

The simulated clock ends at the moment the run starts and begins ``hours`` earlier, so
every timestamp is in the past (the ingestion refuses the future); ``speed`` paces the
publishing (0: as fast as the broker takes it; 60: an hour a minute).

The simulator takes over the devices of the households it simulates: it gives them new
tokens (printed nowhere) and resets their reading state. Each anomaly is chosen to raise
exactly one alarm, and routines none (see ``ANOMALIES`` and docs/iot.md).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed
from gridgov.iot.choices import DeviceKind, RuleCode
from gridgov.iot.models import Device, RuleState
from gridgov.iot.mqtt import publisher_connect
from gridgov.iot.services import (
    KIND_CODES,
    IncomingMessage,
    device_provision,
    device_token_reset,
    readings_ingest,
)
from gridgov.people.choices import ResidentTag
from gridgov.people.models import Household, ResidentTagAssignment

QUARTER = dt.timedelta(minutes=15)
HEARTBEAT = dt.timedelta(minutes=5)
ELDERLY_TAGS = (
    ResidentTag.ELDERLY, ResidentTag.ELDERLY_HIGH_RISK, ResidentTag.ELDERLY_KEY,
    ResidentTag.ELDERLY_RED, ResidentTag.LIVING_ALONE, ResidentTag.EMPTY_NEST,
)  # fmt: skip

#: anomaly → (rule it raises, the device kind it concerns, hours of simulation it needs)
ANOMALIES: dict[str, tuple[str, str, float]] = {
    "water_stop": (RuleCode.WATER_LOW_USE, DeviceKind.WATER_METER, 14.0),
    "leak": (RuleCode.WATER_CONTINUOUS_FLOW, DeviceKind.WATER_METER, 25.5),
    "burst": (RuleCode.WATER_HIGH_USE, DeviceKind.WATER_METER, 5.0),
    "smoke": (RuleCode.SMOKE, DeviceKind.SMOKE_DETECTOR, 1.0),
    "gas": (RuleCode.GAS, DeviceKind.GAS_DETECTOR, 1.0),
    "sos": (RuleCode.SOS, DeviceKind.SOS_BUTTON, 1.0),
    "silent": (RuleCode.OFFLINE, DeviceKind.SOS_BUTTON, 1.0),
    "low_battery": (RuleCode.LOW_BATTERY, DeviceKind.SMOKE_DETECTOR, 1.0),
}


@dataclass
class SimulationReport:
    households: int = 0
    devices: int = 0
    readings_sent: int = 0
    anomalies_injected: int = 0
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    started_at: str = ""
    simulated_until: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "households": self.households,
            "devices": self.devices,
            "readings_sent": self.readings_sent,
            "anomalies_injected": self.anomalies_injected,
            "anomalies": self.anomalies,
            "started_at": self.started_at,
            "simulated_until": self.simulated_until,
        }


def _local_hour(at: dt.datetime) -> float:
    local = timezone.localtime(at)
    return local.hour + local.minute / 60


def routine_water(at: dt.datetime, rng: random.Random, scale: float) -> float:
    """Litres used in the quarter hour from ``at``: morning (06–09) and evening (18–22)
    use, a little during the day, none at night (a few hundred litres a day)."""
    hour = _local_hour(at)
    if 6 <= hour < 9 or 18 <= hour < 22:
        return round(scale * rng.uniform(4.0, 8.0), 2)
    if 9 <= hour < 18:
        return round(scale * rng.uniform(0.5, 1.5), 2)
    return 0.0


def routine_power(at: dt.datetime, rng: random.Random) -> float:
    """Mean power (W) over the quarter hour: a base load, more in the evening."""
    hour = _local_hour(at)
    base = 60.0 + (400.0 if 18 <= hour < 23 else 150.0 if 7 <= hour < 18 else 0.0)
    return round(base * rng.uniform(0.8, 1.2), 1)


@dataclass
class _Home:
    household: Household
    devices: dict[str, Device]
    tokens: dict[str, str]
    anomaly: str | None = None
    water_total: float = 0.0
    energy_wh: float = 0.0
    scale: float = 1.0


def _households(n: int) -> list[Household]:
    elderly = ResidentTagAssignment.objects.filter(
        resident__household=OuterRef("pk"), tag__in=ELDERLY_TAGS
    )
    chosen: list[Household] = list(
        Household.objects.annotate(elderly=Exists(elderly)).order_by("-elderly", "pk")[:n]
    )
    if len(chosen) < n:
        raise ValidationFailed(
            _("Only %(have)d households exist; cannot simulate %(n)d.")
            % {"have": len(chosen), "n": n},
            details={"households": len(chosen)},
        )
    return chosen


@transaction.atomic
def _take_over(household: Household) -> _Home:
    devices: dict[str, Device] = {}
    tokens: dict[str, str] = {}
    for device in Device.objects.filter(household=household, active=True).order_by("pk"):
        devices.setdefault(device.kind, device)
    for kind in DeviceKind.values:
        if kind in devices:
            tokens[kind] = device_token_reset(actor=None, device=devices[kind])
        else:
            devices[kind], tokens[kind] = device_provision(
                actor=None, household=household, kind=kind,
                serial=f"SIM-{household.pk}-{KIND_CODES[kind]}",
            )  # fmt: skip
    ids = [d.pk for d in devices.values()]
    Device.objects.filter(pk__in=ids).update(last_measured_at=None, last_total=None)
    RuleState.objects.filter(device_id__in=ids).delete()
    return _Home(household, devices, tokens)


def _assign(homes: list[_Home], hours: float, rng: random.Random, count: int | None) -> None:
    fitting = [name for name, (_r, _k, need) in ANOMALIES.items() if hours >= need]
    wanted = len(fitting) if count is None else count
    order = list(range(len(homes)))
    rng.shuffle(order)
    for slot, index in enumerate(order[: min(wanted, len(homes))]):
        homes[index].anomaly = fitting[slot % len(fitting)] if fitting else None


def _burst_hours(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """A two-hour block after the first hour that stays inside one local day."""
    at = start + dt.timedelta(hours=1)
    while at + dt.timedelta(hours=2) <= end:
        if timezone.localdate(at) == timezone.localdate(at + dt.timedelta(hours=2) - QUARTER):
            return at, at + dt.timedelta(hours=2)
        at += QUARTER
    return end, end


def _messages(
    homes: list[_Home], start: dt.datetime, end: dt.datetime, rng: random.Random
) -> Iterator[tuple[dt.datetime, str, str, dict[str, Any]]]:
    """(time, serial, channel, body) in time order."""
    event_at = start + (end - start) / 2
    silent_from = end - dt.timedelta(minutes=30)
    burst = _burst_hours(start, end)
    at = start
    while at < end:
        quarter = (at - start) % QUARTER == dt.timedelta(0)
        for home in homes:
            anomaly = home.anomaly
            if quarter:
                wm = home.devices[DeviceKind.WATER_METER]
                use = routine_water(at, rng, home.scale)
                if anomaly == "water_stop" and at >= start + dt.timedelta(minutes=30):
                    use = 0.0
                elif anomaly == "leak":
                    use += 3.0  # a dripping cistern: ~12 L an hour, every hour
                elif anomaly == "burst" and burst[0] <= at < burst[1]:
                    use += 330.0  # 2.6 m³ in two hours
                home.water_total = round(home.water_total + use, 2)
                yield at, wm.serial, "telemetry", {"values": {"water_total_l": home.water_total,
                                                              "battery_pct": 90}}  # fmt: skip
                em = home.devices[DeviceKind.ELECTRICITY_METER]
                power = routine_power(at, rng)
                home.energy_wh = round(home.energy_wh + power / 4, 1)
                yield (
                    at,
                    em.serial,
                    "telemetry",
                    {"values": {"power_w": power, "energy_wh": home.energy_wh}},
                )
            for kind in (DeviceKind.SMOKE_DETECTOR, DeviceKind.GAS_DETECTOR, DeviceKind.SOS_BUTTON):
                if anomaly == "silent" and kind == DeviceKind.SOS_BUTTON and at >= silent_from:
                    continue
                battery = 85
                if (
                    anomaly == "low_battery"
                    and kind == DeviceKind.SMOKE_DETECTOR
                    and at >= event_at
                ):
                    battery = 15
                serial = home.devices[kind].serial
                event = {"smoke": DeviceKind.SMOKE_DETECTOR, "gas": DeviceKind.GAS_DETECTOR,
                         "sos": DeviceKind.SOS_BUTTON}.get(anomaly or "")  # fmt: skip
                if event == kind and at <= event_at < at + HEARTBEAT:
                    yield at, serial, "event", {"event": anomaly}
                else:
                    yield at, serial, "event", {"event": "heartbeat",
                                                "values": {"battery_pct": battery}}  # fmt: skip
        at += HEARTBEAT


class _Sink:
    """Where the simulated messages go: a broker, or the ingestion service directly."""

    def send(self, topic: str, serial: str, payload: str) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Wait until everything sent so far is delivered."""

    def close(self) -> None:
        """Release the connection (after ``flush`` or on an error)."""


class _BrokerSink(_Sink):
    """Publish at QoS 1, waiting for the broker's acknowledgements every 500 messages."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.pending: list[Any] = []

    def send(self, topic: str, serial: str, payload: str) -> None:
        self.pending.append(self.client.publish(topic, payload, qos=1))
        if len(self.pending) >= 500:
            self.flush()

    def flush(self) -> None:
        for info in self.pending:
            info.wait_for_publish(timeout=30)
        self.pending.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class _DirectSink(_Sink):
    """Hand batches of 500 messages to ``readings_ingest`` (channel ``direct``)."""

    def __init__(self) -> None:
        self.batch: list[IncomingMessage] = []

    def send(self, topic: str, serial: str, payload: str) -> None:
        self.batch.append(IncomingMessage(payload=payload.encode(), serial=serial))
        if len(self.batch) >= 500:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            readings_ingest(messages=self.batch, channel="direct")
            self.batch = []


def simulate(
    *,
    households: int,
    hours: float,
    speed: float = 0.0,
    seed: int = 2026,
    anomalies: int | None = None,
    url: str | None = None,
    prefix: str | None = None,
    direct: bool = False,
    follow_hours: float = 0.0,
    progress: Callable[[int], object] | None = None,
) -> SimulationReport:
    """Simulate ``households`` kits for ``hours`` hours ending now, publishing at QoS 1 to
    ``url`` (default ``MQTT_URL``) under ``prefix`` (default ``GRIDGOV_IOT_TOPIC_PREFIX``).

    ``anomalies``: how many households get an anomaly (default: one of each kind that
    fits into ``hours``); ``speed``: simulated seconds per real second (0: no pacing).
    ``direct``: hand the same messages to ``readings_ingest`` in this process (channel
    ``direct``, batches of 500) instead of a broker — for the demo, which runs without
    services; ``url``, ``prefix`` and ``speed`` pacing still apply to the timing only.
    ``follow_hours``: after the hours before now, go on in real time for this many hours
    (``math.inf``: until stopped) — the same kits, their routines only, each message sent
    once its time has come; a device silenced by the ``silent`` anomaly stays silent (its
    one offline alarm stays open), every other device keeps reporting, so none goes
    offline. (``kits_resume`` goes on with kits simulated earlier, as the demo does.)
    Output: a ``SimulationReport`` (``readings_sent``, ``anomalies_injected`` and each
    anomaly's household, device serial and the rule it must raise). Raises
    ``ValidationFailed`` (too few households, bad numbers).
    """
    if (
        households < 1
        or hours <= 0
        or speed < 0
        or not math.isfinite(hours)
        or not follow_hours >= 0
    ):
        raise ValidationFailed(
            _("--households must be ≥ 1, --hours > 0, --speed ≥ 0 and --follow ≥ 0.")
        )
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    now = timezone.now().replace(microsecond=0)
    start = now - dt.timedelta(hours=hours)
    # Before anything is written: the broker must be there.
    sink: _Sink = _DirectSink() if direct else _BrokerSink(publisher_connect(url))
    try:
        homes = [_take_over(h) for h in _households(households)]
    except BaseException:
        sink.close()
        raise
    for home in homes:
        home.scale = rng.uniform(0.7, 1.3)
    _assign(homes, hours, rng, anomalies)
    report = SimulationReport(
        households=len(homes), devices=sum(len(h.devices) for h in homes),
        started_at=start.isoformat(), simulated_until=now.isoformat(),
    )  # fmt: skip
    for home in homes:
        if home.anomaly:
            rule, kind, _need = ANOMALIES[home.anomaly]
            report.anomalies.append({
                "anomaly": home.anomaly, "household": home.household.pk,
                "serial": home.devices[kind].serial, "rule": str(rule),
            })  # fmt: skip
    report.anomalies_injected = len(report.anomalies)
    root = (prefix or settings.GRIDGOV_IOT_TOPIC_PREFIX).rstrip("/")
    tokens = {d.serial: h.tokens[k] for h in homes for k, d in h.devices.items()}
    send = _Sender(sink, root, tokens, report, progress)
    wall_start = time.monotonic()
    try:
        for at, serial, channel, body in _messages(homes, start, now, rng):
            if speed > 0:
                due = (at - start).total_seconds() / speed
                wait = due - (time.monotonic() - wall_start)
                if wait > 0:
                    time.sleep(wait)
            send(at, serial, channel, body)
        sink.flush()
        if follow_hours > 0:
            muted = {
                h.devices[DeviceKind.SOS_BUTTON].serial for h in homes if h.anomaly == "silent"
            }
            _follow(homes, start=now, hours=follow_hours, rng=rng, send=send, muted=muted)
    finally:
        sink.close()
    return report


@dataclass
class _Sender:
    """Send one simulated message: its id and time, the device's token, counted."""

    sink: _Sink
    root: str
    tokens: dict[str, str]
    report: SimulationReport
    progress: Callable[[int], object] | None

    def __call__(self, at: dt.datetime, serial: str, channel: str, body: dict[str, Any]) -> None:
        message = {"id": f"{int(at.timestamp())}", "ts": at.isoformat(),
                   "token": self.tokens[serial], **body}  # fmt: skip
        self.sink.send(f"{self.root}/devices/{serial}/{channel}", serial, json.dumps(message))
        self.report.readings_sent += 1
        if self.progress and self.report.readings_sent % 1000 == 0:
            self.progress(1000)


def _follow(
    homes: list[_Home],
    *,
    start: dt.datetime,
    hours: float,
    rng: random.Random,
    send: _Sender,
    muted: set[str],
) -> None:
    """Go on from ``start`` for ``hours`` hours in real time: the routines of ``homes``
    an hour at a time from ``start`` itself (the hours before ended just before it; a
    resumed kit reports at once, before its offline time runs out), each message sent
    (and the sink flushed) once its time has come — the ingestion refuses times in the
    future. The devices whose serials are ``muted`` stay silent; no anomaly is repeated."""
    for home in homes:
        home.anomaly = None
    end = start + dt.timedelta(hours=hours) if math.isfinite(hours) else None
    chunk = start
    while end is None or chunk < end:
        chunk_end = chunk + dt.timedelta(hours=1)
        if end is not None:
            chunk_end = min(chunk_end, end)
        for at, serial, channel, body in _messages(homes, chunk, chunk_end, rng):
            if serial in muted:
                continue
            wait = (at - timezone.now()).total_seconds()
            if wait > 0:
                send.sink.flush()
                time.sleep(wait)
            send(at, serial, channel, body)
        chunk = chunk_end


#: A device that fell silent this long before the newest reading of its own kit stays
#: silent when the kits are resumed (the ``silent`` anomaly: its offline alarm stays open).
FELL_SILENT = dt.timedelta(minutes=20)


def kits_resume(
    *,
    households: int,
    hours: float = math.inf,
    seed: int = 2026,
    url: str | None = None,
    prefix: str | None = None,
    direct: bool = False,
    progress: Callable[[int], object] | None = None,
) -> SimulationReport:
    """Go on with the kits of the first ``households`` households (elderly ones first, as
    ``simulate``) in real time for ``hours`` hours (``math.inf``: until stopped), from
    where they stopped: no hours before now are replayed, meters continue from their
    last totals and the alarm rules' state is kept; routines only. A device that fell
    silent ``FELL_SILENT`` or more before the newest reading of its own kit stays silent,
    so a scenario's offline alarm stays open, while every other device reports, so none
    goes offline. The devices' tokens are renewed (the simulator signs its messages).
    The demo runs it beside the web server (``gridgov demo-serve``). Output: a
    ``SimulationReport``; raises ``ValidationFailed`` (too few households, bad numbers).
    """
    if households < 1 or not hours > 0:
        raise ValidationFailed(_("--households must be ≥ 1 and --follow > 0."))
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    now = timezone.now().replace(microsecond=0)
    sink: _Sink = _DirectSink() if direct else _BrokerSink(publisher_connect(url))
    try:
        homes = [_resume(h) for h in _households(households)]
        homes = [h for h in homes if set(h.devices) == set(DeviceKind.values)]
        muted: set[str] = set()
        for home in homes:
            home.scale = rng.uniform(0.7, 1.3)
            newest = max((d.last_measured_at for d in home.devices.values() if d.last_measured_at),
                         default=None)  # fmt: skip
            muted |= {
                d.serial for d in home.devices.values()
                if newest and d.last_measured_at and newest - d.last_measured_at >= FELL_SILENT
            }  # fmt: skip
        report = SimulationReport(
            households=len(homes), devices=sum(len(h.devices) for h in homes),
            started_at=now.isoformat(), simulated_until=now.isoformat(),
        )  # fmt: skip
        root = (prefix or settings.GRIDGOV_IOT_TOPIC_PREFIX).rstrip("/")
        tokens = {d.serial: h.tokens[k] for h in homes for k, d in h.devices.items()}
        send = _Sender(sink, root, tokens, report, progress)
        _follow(homes, start=now, hours=hours, rng=rng, send=send, muted=muted)
        sink.flush()
    finally:
        sink.close()
    return report


@transaction.atomic
def _resume(household: Household) -> _Home:
    """The household's active devices with renewed tokens and their state kept; the
    meters' totals continue from their last values."""
    devices: dict[str, Device] = {}
    for device in Device.objects.filter(household=household, active=True).order_by("pk"):
        devices.setdefault(device.kind, device)
    tokens = {kind: device_token_reset(actor=None, device=d) for kind, d in devices.items()}
    home = _Home(household, devices, tokens)
    if meter := devices.get(DeviceKind.WATER_METER):
        home.water_total = meter.last_total or 0.0
    if meter := devices.get(DeviceKind.ELECTRICITY_METER):
        home.energy_wh = meter.last_total or 0.0
    return home
