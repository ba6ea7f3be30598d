"""The closed loop in a real browser: a grid worker on a phone accepts a task and sends
feedback with a photo and the browser's location; the command centre passes it in the
verification queue and the dashboard's closed count goes up by one."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import Page, expect

from gridgov.notifications.services import notification_queue
from gridgov.tasks.choices import TaskAction, TaskState
from gridgov.tasks.models import Task, TaskAttachment, TaskEvent
from gridgov.tasks.tests.factories import HOME_LONLAT, TaskStreet
from gridgov.web.tests.e2e.conftest import Pages, log_in, task_for, zh

Shot = Callable[[Page, str], Path]
#: Where the worker stands: about 15 m from the household visited (check-in radius 200 m).
NEAR_HOME = (HOME_LONLAT[0] + 0.0001, HOME_LONLAT[1] + 0.0001)


def open_ok(page: Page, url: str) -> None:
    """Go to ``url`` and fail at once, with the status, unless it answers 200."""
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, f"{url} answered {response.status}"


def figure(page: Page, name: str) -> int:
    """A dashboard card's figure, read from the page."""
    return int(page.locator(f"[data-figure={name}]").inner_text().strip())


def worker_sends_feedback(page: Page, shot: Shot, task: Task, jpeg: bytes) -> None:
    log_in(page, "chen")
    expect(page.locator("h1.page-title")).to_contain_text(zh("Today's tasks"))
    # Grouped by traffic light, red first, each with its count.
    groups = page.locator("section.group")
    expect(groups).to_have_count(3)
    assert [groups.nth(i).get_attribute("class") for i in range(3)] == [
        "group group-red",
        "group group-yellow",
        "group group-green",
    ]
    expect(page.locator("#group-green .badge")).to_have_text("1")
    expect(page.locator("h1.page-title .count")).to_have_text("3")
    shot(page, "worker-today")

    page.get_by_role("link", name=re.compile(task.title)).tap()
    expect(page.locator("h1")).to_have_text(task.title)
    expect(page.locator(".task-meta .state")).to_have_text(zh("Dispatched"))
    shot(page, "worker-task")
    page.get_by_role("button", name=zh("Accept")).tap()
    expect(page.locator(".msg-success")).to_contain_text(zh("Task accepted."))
    expect(page.locator(".task-meta .state")).to_have_text(zh("Accepted"))

    page.get_by_role("link", name=zh("Submit feedback")).tap()
    expect(page.locator("[data-geo-status]")).to_have_attribute("data-state", "found")
    page.fill("textarea[name=note]", "燃气表正常，老人身体良好。")
    photo = {"name": "meter.jpg", "mimeType": "image/jpeg", "buffer": jpeg}
    page.set_input_files("input[name=photos]", files=[photo])
    expect(page.locator(".thumbs.picked img")).to_have_count(1)  # the preview
    page.select_option("select[name=a_health]", "good")
    page.fill("input[name=a_people_met]", "2")
    shot(page, "worker-feedback")
    page.get_by_role("button", name=zh("Send feedback")).tap()

    expect(page.locator(".msg-success")).to_contain_text(task.number)
    expect(page.locator(".task-meta .state")).to_have_text(zh("Handled"))
    feedback = page.locator(".timeline li", has_text=zh("Feedback submitted"))
    expect(feedback).to_have_count(1)
    expect(feedback).to_contain_text("燃气表正常")
    thumb = feedback.locator(".thumbs img")
    expect(thumb).to_have_count(1)
    # The photo is served (scoped) and decodes as an image in the browser.
    loaded = "img => img.complete && img.naturalWidth === 96"
    page.wait_for_function(loaded, arg=thumb.element_handle())
    shot(page, "worker-task-handled")


def test_the_loop_from_the_phone_to_the_dashboard(
    pages: Pages, shot: Shot, street: TaskStreet, jpeg: bytes
) -> None:
    visit = task_for(street, title="走访独居老人 王阿姨")
    # A long title: it must wrap inside its card on a 360 px screen.
    long_title = "巡查古荡新村北门至文一路口沿街店铺的门前三包、占道经营和消防通道堵塞情况"
    task_for(street, rule="patrol", hours_left=-3, title=long_title)
    task_for(street, rule="quick", hours_left=2, hours_to_yellow=-1, title="清理 楼道 堆物")
    notification_queue(
        recipients=[street["chen"]],
        kind="task_dispatched",
        title="新任务：走访独居老人 王阿姨",
        body="请在两个工作日内完成走访。",
        task=visit,
    )

    phone = pages.open(phone=True, lonlat=NEAR_HOME)
    worker_sends_feedback(phone, shot, visit, jpeg)
    visit.refresh_from_db()
    assert visit.state == TaskState.HANDLED
    event = TaskEvent.objects.get(task=visit, action=TaskAction.SUBMIT_FEEDBACK)
    assert event.actor == street["chen"]
    assert event.data["distance_m"] < 30
    assert TaskAttachment.objects.get(event=event).content_type == "image/jpeg"

    phone.get_by_role("link", name=re.compile(zh("Messages"))).tap()
    expect(phone.locator(".note.unread")).to_have_count(1)
    shot(phone, "worker-inbox")
    phone.get_by_role("link", name=zh("Report a problem")).tap()
    expect(phone.locator("[data-geo-status]")).to_have_attribute("data-state", "found")
    shot(phone, "worker-report")

    # The command centre on a desktop: the dashboard for the period of the deadline.
    desk = pages.open(phone=False)
    log_in(desk, "zhou")
    today = timezone.localdate()
    period = f"start={today.isoformat()}&end={(today + dt.timedelta(days=7)).isoformat()}"
    dashboard = f"/dashboard/?area={street['street'].code}&{period}"
    open_ok(desk, dashboard)
    closed_before, due = figure(desk, "closed"), figure(desk, "due")
    assert due >= 1
    shot(desk, "centre-dashboard-before")

    desk.get_by_role("link", name=re.compile(zh("Verify"))).click()
    item = desk.locator(f"#task-{visit.number}")
    expect(item).to_contain_text("燃气表正常")
    expect(item.locator(".photos")).to_have_text("1")
    shot(desk, "centre-verify")
    item.get_by_role("button", name=zh("Pass and close")).click()
    expect(desk.locator(".msg-success")).to_be_visible()
    expect(desk.locator(f"#task-{visit.number}")).to_have_count(0)

    open_ok(desk, dashboard)
    assert figure(desk, "closed") == closed_before + 1
    shot(desk, "centre-dashboard")
    visit.refresh_from_db()
    assert visit.state == TaskState.CLOSED
    assert TaskEvent.objects.get(task=visit, action=TaskAction.VERIFY_PASS).actor == street["zhou"]

    open_ok(desk, "/manage/tasks/")
    expect(desk.locator("body")).to_contain_text(visit.number)
    shot(desk, "centre-task-list")
    open_ok(desk, f"/manage/tasks/{visit.number}/")
    expect(desk.locator("body")).to_contain_text("燃气表正常")
    shot(desk, "centre-task")
