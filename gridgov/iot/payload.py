"""Decoding device messages: gridgov's JSON and SenML (RFC 8428), into one shape.

Pure functions, no database, no Django (the MQTT reader process decodes with them). A
message that cannot be decoded raises ``Rejected`` with ``malformed``
(``RejectReason.MALFORMED``) and a detail for the log (docs/iot.md documents both
formats); ``decode_safe`` returns an ``Undecoded`` instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gridgov.iot import names

MESSAGE_ID_MAX = 64
_DECODER = json.JSONDecoder()
#: Largest payload accepted (bytes): a message is a handful of values.
PAYLOAD_MAX_BYTES = 16_384
#: SenML: a time below 2**28 is relative to now (RFC 8428 §4.5.3).
SENML_RELATIVE_LIMIT = 2**28

#: Allowed range of each metric, in its unit.
RANGES: dict[str, tuple[float, float]] = {
    names.WATER_USE_L: (0.0, 1e6),
    names.WATER_TOTAL_L: (0.0, 1e12),
    names.FLOW_L_PER_MIN: (0.0, 1e4),
    names.POWER_W: (0.0, 1e6),
    names.ENERGY_WH: (0.0, 1e13),
    names.SMOKE: (0.0, 1.0),
    names.GAS: (0.0, 1.0),
    names.SOS: (0.0, 1.0),
    names.BATTERY_PCT: (0.0, 100.0),
}
#: Events of the ``…/event`` topic, as values.
EVENTS: dict[str, tuple[str, float]] = {
    "sos": (names.SOS, 1.0),
    "smoke": (names.SMOKE, 1.0),
    "smoke_clear": (names.SMOKE, 0.0),
    "gas": (names.GAS, 1.0),
    "gas_clear": (names.GAS, 0.0),
}
#: SenML units accepted for each metric, with the factor into the metric's unit
#: (RFC 8428 §12.1 unit symbols; "L" accepted for "l").
SENML_UNITS: dict[str, dict[str, float]] = {
    names.WATER_USE_L: {"l": 1.0, "L": 1.0, "m3": 1000.0},
    names.WATER_TOTAL_L: {"l": 1.0, "L": 1.0, "m3": 1000.0},
    names.FLOW_L_PER_MIN: {"l/s": 60.0, "m3/s": 60_000.0},
    names.POWER_W: {"W": 1.0},
    names.ENERGY_WH: {"Wh": 1.0, "J": 1 / 3600.0},
    names.SMOKE: {"": 1.0},
    names.GAS: {"": 1.0},
    names.SOS: {"": 1.0},
    names.BATTERY_PCT: {"%EL": 1.0, "%": 1.0},
}


class Rejected(Exception):
    """A message refused with a ``RejectReason`` and a detail for the log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail[:500]


def _malformed(detail: str) -> Rejected:
    return Rejected(names.MALFORMED, detail)


@dataclass
class DeviceMessage:
    """One decoded message: ``values`` are ``(metric, value in its unit, measured at)``
    in the order given; ``measured_at`` is the message's (latest) time."""

    serial: str
    message_id: str
    measured_at: dt.datetime
    values: list[tuple[str, float, dt.datetime]] = field(default_factory=list)
    token: str | None = None
    firmware: str = ""

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled as its fields (the reader process sends messages to the parent): a
        # third of the cost of the default, which rebuilds the object from its __dict__.
        return (
            DeviceMessage,
            (self.serial, self.message_id, self.measured_at, self.values, self.token,
             self.firmware),
        )  # fmt: skip


def parse_time(value: Any, *, now: dt.datetime) -> dt.datetime:
    """Return an aware datetime from ISO 8601 with an offset or Unix seconds (SenML-style:
    below 2**28 is relative to ``now``). Raises ``Rejected`` (malformed)."""
    if isinstance(value, bool):
        raise _malformed("ts: not a time")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise _malformed("ts: not finite")
        if abs(value) < SENML_RELATIVE_LIMIT:
            return now + dt.timedelta(seconds=value)
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise _malformed(f"ts: {exc}") from exc
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise _malformed(f"ts: {exc}") from exc
        if parsed.tzinfo is None:
            raise _malformed("ts: a time needs its UTC offset")
        return parsed
    raise _malformed("ts: missing or not a time")


