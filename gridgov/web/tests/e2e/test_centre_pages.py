"""The command centre's other pages open in the browser without a server or script error,
each saved as a desktop screenshot (the analytics and manager pages of issue 4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page

from gridgov.tasks.choices import TaskState
from gridgov.tasks.tests.factories import TaskStreet
from gridgov.web.tests.e2e.conftest import Pages, log_in, task_for

Shot = Callable[[Page, str], Path]

#: URL name → screenshot name. Every one must exist (a renamed page fails here).
PAGES = {
    "web:home": "centre-home",
    "analytics:map": "centre-map",
    "analytics:ranking": "centre-ranking",
    "analytics:hotspots": "centre-hotspots",
    "manage:directives": "centre-directives",
    "manage:directive-new": "centre-directive-new",
    "manage:campaigns": "centre-campaigns",
    "manage:campaign-new": "centre-campaign-new",
    "iot:alarms": "centre-alarms",
}


@pytest.fixture
def busy_street(street: TaskStreet) -> TaskStreet:
    """The street with a few tasks in different states and lights, in two grids."""
    for worker, state, hours_left in [
        ("chen", TaskState.CLOSED, 20),
        ("chen", TaskState.DISPATCHED, -5),
        ("chen", TaskState.HANDLED, 30),
        ("li", TaskState.CLOSED, 10),
        ("li", TaskState.ACCEPTED, -30),
        ("zhao", TaskState.DISPATCHED, 4),
    ]:
        task_for(street, worker=worker, rule="patrol", state=state, hours_left=hours_left)
    return street


def test_the_command_centres_pages_open(pages: Pages, shot: Shot, busy_street: TaskStreet) -> None:
    page = pages.open(phone=False)
    log_in(page, "zhou")
    with translation.override("zh-hans"):
        urls = {name: reverse(name) for name in PAGES}
    for name, url in urls.items():
        response = page.goto(url)
        assert response is not None
        assert response.status == 200, f"{name} ({url}) answered {response.status}"
        page.wait_for_load_state("networkidle")
        shot(page, PAGES[name])
