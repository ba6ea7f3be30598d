"""Storage: monthly partitions on PostgreSQL, retention, provisioning from CSV, demo kits."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from gridgov.iot import partitions
from gridgov.iot.choices import DeviceKind, Metric
from gridgov.iot.demo import kits_seed
from gridgov.iot.models import Device, HourlyAggregate, ProcessedMessage, Reading
from gridgov.iot.services import devices_provision_csv, readings_purge
from gridgov.iot.tests.conftest import T0, Kit
from gridgov.people.choices import ResidentTag
from gridgov.people.tests.factories import HouseholdFactory, ResidentFactory


def test_readings_land_in_their_months_partition(kit: Kit) -> None:
    partitions.partitions_ensure(T0)
    kit.send(DeviceKind.WATER_METER, T0, {"water_total_l": 1.0})
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM iot_reading")
            assert [row[0] for row in cursor.fetchall()] == ["iot_reading_y2026m03"]
        else:  # SQLite: one plain table
            cursor.execute("SELECT COUNT(*) FROM iot_reading")
            assert cursor.fetchone()[0] == 2  # the meter total and the use derived from it


def test_the_reading_table_is_partitioned_exactly_on_postgresql(db: None) -> None:
    names = partitions.partitions_list()
    if connection.vendor == "postgresql":
        assert "iot_reading_default" in names
        assert any(n.startswith("iot_reading_y") for n in names)
    else:
        assert names == []


@override_settings(GRIDGOV_IOT_RAW_RETENTION_DAYS=30)
def test_purge_keeps_hourly_aggregates(kit: Kit) -> None:
    partitions.partitions_ensure(T0, months_back=2)
    old = T0 - dt.timedelta(days=45)
    kit.send(DeviceKind.WATER_METER, old, {"water_total_l": 1.0})
    kit.send(DeviceKind.WATER_METER, T0, {"water_total_l": 2.0})
    result = readings_purge(now=T0)
    assert Reading.objects.filter(measured_at__lt=T0 - dt.timedelta(days=30)).count() == 0
    assert Reading.objects.filter(measured_at=T0).exists()
    assert ProcessedMessage.objects.count() == 1  # the old message id went with it
    assert HourlyAggregate.objects.filter(metric=Metric.WATER_TOTAL_L).count() == 2
    assert result["readings"] + 2 * result["partitions_dropped"] >= 1


def test_provisioning_is_all_or_nothing_with_every_bad_row(kit: Kit) -> None:
    home = kit.street.households["home"]
    bad = (
        "household,kind,serial\n"
        f"{home.pk},water_meter,NEW-1\n"
        f"{home.pk},toaster,NEW-2\n"
        "999999,sos_button,NEW-3\n"
        f"{home.pk},sos_button,NEW 4\n"
    )
    report = devices_provision_csv(actor=None, text=bad)
    assert [e.split(":")[0] for e in report.errors] == ["row 3", "row 4", "row 5"]
    assert not Device.objects.filter(serial__startswith="NEW").exists()
    good = f"household,kind,serial\n{home.pk},water_meter,NEW-1\n"
    assert len(devices_provision_csv(actor=None, text=good).created) == 1
    assert devices_provision_csv(actor=None, text=good).created == []  # a rerun: nothing


def test_demo_kits_go_to_elderly_households_once(kit: Kit) -> None:
    area = kit.street.tree["m11"]
    elder_home = HouseholdFactory(area=area)
    ResidentFactory(household=elder_home, tags=[ResidentTag.ELDERLY])
    young_home = HouseholdFactory(area=area)
    ResidentFactory(household=young_home)
    assert kits_seed() == 5
    assert kits_seed() == 0
    assert Device.objects.filter(household=elder_home).count() == 5
    assert not Device.objects.filter(household=young_home).exists()


def test_the_provision_command_never_loses_a_token(kit: Kit, tmp_path: Path) -> None:
    home = kit.street.households["home"]
    devices = tmp_path / "devices.csv"
    devices.write_text(f"household,kind,serial\n{home.pk},water_meter,NEW-9\n", encoding="utf-8")
    # A tokens file that cannot be created: nothing is provisioned.
    with pytest.raises(CommandError, match="cannot create"):
        call_command("iot_provision", str(devices), tokens_out=str(tmp_path / "no" / "t.csv"))
    assert not Device.objects.filter(serial="NEW-9").exists()
    # Bad rows: nothing provisioned and no tokens file left behind.
    bad = tmp_path / "bad.csv"
    bad.write_text(f"household,kind,serial\n{home.pk},toaster,NEW-8\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was provisioned"):
        call_command("iot_provision", str(bad), tokens_out=str(tmp_path / "t1.csv"))
    assert not (tmp_path / "t1.csv").exists()
    # Good: the token is in the file, readable by its owner only.
    out = tmp_path / "t2.csv"
    call_command("iot_provision", str(devices), tokens_out=str(out), stdout=io.StringIO())
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("NEW-9,")
    assert out.stat().st_mode & 0o777 == 0o600
