"""``gridgov iot-simulate`` end to end against a real broker: every injected anomaly
raises exactly one alarm, of its rule, on its device; the routines raise none."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from typing import Any

import pytest
from django.core.management import call_command

from gridgov.iot.models import Alarm, Device
from gridgov.iot.mqtt import Consumer
from gridgov.iot.services import alarm_check_run
from gridgov.iot.tests.broker import Broker
from gridgov.people.tests.factories import HouseholdFactory
from gridgov.tasks.tests.factories import make_task_street


@pytest.mark.django_db(transaction=True)
def test_each_anomaly_raises_exactly_one_alarm(broker: Broker, settings: Any) -> None:
    settings.GRIDGOV_IOT_TOPIC_PREFIX = f"t{uuid.uuid4().hex[:8]}/v1"
    street = make_task_street()
    for _ in range(9):
        HouseholdFactory(area=street.tree["m11"])
    client_id = f"sim-{uuid.uuid4().hex[:8]}"
    Consumer(url=broker.url, client_id=client_id).run(idle_exit=0.3)  # the session

    out = io.StringIO()
    call_command(
        "iot_simulate", households=10, hours=26, seed=7, url=broker.url, json=True, stdout=out
    )
    summary = json.loads(out.getvalue())
    assert summary["anomalies_injected"] == 8
    assert summary["readings_sent"] > 10_000
    stats = Consumer(url=broker.url, client_id=client_id, batch_size=500).run(idle_exit=2.0)
    assert stats.accepted == summary["readings_sent"]
    assert stats.rejected == {}
    until = dt.datetime.fromisoformat(summary["simulated_until"])
    alarm_check_run(now=until)

    raised = sorted(Alarm.objects.values_list("device__serial", "rule"))
    expected = sorted((a["serial"], a["rule"]) for a in summary["anomalies"])
    assert raised == expected
    assert Device.objects.count() == 50


def test_an_unreachable_broker_is_a_clear_error_and_changes_nothing(kit: Any) -> None:
    from django.core.management.base import CommandError

    from gridgov.iot.tests.broker import free_port

    before = list(Device.objects.values_list("token_hash", flat=True).order_by("pk"))
    with pytest.raises(CommandError, match="unreachable"):
        call_command("iot_simulate", households=1, hours=1, url=f"mqtt://127.0.0.1:{free_port()}")
    assert list(Device.objects.values_list("token_hash", flat=True).order_by("pk")) == before


@pytest.mark.django_db
def test_direct_mode_ingests_without_a_broker_with_the_same_alarms() -> None:
    from gridgov.iot.models import IngestCounter

    street = make_task_street()
    for _ in range(9):
        HouseholdFactory(area=street.tree["m11"])
    out = io.StringIO()
    call_command(
        "iot_simulate",
        households=10,
        hours=26,
        seed=7,
        direct=True,
        json=True,
        url="mqtt://127.0.0.1:1",
        stdout=out,
    )  # fmt: skip (no broker is asked)
    summary = json.loads(out.getvalue())
    assert summary["anomalies_injected"] == 8
    accepted = IngestCounter.objects.filter(channel="direct", outcome="accepted")
    assert sum(accepted.values_list("count", flat=True)) == summary["readings_sent"]
    assert not IngestCounter.objects.exclude(outcome="accepted").exists()
    alarm_check_run(now=dt.datetime.fromisoformat(summary["simulated_until"]))
    raised = sorted(Alarm.objects.values_list("device__serial", "rule"))
    assert raised == sorted((a["serial"], a["rule"]) for a in summary["anomalies"])


@pytest.mark.django_db
def test_following_in_real_time_keeps_every_kit_online_but_the_silenced_one(
    monkeypatch: Any,
) -> None:
    import time_machine

    from gridgov.iot import simulate as simulator
    from gridgov.iot.choices import RuleCode
    from gridgov.iot.models import Reading

    street = make_task_street()
    for _ in range(9):
        HouseholdFactory(area=street.tree["m11"])
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        # Sleeping moves the clock instead of the test waiting.
        monkeypatch.setattr(
            simulator.time, "sleep", lambda s: traveller.shift(dt.timedelta(seconds=s))
        )
        report = simulator.simulate(households=10, hours=26, seed=7, direct=True, follow_hours=3.0)
        now = simulator.timezone.now()
        assert now >= start + dt.timedelta(hours=2, minutes=55)
        alarm_check_run(now=now)

    silenced = next(a["serial"] for a in report.anomalies if a["anomaly"] == "silent")
    # Three hours on: the other 49 devices reported within their offline time, the
    # silenced SOS button did not; nothing was sent from the future.
    offline = Alarm.objects.filter(rule=RuleCode.OFFLINE)
    assert list(offline.values_list("device__serial", flat=True)) == [silenced]
    assert not Reading.objects.filter(measured_at__gt=now).exists()
    latest = Reading.objects.filter(device__serial=silenced).order_by("-measured_at").first()
    assert latest is None or latest.measured_at <= start
    # The anomalies are not repeated: still one alarm per injected anomaly.
    raised = sorted(Alarm.objects.values_list("device__serial", "rule"))
    assert raised == sorted((a["serial"], a["rule"]) for a in report.anomalies)


@pytest.mark.django_db
def test_resumed_kits_go_on_from_where_they_stopped(monkeypatch: Any) -> None:
    import time_machine

    from gridgov.iot import simulate as simulator
    from gridgov.iot.choices import DeviceKind, RuleCode
    from gridgov.iot.models import Reading

    street = make_task_street()
    for _ in range(9):
        HouseholdFactory(area=street.tree["m11"])
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        monkeypatch.setattr(
            simulator.time, "sleep", lambda s: traveller.shift(dt.timedelta(seconds=s))
        )
        report = simulator.simulate(households=10, hours=26, seed=7, direct=True)
        alarm_check_run(now=simulator.timezone.now())  # the silenced button: offline
        totals = dict(
            Device.objects.filter(kind=DeviceKind.WATER_METER).values_list("serial", "last_total")
        )
        # Later (the demo's server starts): the same kits go on, nothing replayed.
        traveller.shift(dt.timedelta(minutes=3))
        resumed = simulator.kits_resume(households=10, hours=3.0, seed=8, direct=True)
        now = simulator.timezone.now()
        alarm_check_run(now=now)

    assert resumed.households == 10
    assert resumed.readings_sent > 0
    silenced = next(a["serial"] for a in report.anomalies if a["anomaly"] == "silent")
    offline = Alarm.objects.filter(rule=RuleCode.OFFLINE, state__in=("active", "acknowledged"))
    assert list(offline.values_list("device__serial", flat=True)) == [silenced]
    # Nothing was replayed: no reading between the first run's end and the resume, and
    # the resumed kits reported at once (before their offline time could run out).
    gap = (start, start + dt.timedelta(minutes=3))
    assert not Reading.objects.filter(measured_at__gt=gap[0], measured_at__lt=gap[1]).exists()
    reported = Reading.objects.filter(measured_at=gap[1]).values("device").distinct()
    assert reported.count() == 49  # every device but the silenced one
    # Every meter went on from its total (cumulative, never back to zero).
    for serial, total in totals.items():
        first_after = (
            Reading.objects.filter(device__serial=serial, metric="water_total_l",
                                   measured_at__gte=gap[1])
            .order_by("measured_at").values_list("value", flat=True).first()
        )  # fmt: skip
        assert first_after is not None, serial
        assert first_after >= (total or 0.0), serial