def _number(metric: str, value: Any) -> float:
    if isinstance(value, bool):
        value = 1.0 if value else 0.0
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise _malformed(f"{metric}: not a number")
    low, high = RANGES[metric]
    if not low <= value <= high:
        raise _malformed(f"{metric}: {value} outside {low:g}–{high:g}")
    return float(value)


def _message_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MESSAGE_ID_MAX:
        raise _malformed(f"id: a string of 1–{MESSAGE_ID_MAX} characters is needed")
    return value.strip()


def _serial_check(serial: str | None, given: Any) -> str:
    if given is not None and not isinstance(given, str):
        raise _malformed("serial: not a string")
    if serial and given and given != serial:
        raise _malformed(f"serial {given!r} does not match the topic's {serial!r}")
    result = serial or given
    if not result:
        raise _malformed("serial: missing")
    return str(result)[:64]


class Undecoded(NamedTuple):
    """A message that could not be decoded: the channel's ``serial`` (or None), the
    ``reason`` (``malformed``) and a ``detail`` for the log."""

    serial: str | None
    reason: str
    detail: str


def decode_safe(
    raw: bytes | str | Any, *, serial: str | None, now: dt.datetime
) -> DeviceMessage | Undecoded:
    """``decode``, with a refused message returned as ``Undecoded`` instead of raised."""
    try:
        return decode(raw, serial=serial, now=now)
    except Rejected as exc:
        return Undecoded(serial, exc.reason, exc.detail)


def decode(raw: bytes | str | Any, *, serial: str | None, now: dt.datetime) -> DeviceMessage:
    """Decode one message (bytes or text of JSON, or already-parsed JSON).

    ``serial``: the device's serial when the channel knows it (the MQTT topic); else the
    message names it (``serial``, or a SenML base name ending ``<serial>:`` or
    ``<serial>/``). Output: a ``DeviceMessage``. Raises ``Rejected`` (malformed).
    """
    if isinstance(raw, bytes | str):
        size = len(raw)
        if size > PAYLOAD_MAX_BYTES:
            raise _malformed(f"payload of {size} bytes (limit {PAYLOAD_MAX_BYTES})")
        try:
            # UTF-8 text first (json.loads of bytes guesses the encoding, a cost per call);
            # anything else (a BOM, UTF-16) goes through json.loads, which says what is wrong.
            data = _DECODER.decode(raw.decode() if isinstance(raw, bytes) else raw)
        except (ValueError, UnicodeDecodeError):
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise _malformed(f"not JSON: {exc}") from exc
        digest_source = raw.encode() if isinstance(raw, str) else raw
    else:
        data = raw
        digest_source = json.dumps(raw, sort_keys=True, default=str).encode()
    if isinstance(data, list):
        return _decode_senml(data, serial=serial, now=now, digest_source=digest_source)
    if isinstance(data, dict):
        return _decode_native(data, serial=serial, now=now)
    raise _malformed("a JSON object (gridgov) or array (SenML) is needed")


