"""Vocabularies of the digital family (数字家庭): device kinds, rules, alarm states."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gridgov.iot import names


class DeviceKind(models.TextChoices):
    WATER_METER = "water_meter", _("Smart water meter")
    SMOKE_DETECTOR = "smoke_detector", _("Smoke detector")
    GAS_DETECTOR = "gas_detector", _("Gas detector")
    SOS_BUTTON = "sos_button", _("One-key SOS button")
    ELECTRICITY_METER = "electricity_meter", _("Electricity meter")


class RuleCode(models.TextChoices):
    """The alarm rules (docs/iot.md lists each with its threshold and source)."""

    WATER_LOW_USE = "water_low_use", _("Water: low use")
    WATER_HIGH_USE = "water_high_use", _("Water: high use")
    WATER_CONTINUOUS_FLOW = "water_continuous_flow", _("Water: continuous flow (leak)")
    SMOKE = "smoke", _("Smoke alarm")
    GAS = "gas", _("Gas alarm")
    SOS = "sos", _("SOS call")
    OFFLINE = "offline", _("Device offline")
    LOW_BATTERY = "low_battery", _("Low battery")


class Severity(models.TextChoices):
    WARNING = "warning", _("Warning")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class AlarmState(models.TextChoices):
    """active → acknowledged → cleared (an active alarm may also be cleared directly)."""

    ACTIVE = "active", _("Active")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLEARED = "cleared", _("Cleared")


#: States of an alarm that is still open: at most one per device and rule.
OPEN_ALARM_STATES: tuple[str, ...] = (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)


class AlarmOutcome(models.TextChoices):
    """What staff found (the catalogue's alarm form: handled / false alarm / away)."""

    HANDLED = "handled", _("Emergency handled")
    FALSE_ALARM = "false_alarm", _("False alarm")
    AWAY = "away", _("Away from home")
    METER_FAULT = "meter_fault", _("Device or meter fault")
    RESOLVED = "resolved", _("Resolved by itself")


#: Outcomes that count as a false alarm in the false-alarm rate.
FALSE_ALARM_OUTCOMES: frozenset[str] = frozenset(
    {AlarmOutcome.FALSE_ALARM, AlarmOutcome.AWAY, AlarmOutcome.METER_FAULT}
)


class AlarmAction(models.TextChoices):
    """A row of an alarm's own timeline."""

    RAISE = "raise", _("Raised")
    REPEAT = "repeat", _("Repeated")
    ACKNOWLEDGE = "acknowledge", _("Acknowledged")
    TASK = "task", _("Became a task")
    PHONE = "phone", _("Phone call")
    VISIT = "visit", _("Home visit")
    ESCALATE = "escalate", _("Phone step overdue: escalated")
    CLEAR = "clear", _("Cleared")


class RejectReason(models.TextChoices):
    """Why a device message was not applied (counted and logged, never a crash)."""

    UNKNOWN_DEVICE = "unknown_device", _("Unknown device")
    BAD_TOKEN = "bad_token", _("Bad token")
    MALFORMED = names.MALFORMED, _("Malformed payload")
    FAR_FUTURE = "far_future", _("Timestamp too far in the future")
    DUPLICATE = "duplicate", _("Duplicate message id")
    OUT_OF_ORDER = "out_of_order", _("Older than the device's last reading")
    INACTIVE = "inactive", _("Device retired")
    ERROR = "error", _("Processing error")


class Metric(models.TextChoices):
    """What a stored reading measures, and its unit."""

    WATER_USE_L = names.WATER_USE_L, _("Water use since the last message (L)")
    WATER_TOTAL_L = names.WATER_TOTAL_L, _("Water meter reading, cumulative (L)")
    FLOW_L_PER_MIN = names.FLOW_L_PER_MIN, _("Water flow (L/min)")
    POWER_W = names.POWER_W, _("Power (W)")
    ENERGY_WH = names.ENERGY_WH, _("Energy meter reading, cumulative (Wh)")
    SMOKE = names.SMOKE, _("Smoke state (1 alarm, 0 normal)")
    GAS = names.GAS, _("Gas state (1 alarm, 0 normal)")
    SOS = names.SOS, _("SOS press (1)")
    BATTERY_PCT = names.BATTERY_PCT, _("Battery (%)")
