"""Each rule fires once for its anomaly, never for a normal routine; alarms become tasks."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.core.errors import Conflict, ValidationFailed
from gridgov.iot.choices import AlarmOutcome, AlarmState, DeviceKind, RuleCode, Severity
from gridgov.iot.models import Alarm, AlarmRule
from gridgov.iot.selectors import false_alarm_rate
from gridgov.iot.services import (
    alarm_acknowledge,
    alarm_check_run,
    alarm_clear,
    alarm_response_record,
)
from gridgov.iot.tests.conftest import T0, Kit
from gridgov.tasks.choices import TaskSource, TaskState

WM = DeviceKind.WATER_METER
Q = dt.timedelta(minutes=15)


def normal_use(at: dt.datetime) -> float:
    """Litres in the quarter hour starting ``at``: morning and evening use, quiet nights."""
    hour = (at.hour + 8) % 24  # Shanghai
    if 6 <= hour < 9 or 18 <= hour < 22:
        return 6.0
    if 9 <= hour < 18:
        return 1.0
    return 0.0


def run_meter(kit: Kit, hours: float, use=normal_use, start: dt.datetime = T0) -> dt.datetime:
    total = 0.0
    at = start
    while at < start + dt.timedelta(hours=hours):
        total += use(at)
        assert kit.send(WM, at, {"water_total_l": total, "battery_pct": 80}).accepted
        at += Q
    return at


def rules_fired() -> list[str]:
    return sorted(Alarm.objects.values_list("rule", flat=True))


def test_a_normal_routine_for_two_days_fires_nothing(kit: Kit) -> None:
    end = run_meter(kit, 48)
    for kind in (DeviceKind.SMOKE_DETECTOR, DeviceKind.SOS_BUTTON):
        kit.send(kind, end, {"battery_pct": 95})
    assert alarm_check_run(now=end)["offline"] == 0
    assert rules_fired() == []


def test_low_use_fires_once_after_twelve_quiet_hours(kit: Kit) -> None:
    run_meter(kit, 30, use=lambda at: normal_use(at) if at < T0 + dt.timedelta(hours=8) else 0.0)
    alarm = Alarm.objects.get()
    assert (alarm.rule, alarm.severity, alarm.state) == (
        RuleCode.WATER_LOW_USE, Severity.MAJOR, AlarmState.ACTIVE,
    )  # fmt: skip
    assert alarm.task is None  # not critical: a task only if nobody acknowledges it


def test_ningbo_override_is_eight_litres_in_twenty_four_hours(kit: Kit) -> None:
    AlarmRule.objects.create(
        rule=RuleCode.WATER_LOW_USE, household=kit.street.households["home"], threshold=8,
        window_hours=24, severity=Severity.MAJOR,
    )  # fmt: skip

    # 4.5 L at 08:00 and at 20:00: 9 L a day is enough for Ningbo's 8 L in 24 h (the
    # default, 10 L in 12 h, would fire)...
    def twice_a_day(litres: float):
        return lambda at: litres if at.minute == 0 and at.hour in (0, 12) else 0.0

    run_meter(kit, 36, use=twice_a_day(4.5))
    assert rules_fired() == []
    # ...1 L a day is not.
    run_meter(kit, 30, use=twice_a_day(0.5), start=T0 + dt.timedelta(hours=36))
    assert rules_fired() == [RuleCode.WATER_LOW_USE]


def test_high_use_fires_once_above_two_cubic_metres_a_day(kit: Kit) -> None:
    run_meter(kit, 24, use=lambda at: normal_use(at) + (300.0 if at.hour in (2, 3) else 0.0))
    assert rules_fired() == [RuleCode.WATER_HIGH_USE]


def test_continuous_flow_fires_once_after_a_day_of_use_in_every_half_hour(kit: Kit) -> None:
    run_meter(kit, 40, use=lambda at: normal_use(at) + 2.0)
    assert rules_fired() == [RuleCode.WATER_CONTINUOUS_FLOW]


def test_smoke_is_critical_and_becomes_an_urgent_task_for_the_grid_worker(kit: Kit) -> None:
    kit.send(DeviceKind.SMOKE_DETECTOR, T0, {"smoke": 0})
    result = kit.send(DeviceKind.SMOKE_DETECTOR, T0 + Q, event="smoke")
    kit.send(DeviceKind.SMOKE_DETECTOR, T0 + 2 * Q, {"smoke": 1})  # still sounding: no repeat
    alarm = Alarm.objects.get()
    assert result.alarms == [alarm.pk]
    assert (alarm.severity, alarm.count) == (Severity.CRITICAL, 1)
    task = alarm.task
    assert task is not None
    assert (task.source, task.state, task.priority) == (
        TaskSource.ALARM,
        TaskState.DISPATCHED,
        "urgent",
    )
    assert task.assignee.username in {"chen", "chen2"}
    assert task.task_type.code == "0216"
    assert alarm.phone_due_at - (T0 + Q) == dt.timedelta(minutes=5)
    assert task.deadline == alarm.visit_due_at == T0 + Q + dt.timedelta(minutes=30)
    # The light is green until the call is due, then yellow (not green for the visit's
    # whole half hour), red once the visit is late.
    from gridgov.tasks.selectors import task_traffic_light

    task.refresh_from_db()
    assert task.yellow_at == alarm.phone_due_at
    lights = [
        task_traffic_light(task, now=alarm.phone_due_at + dt.timedelta(minutes=m))
        for m in (-1, 1, 26)
    ]
    assert lights == ["green", "yellow", "red"]


def test_sos_every_press_counts_on_the_one_open_alarm(kit: Kit) -> None:
    for n in range(3):
        kit.send(DeviceKind.SOS_BUTTON, T0 + n * Q, event="sos")
    alarm = Alarm.objects.get()
    assert (alarm.rule, alarm.count, alarm.last_at) == (RuleCode.SOS, 3, T0 + 2 * Q)


def test_gas_fires_once(kit: Kit) -> None:
    kit.send(DeviceKind.GAS_DETECTOR, T0, {"gas": 1})
    kit.send(DeviceKind.GAS_DETECTOR, T0 + Q, {"gas": 0})
    assert rules_fired() == [RuleCode.GAS]
    assert Alarm.objects.get().state == AlarmState.ACTIVE  # staff clear a critical alarm


def test_offline_and_low_battery_and_their_clearing(kit: Kit) -> None:
    sos = DeviceKind.SOS_BUTTON
    kit.send(sos, T0, {"battery_pct": 60})
    assert alarm_check_run(now=T0 + dt.timedelta(minutes=9))["offline"] == 0
    assert alarm_check_run(now=T0 + dt.timedelta(minutes=11))["offline"] == 1
    assert alarm_check_run(now=T0 + dt.timedelta(minutes=12))["offline"] == 0  # one open alarm
    back = T0 + dt.timedelta(minutes=20)
    kit.send(sos, back, {"battery_pct": 15})
    assert rules_fired() == [RuleCode.LOW_BATTERY, RuleCode.OFFLINE]
    kit.send(sos, back + dt.timedelta(minutes=5), {"battery_pct": 25})  # hysteresis: holds
    kit.send(sos, back + dt.timedelta(minutes=11), {"battery_pct": 100})
    offline = Alarm.objects.get(rule=RuleCode.OFFLINE)
    assert (offline.state, offline.outcome) == (AlarmState.CLEARED, AlarmOutcome.RESOLVED)
    assert Alarm.objects.get(rule=RuleCode.LOW_BATTERY).state == AlarmState.ACTIVE
    kit.send(sos, back + dt.timedelta(minutes=25), {"battery_pct": 100})
    assert Alarm.objects.get(rule=RuleCode.LOW_BATTERY).state == AlarmState.CLEARED


def test_unacknowledged_alarm_becomes_a_task_and_the_life_cycle(kit: Kit) -> None:
    kit.send(DeviceKind.SOS_BUTTON, T0, {"battery_pct": 10})
    alarm = Alarm.objects.get()  # low battery: a warning, no task yet
    assert alarm_check_run(now=T0 + dt.timedelta(minutes=29))["tasks"] == 0
    assert alarm_check_run(now=T0 + dt.timedelta(minutes=31))["tasks"] == 1
    alarm.refresh_from_db()
    assert alarm.task is not None
    worker = alarm.task.assignee
    later = T0 + dt.timedelta(minutes=32)
    alarm = alarm_response_record(
        actor=worker, alarm=alarm, step="phone", answered=False, now=later
    )
    assert alarm.state == AlarmState.ACKNOWLEDGED
    with pytest.raises(Conflict):
        alarm_acknowledge(actor=worker, alarm=alarm)
    with pytest.raises(ValidationFailed):
        alarm_clear(actor=worker, alarm=alarm, outcome=AlarmOutcome.FALSE_ALARM)
    with pytest.raises(ValidationFailed, match="200"):  # refused whole, never cut
        alarm_clear(actor=worker, alarm=alarm, outcome=AlarmOutcome.METER_FAULT, reason="长" * 201)
    alarm = alarm_clear(
        actor=worker, alarm=alarm, outcome=AlarmOutcome.METER_FAULT, reason="battery swapped",
        now=later,
    )  # fmt: skip
    alarm.task.refresh_from_db()
    assert alarm.task.state == TaskState.HANDLED
    assert list(alarm.events.values_list("action", flat=True)) == [
        "raise", "task", "acknowledge", "phone", "clear",
    ]  # fmt: skip
    rate = false_alarm_rate(
        area=None, since=T0 - dt.timedelta(days=1), until=T0 + dt.timedelta(days=1)
    )
    assert rate == {"cleared": 1, "false_alarms": 1, "rate": 1.0}


def test_a_flapping_condition_repeats_the_open_alarm_instead_of_raising_new_ones(kit: Kit) -> None:
    sd = DeviceKind.SMOKE_DETECTOR
    minute = dt.timedelta(minutes=1)
    for n, pct in enumerate([15, 40, 15, 40, 15]):  # back and forth within minutes
        kit.send(sd, T0 + n * minute, {"battery_pct": pct})
    alarm = Alarm.objects.get()
    assert (alarm.rule, alarm.count, alarm.state) == (RuleCode.LOW_BATTERY, 3, AlarmState.ACTIVE)


def test_an_overdue_phone_step_notifies_the_grid_leader_once(kit: Kit) -> None:
    from gridgov.notifications.models import Notification

    kit.send(DeviceKind.SOS_BUTTON, T0, event="sos")
    alarm = Alarm.objects.get()
    assert alarm.phone_due_at == T0 + dt.timedelta(minutes=5)
    kit.send(DeviceKind.SOS_BUTTON, T0 + dt.timedelta(minutes=4), {"battery_pct": 90})
    assert alarm_check_run(now=T0 + dt.timedelta(minutes=4))["escalated"] == 0
    assert alarm_check_run(now=T0 + dt.timedelta(minutes=6))["escalated"] == 1
    assert alarm_check_run(now=T0 + dt.timedelta(minutes=7))["escalated"] == 0
    notified = Notification.objects.filter(kind="iot_phone_overdue")
    assert [n.recipient.username for n in notified] == ["wu"]  # the grid leader of c1
    assert alarm.events.filter(action="escalate").count() == 1
