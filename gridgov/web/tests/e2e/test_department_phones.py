"""In the browser: a department handler finds a task of their department on the home
list and accepts it; a grid worker reveals an alarm household's phone numbers (logged)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import Page, expect

from gridgov.people.models import PersonalDataAccess
from gridgov.people.tests.factories import ResidentFactory
from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.services import task_create
from gridgov.tasks.tests.factories import TaskStreet, make_task
from gridgov.web.tests.e2e.conftest import PASSWORD, Pages, log_in, zh

Shot = Callable[[Page, str], Path]


def test_a_department_handler_accepts_a_department_task(
    pages: Pages, shot: Shot, street: TaskStreet
) -> None:
    he = street["he"]
    he.set_password(PASSWORD)
    he.save()
    task = task_create(
        actor=street["wu"],
        source="directive",
        task_type=street.types["enforcement"],
        area=street["g11"],
        title="夜间施工噪音",
        deadline=timezone.now() + dt.timedelta(days=2),
    )
    page = pages.open(phone=True)
    log_in(page, "he")
    page.goto("/")
    expect(page.locator("h1")).to_contain_text(zh("Today's tasks"))
    page.get_by_text("夜间施工噪音").click()
    page.wait_for_url(f"**/tasks/{task.number}/")
    page.get_by_role("button", name=zh("Accept")).click()
    expect(page.get_by_role("link", name=zh("Submit feedback"))).to_be_visible()
    shot(page, "department-task-accepted")
    task.refresh_from_db()
    assert task.state == TaskState.ACCEPTED
    assert task.assignee == he


def test_a_worker_reveals_an_alarm_households_phones(
    pages: Pages, shot: Shot, street: TaskStreet
) -> None:
    home = street.households["home"]
    ResidentFactory(
        household=home,
        name="王秀英",
        phone="13812345678",
        emergency_contact_name="王建国",
        emergency_contact_phone="13987654321",
    )
    now = timezone.now()
    task = make_task(
        area=street["m11"],
        task_type=street.types["patrol"],
        source=TaskSource.ALARM,
        assignee=street["chen"],
        target_household=home,
        title="水表长时间无用水",
        at=now - dt.timedelta(minutes=5),
        deadline=now + dt.timedelta(minutes=30),
    )
    page = pages.open(phone=True)
    log_in(page, "chen")
    page.goto(f"/tasks/{task.number}/")
    expect(page.locator("#phones")).to_contain_text("138****5678")
    page.locator("#phones summary").click()
    page.locator("#phones button[type=submit]").click()
    expect(page.locator('#phones a[href="tel:13812345678"]')).to_be_visible()
    expect(page.locator('#phones a[href="tel:13987654321"]')).to_be_visible()
    shot(page, "worker-phones-revealed")
    access = PersonalDataAccess.objects.get(subject_kind="resident")
    assert access.user == street["chen"]
    assert access.context == f"task:{task.number}"
    assert access.purpose == zh("Alarm call (task %(number)s)") % {"number": task.number}
