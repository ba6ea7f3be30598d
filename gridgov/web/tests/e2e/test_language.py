"""Languages in the browser: Simplified Chinese by default, whatever the browser asks for;
the top bar's button switches to English (under /en/) and back."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from gridgov.notifications.services import notification_queue
from gridgov.tasks.tests.factories import TaskStreet
from gridgov.web.tests.e2e.conftest import Pages, log_in, task_for, zh

Shot = Callable[[Page, str], Path]


def test_chinese_by_default_and_english_on_request(
    pages: Pages, shot: Shot, street: TaskStreet
) -> None:
    task = task_for(street, title="走访独居老人")
    notification_queue(
        recipients=[street["chen"]], kind="task_dispatched", title="新任务", body="", task=task
    )
    # A browser set to English still gets the default language, Chinese.
    page = pages.open(phone=True, locale="en-US")
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text(zh("Log in"))
    shot(page, "worker-login")
    log_in(page, "chen")
    expect(page.locator("h1.page-title")).to_contain_text(zh("Today's tasks"))

    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/en/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1.page-title")).to_contain_text("Today's tasks")
    expect(page.locator("#group-green")).to_contain_text("On time")
    expect(page.get_by_role("link", name="Report a problem")).to_be_visible()
    # The worker's three tabs fit the phone's width in English too (no hidden tab).
    right = page.locator("nav.nav a").last.evaluate("a => a.getBoundingClientRect().right")
    assert right <= 360
    shot(page, "worker-today-en")

    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).not_to_have_url(re.compile("/en/"))
    expect(page.locator("h1.page-title")).to_contain_text(zh("Today's tasks"))
