"""The alarm rules as data and pure functions: defaults with their sources, which rules
watch which device kind, and the window arithmetic (no database here; ``services`` keeps
the state in ``RuleState`` rows and turns verdicts into alarms).

Water use is summed into half-hour slots (index = Unix seconds // 1800) kept in the
rule's state, so that the 12/24-hour windows survive a restart and cost O(48) per reading.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, gettext_noop

from gridgov.iot.choices import DeviceKind, Metric, RuleCode, Severity

SLOT_SECONDS = 1800  # half an hour
#: Completed slots of water use kept in a window rule's state (48 = 24 hours), besides the
#: current one.
SLOTS_KEPT = 48


@dataclass(frozen=True)
class RuleSetting:
    """A rule's effective setting: ``threshold`` and ``window_hours`` as documented on
    each entry of ``DEFAULTS``."""

    rule: str
    enabled: bool
    threshold: float
    window_hours: float
    severity: str


#: Default settings (an ``AlarmRule`` row without household overrides them; so does a
#: row with one, for that household). Sources:
#:
#: - ``water_low_use``: less than ``threshold`` L in ``window_hours`` h — 10 L in 12 h,
#:   Shanghai's and Shenzhen Longgang's 智能水表 elderly care (0.01 m³ in 12 h); Ningbo
#:   uses 8 L in 24 h (set an override: threshold 8, window 24).
#: - ``water_high_use``: more than ``threshold`` L in one local calendar day — 2 m³,
#:   Shanghai Jing'an.
#: - ``water_continuous_flow``: use above ``threshold`` L in every half-hour slot for
#:   ``window_hours`` h (a leak, or a tap left open) — 24 h, Shenzhen Longgang.
#: - ``smoke``, ``gas``, ``sos``: any alarm state or press, critical (Wuxing 数字家庭:
#:   staff phone or visit at once).
#: - ``offline``: silence for ``threshold`` minutes for SOS buttons, smoke and gas
#:   detectors (default 10) and for ``window_hours`` hours for meters (default 2) —
#:   design defaults after the issue; heartbeats every 5 minutes are usual for NB-IoT
#:   alarms.
#: - ``low_battery``: battery at or below ``threshold`` per cent (20, design default;
#:   clears at ``threshold`` + 10 so that a wavering battery does not flap).
DEFAULTS: dict[str, RuleSetting] = {
    RuleCode.WATER_LOW_USE: RuleSetting(RuleCode.WATER_LOW_USE, True, 10.0, 12.0, Severity.MAJOR),
    RuleCode.WATER_HIGH_USE: RuleSetting(
        RuleCode.WATER_HIGH_USE, True, 2000.0, 24.0, Severity.MAJOR
    ),
    RuleCode.WATER_CONTINUOUS_FLOW: RuleSetting(
        RuleCode.WATER_CONTINUOUS_FLOW, True, 0.0, 24.0, Severity.MAJOR
    ),
    RuleCode.SMOKE: RuleSetting(RuleCode.SMOKE, True, 1.0, 0.0, Severity.CRITICAL),
    RuleCode.GAS: RuleSetting(RuleCode.GAS, True, 1.0, 0.0, Severity.CRITICAL),
    RuleCode.SOS: RuleSetting(RuleCode.SOS, True, 1.0, 0.0, Severity.CRITICAL),
    RuleCode.OFFLINE: RuleSetting(RuleCode.OFFLINE, True, 10.0, 2.0, Severity.MAJOR),
    RuleCode.LOW_BATTERY: RuleSetting(RuleCode.LOW_BATTERY, True, 20.0, 0.0, Severity.WARNING),
}

#: Hysteresis of the low-battery rule (percentage points above the threshold to clear).
BATTERY_HYSTERESIS = 10.0

#: The rules that watch each kind of device (offline is checked by the periodic job).
RULES_BY_KIND: dict[str, tuple[str, ...]] = {
    DeviceKind.WATER_METER: (
        RuleCode.WATER_LOW_USE,
        RuleCode.WATER_HIGH_USE,
        RuleCode.WATER_CONTINUOUS_FLOW,
        RuleCode.LOW_BATTERY,
    ),
    DeviceKind.SMOKE_DETECTOR: (RuleCode.SMOKE, RuleCode.LOW_BATTERY),
    DeviceKind.GAS_DETECTOR: (RuleCode.GAS, RuleCode.LOW_BATTERY),
    DeviceKind.SOS_BUTTON: (RuleCode.SOS, RuleCode.LOW_BATTERY),
    DeviceKind.ELECTRICITY_METER: (RuleCode.LOW_BATTERY,),
}
#: Kinds whose silence is measured in minutes (``threshold``), not hours.
ALARM_KINDS = frozenset({DeviceKind.SOS_BUTTON, DeviceKind.SMOKE_DETECTOR, DeviceKind.GAS_DETECTOR})
#: Rules an alarm of which never clears by itself: staff must clear it with an outcome.
STICKY_RULES = frozenset({RuleCode.SMOKE, RuleCode.GAS, RuleCode.SOS})
#: The state metric each state rule reads.
STATE_METRIC: dict[str, str] = {
    RuleCode.SMOKE: Metric.SMOKE,
    RuleCode.GAS: Metric.GAS,
    RuleCode.SOS: Metric.SOS,
}


def offline_after(kind: str, setting: RuleSetting) -> dt.timedelta:
    """Return how long a device of ``kind`` may be silent before it is offline."""
    if kind in ALARM_KINDS:
        return dt.timedelta(minutes=setting.threshold)
    return dt.timedelta(hours=setting.window_hours)


#: The details an alarm shows, by key: English msgids with their parameters, translated
#: when shown (``detail_render``), so each reader sees them in their own language. An
#: alarm stores the key and the parameters (``Alarm.detail_key``, ``detail_params``).
DETAILS: dict[str, str] = {
    "low_use": gettext_noop("%(used).1f L in %(hours)g h (< %(threshold)g L)"),
    "high_use": gettext_noop("%(total).0f L on %(day)s (> %(threshold)g L)"),
    "flowing": gettext_noop("water flowing for %(hours)g h"),
    "battery": gettext_noop("battery %(pct).0f%%"),
    "silent": gettext_noop("silent for %(minutes)d min"),
}


def detail_render(key: str, params: dict[str, Any] | None) -> str:
    """The detail ``key`` with ``params`` in the active language ('' for no or an
    unknown key, or parameters that do not fit its text)."""
    text = DETAILS.get(key)
    if text is None:
        return ""
    try:
        return gettext(text) % (params or {})
    except (KeyError, TypeError, ValueError):
        return ""


@dataclass(frozen=True)
class Verdict:
    """What a rule concluded from one reading: ``fire`` True (the condition holds), False
    (it does not), None (nothing to say); ``edge``: a new occurrence (a press, a switch
    from normal to alarm), counted as a repeat on an open alarm; ``detail_key`` and
    ``detail_params``: what people are shown (``DETAILS``)."""

    fire: bool | None
    edge: bool = False
    detail_key: str = ""
    detail_params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def detail(self) -> str:
        """The detail in the active language."""
        return detail_render(self.detail_key, self.detail_params)


NOTHING = Verdict(None)
#: The condition does not hold (shared: a verdict is immutable and this one is the usual).
FINE = Verdict(False)


def slot_of(at: dt.datetime) -> int:
    """Return the half-hour slot index of an aware datetime (Unix seconds // 1800)."""
    return int(at.timestamp()) // SLOT_SECONDS


def _slots_add(state: dict[str, Any], at: dt.datetime, litres: float) -> int:
    slots: dict[str, float] = state.setdefault("slots", {})
    now_slot = slot_of(at)
    key = str(now_slot)
    if key in slots:
        slots[key] += litres
    else:
        # A new slot: drop those that left the kept window (readings of a device come in
        # time order, so nothing expires while the slot stays the same).
        slots[key] = litres
        for old in [k for k in slots if int(k) < now_slot - SLOTS_KEPT]:
            del slots[old]
    if "since" not in state:
        state["since"] = int(at.timestamp())
    return now_slot


def _observed_for(state: dict[str, Any], at: dt.datetime) -> float:
    """Hours since the rule first saw this device."""
    since = state.get("since")
    return 0.0 if since is None else (at.timestamp() - since) / 3600.0


def water_low_use(
    state: dict[str, Any], setting: RuleSetting, at: dt.datetime, litres: float | None
) -> Verdict:
    """Less than ``threshold`` L in the last ``window_hours`` h (a device seen for less
    than the window says nothing). ``litres``: use since the previous message, or None
    for a check without a reading."""
    now_slot = _slots_add(state, at, litres) if litres is not None else slot_of(at)
    if _observed_for(state, at) < setting.window_hours:
        return NOTHING
    window = max(1, round(setting.window_hours * 3600 / SLOT_SECONDS))
    slots = state.get("slots", {})
    used = sum(v for k, v in slots.items() if now_slot - window < int(k) <= now_slot)
    if used < setting.threshold:
        return Verdict(
            True,
            detail_key="low_use",
            detail_params={
                "used": round(used, 3), "hours": setting.window_hours,
                "threshold": setting.threshold,
            },
        )  # fmt: skip
    return FINE


def water_high_use(
    state: dict[str, Any], setting: RuleSetting, local_day: dt.date, litres: float
) -> Verdict:
    """More than ``threshold`` L in the local calendar day ``local_day``."""
    day = local_day.isoformat()
    if state.get("day") != day:
        state["day"] = day
        state["total"] = 0.0
    state["total"] = float(state.get("total", 0.0)) + litres
    total = state["total"]
    if total > setting.threshold:
        return Verdict(
            True,
            detail_key="high_use",
            detail_params={"total": round(total, 3), "day": day, "threshold": setting.threshold},
        )
    return FINE


def water_continuous_flow(
    state: dict[str, Any], setting: RuleSetting, at: dt.datetime, litres: float
) -> Verdict:
    """Use above ``threshold`` L in every completed half-hour slot of the last
    ``window_hours`` h (at most 24 h: the state keeps 48 slots)."""
    now_slot = _slots_add(state, at, litres)
    window = min(SLOTS_KEPT, max(1, round(setting.window_hours * 3600 / SLOT_SECONDS)))
    if _observed_for(state, at) < setting.window_hours:
        return NOTHING
    slots = state.get("slots", {})
    if all(slots.get(str(s), 0.0) > setting.threshold for s in range(now_slot - window, now_slot)):
        return Verdict(True, detail_key="flowing", detail_params={"hours": setting.window_hours})
    return FINE


def state_alarm(state: dict[str, Any], value: float, *, press: bool = False) -> Verdict:
    """A smoke or gas state (1 alarm, 0 normal) or an SOS press (``press``: every 1 is a
    new press): fires on 1; a switch from normal to alarm, or a press, is a new
    occurrence."""
    previous = state.get("last", 0.0)
    state["last"] = value
    if value >= 1:
        return Verdict(True, edge=press or previous < 1)
    return FINE


def low_battery(state: dict[str, Any], setting: RuleSetting, pct: float, is_open: bool) -> Verdict:
    """Battery at or below ``threshold`` %; with an open alarm it holds until above
    ``threshold`` + ``BATTERY_HYSTERESIS``."""
    limit = setting.threshold + (BATTERY_HYSTERESIS if is_open else 0.0)
    if pct <= setting.threshold or (is_open and pct < limit):
        return Verdict(True, detail_key="battery", detail_params={"pct": pct})
    return FINE
