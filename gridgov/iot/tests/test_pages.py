"""The alarm board, the household panel, the actions, the admin: scoped to areas."""

from __future__ import annotations

import datetime as dt
import importlib

from django.test import Client
from django.utils import timezone, translation

from gridgov.iot import rules
from gridgov.iot.choices import AlarmState, DeviceKind
from gridgov.iot.models import Alarm
from gridgov.iot.tests.conftest import Kit


def _login(kit: Kit, username: str) -> Client:
    client = Client()
    client.force_login(kit.street.users[username])
    return client


def test_the_board_shows_alarms_of_the_users_areas_only(kit: Kit) -> None:
    kit.send(DeviceKind.SOS_BUTTON, timezone.now(), event="sos")
    alarm = Alarm.objects.get()
    for username in ("zhou", "wu", "chen"):  # command centre, grid leader, grid worker
        page = _login(kit, username).get("/en/iot/alarms/")
        assert page.status_code == 200
        assert f'id="alarm-{alarm.pk}"' in page.content.decode()
    rows = _login(kit, "li").get("/en/iot/alarms/rows/")  # grid worker of another grid
    assert rows.status_code == 200
    assert f'id="alarm-{alarm.pk}"' not in rows.content.decode()
    assert _login(kit, "nobody").get("/en/iot/alarms/").status_code == 403
    assert Client().get("/en/iot/alarms/").status_code == 302  # to the login page
    nav = _login(kit, "zhou").get("/en/iot/alarms/").content.decode()
    assert 'href="/en/iot/alarms/"' in nav
    assert 'badge badge-red">1<' in nav


def test_acknowledge_and_clear_from_the_board(kit: Kit) -> None:
    kit.send(DeviceKind.GAS_DETECTOR, timezone.now(), {"gas": 1})
    alarm = Alarm.objects.get()
    client = _login(kit, "wu")
    base = f"/en/iot/alarms/{alarm.pk}"
    assert client.post(f"{base}/acknowledge/").status_code == 302
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACKNOWLEDGED
    client.post(f"{base}/clear/", {"outcome": "false_alarm", "reason": ""})
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACKNOWLEDGED  # a false alarm needs its reason
    client.post(f"{base}/clear/", {"outcome": "false_alarm", "reason": "cooking smoke"})
    alarm.refresh_from_db()
    assert (alarm.state, alarm.outcome_reason) == (AlarmState.CLEARED, "cooking smoke")
    assert alarm.events.filter(action="clear", actor=kit.street.users["wu"]).exists()
    assert _login(kit, "li").post(f"{base}/acknowledge/").status_code == 404


def test_household_panel_lists_devices_and_alarms(kit: Kit) -> None:
    kit.send(DeviceKind.SMOKE_DETECTOR, timezone.now(), {"battery_pct": 70})
    household = kit.street.households["home"]
    page = _login(kit, "chen").get(f"/en/iot/households/{household.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    for device in kit.devices.values():
        assert device.serial in text
    assert "70%" in text
    assert _login(kit, "li").get(f"/en/iot/households/{household.pk}/").status_code == 404


def test_admin_scopes_devices_and_alarms(kit: Kit) -> None:
    kit.send(DeviceKind.SOS_BUTTON, timezone.now(), event="sos")
    alarm = Alarm.objects.get()
    link = f"/admin/iot/alarm/{alarm.pk}/change/"
    assert link in _login(kit, "chen").get("/admin/iot/alarm/").content.decode()
    assert link not in _login(kit, "li").get("/admin/iot/alarm/").content.decode()
    devices = _login(kit, "chen").get("/admin/iot/device/").content.decode()
    assert kit.devices[DeviceKind.SOS_BUTTON].serial in devices
    assert _login(kit, "root").get(link).status_code == 200


def test_a_households_rule_override_is_listed_only_inside_the_users_areas(kit: Kit) -> None:
    from gridgov.iot.choices import RuleCode, Severity
    from gridgov.iot.models import AlarmRule

    home = kit.street.households["home"]
    override = AlarmRule.objects.create(
        rule=RuleCode.WATER_LOW_USE, household=home, threshold=8, window_hours=24,
        severity=Severity.MAJOR, note="宁波口径",
    )  # fmt: skip
    default = AlarmRule.objects.get(rule=RuleCode.WATER_HIGH_USE, household=None)
    change = "/admin/iot/alarmrule/{}/change/"
    mine = _login(kit, "chen").get("/admin/iot/alarmrule/").content.decode()
    assert change.format(override.pk) in mine
    assert change.format(default.pk) in mine
    theirs = _login(kit, "zhao").get("/admin/iot/alarmrule/").content.decode()  # community c2
    assert change.format(override.pk) not in theirs
    assert change.format(default.pk) in theirs
    assert _login(kit, "zhao").get(change.format(override.pk)).status_code in (302, 404)


def test_the_board_puts_critical_active_alarms_first(kit: Kit) -> None:
    from gridgov.iot.selectors import alarm_list_visible_to

    now = timezone.now()
    kit.send(DeviceKind.SMOKE_DETECTOR, now, {"battery_pct": 10})  # warning
    kit.send(DeviceKind.SOS_BUTTON, now, event="sos")  # critical
    kit.send(DeviceKind.GAS_DETECTOR, now, {"battery_pct": 10})  # warning, newer id
    rules = [a.rule for a in alarm_list_visible_to(kit.street.users["zhou"])]
    assert rules[0] == "sos"


def test_an_alarm_shows_its_detail_in_the_readers_language(kit: Kit) -> None:
    now = timezone.now()
    kit.send(DeviceKind.SOS_BUTTON, now, {"battery_pct": 15})
    kit.send(DeviceKind.SOS_BUTTON, now + dt.timedelta(minutes=1), event="sos")
    alarm = Alarm.objects.get(rule="low_battery")
    assert (alarm.detail_key, alarm.detail_params) == ("battery", {"pct": 15.0})
    assert Alarm.objects.get(rule="sos").detail_display == ""  # a press has no detail
    client = _login(kit, "zhou")
    english = client.get("/en/iot/alarms/rows/").content.decode()
    chinese = client.get("/iot/alarms/rows/").content.decode()
    assert "<p>battery 15%</p>" in english
    assert "<p>电量 15%</p>" in chinese
    assert "battery 15%" not in chinese
    with translation.override("zh-hans"):
        assert alarm.detail_display == "电量 15%"
    with translation.override("en"):
        assert alarm.detail_display == "battery 15%"


def test_old_alarm_details_get_their_key_in_the_migration() -> None:
    migration = importlib.import_module("gridgov.iot.migrations.0005_alarm_detail_key")
    assert migration._parse("3.2 L in 12 h (< 10 L)") == (
        "low_use", {"used": 3.2, "hours": 12.0, "threshold": 10.0}
    )  # fmt: skip
    assert migration._parse("2600 L on 2026-11-29 (> 2000 L)") == (
        "high_use", {"total": 2600.0, "day": "2026-11-29", "threshold": 2000.0}
    )  # fmt: skip
    assert migration._parse("water flowing for 24 h") == ("flowing", {"hours": 24.0})
    assert migration._parse("已静默 31 分钟") == ("silent", {"minutes": 31})
    assert migration._parse("a note of someone's") is None
    with translation.override("zh-hans"):
        assert rules.detail_render("low_use", {"used": 3.2, "hours": 12, "threshold": 10}) == (
            "12 小时内用水 3.2 升（少于 10 升）"
        )