def _decode_native(data: dict[str, Any], *, serial: str | None, now: dt.datetime) -> DeviceMessage:
    message = DeviceMessage(
        serial=_serial_check(serial, data.get("serial")),
        message_id=_message_id(data.get("id")),
        measured_at=parse_time(data.get("ts"), now=now),
    )
    token = data.get("token")
    if token is not None and not isinstance(token, str):
        raise _malformed("token: not a string")
    message.token = token
    firmware = data.get("firmware", "")
    if not isinstance(firmware, str):
        raise _malformed("firmware: not a string")
    message.firmware = firmware[:32]
    values = data.get("values", {})
    if not isinstance(values, dict):
        raise _malformed("values: an object of metric → number is needed")
    event = data.get("event")
    if event is not None:
        if event not in EVENTS and event != "heartbeat":
            raise _malformed(f"event: unknown {event!r}")
        if event in EVENTS:
            metric, value = EVENTS[event]
            message.values.append((metric, value, message.measured_at))
    for metric, value in values.items():
        if metric not in RANGES:
            raise _malformed(f"values: unknown metric {metric!r}")
        message.values.append((metric, _number(metric, value), message.measured_at))
    return message


def _decode_senml(
    records: list[Any], *, serial: str | None, now: dt.datetime, digest_source: bytes
) -> DeviceMessage:
    if not records:
        raise _malformed("SenML: an empty pack")
    base_name = ""
    base_time = 0.0
    base_unit = ""
    message_id: str | None = None
    token: str | None = None
    values: list[tuple[str, float, dt.datetime]] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise _malformed(f"SenML record {index}: not an object")
        if "bn" in record:
            if not isinstance(record["bn"], str):
                raise _malformed("SenML bn: not a string")
            base_name = record["bn"]
        if "bt" in record:
            if isinstance(record["bt"], bool) or not isinstance(record["bt"], int | float):
                raise _malformed("SenML bt: not a number")
            base_time = float(record["bt"])
        if "bu" in record:
            base_unit = str(record["bu"])
        if "mid" in record:
            message_id = _message_id(record["mid"])
        if "tok" in record:
            if not isinstance(record["tok"], str):
                raise _malformed("SenML tok: not a string")
            token = record["tok"]
        name = record.get("n", "")
        if not isinstance(name, str):
            raise _malformed(f"SenML record {index}: n is not a string")
        has_value = "v" in record or "vb" in record
        if not has_value:
            if name:
                raise _malformed(f"SenML record {index}: {name!r} without v or vb")
            continue
        metric = name
        if metric not in SENML_UNITS:
            raise _malformed(f"SenML record {index}: unknown name {metric!r}")
        unit = record.get("u", base_unit if metric not in EVENTS_METRICS else "")
        factors = SENML_UNITS[metric]
        if unit not in factors:
            raise _malformed(
                f"SenML record {index}: unit {unit!r} for {metric} (use {', '.join(factors)})"
            )
        raw_value = record["vb"] if "vb" in record else record["v"]
        if metric in EVENTS_METRICS and isinstance(raw_value, bool):
            raw_value = 1.0 if raw_value else 0.0
        if isinstance(raw_value, bool) or not isinstance(raw_value, int | float):
            raise _malformed(f"SenML record {index}: value is not a number")
        t = record.get("t", 0)
        if isinstance(t, bool) or not isinstance(t, int | float):
            raise _malformed(f"SenML record {index}: t is not a number")
        at = parse_time(base_time + float(t), now=now)
        values.append((metric, _number(metric, raw_value * factors[unit]), at))
    given = _senml_serial(base_name)
    message = DeviceMessage(
        serial=_serial_check(serial, given),
        message_id=message_id or hashlib.sha256(digest_source).hexdigest()[:32],
        measured_at=max((at for _m, _v, at in values), default=now),
        values=values,
        token=token,
    )
    if not values:
        raise _malformed("SenML: no values")
    return message


#: Metrics that are states (0/1), for which SenML booleans (vb) are accepted.
EVENTS_METRICS = frozenset({names.SMOKE, names.GAS, names.SOS})


def _senml_serial(base_name: str) -> str | None:
    """The serial in a SenML base name ``[urn:dev:<type>:]<serial>(:|/)``, or None."""
    if not base_name:
        return None
    name = base_name.rstrip(":/")
    if name.startswith("urn:dev:"):
        name = name.split(":", 3)[-1] if name.count(":") >= 3 else ""
    return name or None
