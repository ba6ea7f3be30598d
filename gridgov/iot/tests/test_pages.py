"""The alarm board, the household panel, the actions, the admin: scoped to areas."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

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


def test_the_board_puts_critical_active_alarms_first(kit: Kit) -> None:
    from gridgov.iot.selectors import alarm_list_visible_to

    now = timezone.now()
    kit.send(DeviceKind.SMOKE_DETECTOR, now, {"battery_pct": 10})  # warning
    kit.send(DeviceKind.SOS_BUTTON, now, event="sos")  # critical
    kit.send(DeviceKind.GAS_DETECTOR, now, {"battery_pct": 10})  # warning, newer id
    rules = [a.rule for a in alarm_list_visible_to(kit.street.users["zhou"])]
    assert rules[0] == "sos"
