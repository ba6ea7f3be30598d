"""Metric names and the ``malformed`` reject reason as plain strings, without Django: the
MQTT reader process decodes payloads (``payload``) without importing Django, and
``choices`` builds its ``Metric`` and ``RejectReason`` on these values."""

from __future__ import annotations

WATER_USE_L = "water_use_l"
WATER_TOTAL_L = "water_total_l"
FLOW_L_PER_MIN = "flow_lpm"
POWER_W = "power_w"
ENERGY_WH = "energy_wh"
SMOKE = "smoke"
GAS = "gas"
SOS = "sos"
BATTERY_PCT = "battery_pct"

MALFORMED = "malformed"
