"""The task page's "show phone numbers": masked by default, revealed through the audited
people services (one PersonalDataAccess row per record), refused (403) to roles that may
not reveal phones."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gridgov.people.models import PersonalDataAccess
from gridgov.people.tests.factories import ResidentFactory
from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.models import Task
from gridgov.tasks.tests.factories import TaskStreet, make_task
from gridgov.web.tests.conftest import NOW


@pytest.fixture
def alarm(street: TaskStreet) -> Task:
    """An IoT alarm at the household ``home`` (two residents, one with an emergency
    contact), assigned to chen."""
    home = street.households["home"]
    home.phone = "057188001234"
    home.save()
    ResidentFactory(
        household=home,
        name="王秀英",
        phone="13812345678",
        emergency_contact_name="王建国",
        emergency_contact_phone="13987654321",
    )
    ResidentFactory(household=home, name="李四", phone="", emergency_contact_phone="")
    return make_task(
        area=street["m11"],
        task_type=street.types["patrol"],
        source=TaskSource.ALARM,
        state=TaskState.DISPATCHED,
        assignee=street["chen"],
        target_household=home,
        title="水表长时间无用水",
        at=NOW - dt.timedelta(minutes=5),
    )


def test_the_page_shows_masked_numbers_and_the_reveal_button(login: Any, alarm: Task) -> None:
    page = login("chen").get(f"/tasks/{alarm.number}/").content.decode()
    assert "138****5678" in page
    assert "139****4321" in page
    assert "13812345678" not in page
    assert "显示电话号码" in page
    assert f"/tasks/{alarm.number}/phones/" in page
    assert "告警回访" in page  # the purpose offered for an alarm
    assert not PersonalDataAccess.objects.exists()


def test_a_reveal_shows_tel_links_and_is_logged_with_its_actor(
    login: Any, street: TaskStreet, alarm: Task
) -> None:
    response = login("chen").post(
        f"/tasks/{alarm.number}/phones/", {"purpose": "告警回访电话"}, REMOTE_ADDR="10.0.0.7"
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert 'href="tel:13812345678"' in page
    assert 'href="tel:13987654321"' in page
    assert 'href="tel:057188001234"' in page
    assert "王秀英" in page
    assert "王建国" in page
    rows = list(PersonalDataAccess.objects.order_by("id"))
    # The household's phone and the one resident with numbers: two reads, both logged.
    assert [(r.subject_kind, r.user) for r in rows] == [
        ("household", street["chen"]),
        ("resident", street["chen"]),
    ]
    assert rows[0].fields == ["phone"]
    assert set(rows[1].fields) == {
        "phone",
        "emergency_contact_phone",
        "name",
        "emergency_contact_name",
    }
    assert all(r.purpose == "告警回访电话" for r in rows)
    assert all(r.context == f"task:{alarm.number}" for r in rows)
    assert all(r.ip_address == "10.0.0.7" for r in rows)


def test_a_reveal_needs_a_purpose(login: Any, alarm: Task) -> None:
    response = login("chen").post(f"/tasks/{alarm.number}/phones/", {"purpose": "  "})
    assert response.status_code == 400
    assert "13812345678" not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_a_role_without_the_right_sees_masked_numbers_and_gets_403(login: Any, alarm: Task) -> None:
    client = login("pm")  # party member of m11: sees the task, may reveal nothing
    page = client.get(f"/tasks/{alarm.number}/").content.decode()
    assert "138****5678" in page
    assert f"/tasks/{alarm.number}/phones/" not in page
    response = client.post(f"/tasks/{alarm.number}/phones/", {"purpose": "想看看"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "13812345678" not in page
    assert "138****5678" in page
    assert not PersonalDataAccess.objects.exists()


def test_a_task_out_of_sight_or_without_household_is_404(
    login: Any, street: TaskStreet, alarm: Task
) -> None:
    assert login("li").post(f"/tasks/{alarm.number}/phones/", {"purpose": "x"}).status_code == 404
    plain = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    assert login("chen").post(f"/tasks/{plain.number}/phones/", {"purpose": "x"}).status_code == 404
    assert not PersonalDataAccess.objects.exists()
