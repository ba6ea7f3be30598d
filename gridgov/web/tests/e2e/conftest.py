"""Fixtures of the end-to-end tests: the system Chromium driven by Playwright against
pytest-django's ``live_server`` (see docs/web.md, "End-to-end tests").

- **The browser** is the Debian ``chromium`` at ``/usr/bin/chromium`` (``GRIDGOV_CHROMIUM``
  to use another); Playwright never downloads one. When it is missing or does not start,
  every test here FAILS with the reason: a missing browser must not pass as a skip.
- **DJANGO_ALLOW_ASYNC_UNSAFE.** Playwright's sync API runs an asyncio event loop in the
  test's thread. Django sees that loop and refuses ORM calls from the same thread
  (``SynchronousOnlyOperation``), although they are plain synchronous calls made between
  browser steps. The variable turns that check off while this package runs (set when the
  browser starts, put back when it stops); the live server answers in its own thread.
- **Data** is made per test with the task engine's factories (``make_task_street``) and
  services in the transactional database the live server reads; there is no fixed clock
  (the browser and the server run on the real time), so deadlines are set from now.
- **Screenshots** of the main pages go to ``var/screenshots/`` (``GRIDGOV_SCREENSHOT_DIR``
  to change it): ``shot(page, name)`` takes a full-page PNG, and on a phone-sized page
  it also checks that nothing is wider than the screen.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from gridgov.core.calendar import calendar_cache_clear
from gridgov.core.models import CalendarYear
from gridgov.tasks.choices import TaskState
from gridgov.tasks.models import Task
from gridgov.tasks.tests.factories import TaskStreet, make_task, make_task_street

CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
#: The password of every user who logs in here.
PASSWORD = "e2e-Secret-2025"
#: A phone (360×740 CSS pixels, touch) and a desktop.
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
#: Milliseconds Playwright waits for an element or a page before failing.
TIMEOUT_MS = 10_000


def screenshot_dir() -> Path:
    """Where screenshots go: ``GRIDGOV_SCREENSHOT_DIR``, else ``<project>/var/screenshots``."""
    configured = os.environ.get("GRIDGOV_SCREENSHOT_DIR")
    folder = Path(configured) if configured else Path(django_settings.BASE_DIR) / "var/screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """The system Chromium, headless, for the whole package; fails (never skips) when
    it is missing or does not start."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the end-to-end tests need the Debian "
            "package 'chromium' (apt-get install chromium fonts-noto-cjk) or "
            "GRIDGOV_CHROMIUM=/path/to/chromium. Playwright's own browsers are not used.",
            pytrace=False,
        )
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            try:
                chromium = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
                )
            except PlaywrightError as error:
                pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}", pytrace=False)
            expect.set_options(timeout=TIMEOUT_MS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(scope="package")
def jpeg(browser: Browser) -> bytes:
    """A real JPEG photo (96×72, a gas meter in flat colours) encoded by Chromium itself:
    there is no image library in the project, and the evidence check reads the bytes."""
    page = browser.new_page()
    try:
        data_url = page.evaluate(
            """() => {
              const c = document.createElement("canvas"); c.width = 96; c.height = 72;
              const g = c.getContext("2d");
              g.fillStyle = "#7a8b99"; g.fillRect(0, 0, 96, 72);
              g.fillStyle = "#f5f5f0"; g.fillRect(20, 14, 56, 40);
              g.fillStyle = "#1b1f24"; g.fillRect(28, 26, 40, 10);
              return c.toDataURL("image/jpeg", 0.85);
            }"""
        )
    finally:
        page.close()
    body = base64.b64decode(data_url.split(",", 1)[1])
    assert body[:3] == b"\xff\xd8\xff", "Chromium did not encode a JPEG"
    return body


@dataclass
class Pages:
    """Open browser pages on the live server; ``errors`` collects uncaught script errors."""

    browser: Browser
    base_url: str
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(
        self,
        *,
        phone: bool,
        locale: str = "zh-CN",
        lonlat: tuple[float, float] | None = None,
    ) -> Page:
        """A new page in its own context (own cookies): a phone or a desktop, the browser's
        language ``locale``, and when ``lonlat`` (WGS84) is given, the location granted."""
        options: dict[str, Any] = dict(PHONE if phone else DESKTOP)
        if lonlat is not None:
            options["geolocation"] = {"longitude": lonlat[0], "latitude": lonlat[1]}
            options["permissions"] = ["geolocation"]
        context = self.browser.new_context(base_url=self.base_url, locale=locale, **options)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser, live_server: Any) -> Iterator[Pages]:
    """Open pages with ``pages.open(phone=…)``; the test fails on an uncaught script error."""
    opened = Pages(browser=browser, base_url=live_server.url)
    yield opened
    opened.close()
    if opened.errors:
        pytest.fail("script errors in the pages:\n" + "\n".join(opened.errors), pytrace=False)


@pytest.fixture
def shot() -> Callable[[Page, str], Path]:
    """``shot(page, "worker-today")`` → a full-page PNG in the screenshot folder. On a
    phone-sized page it first checks that the page is no wider than the screen."""

    def take(page: Page, name: str) -> Path:
        page.wait_for_load_state("load")
        viewport = page.viewport_size or {"width": 0}
        if viewport["width"] < 500:
            wide = page.evaluate(
                """() => Array.from(document.querySelectorAll("body *"))
                    .filter(el => el.getBoundingClientRect().right > innerWidth + 1
                                  && !el.closest(".nav, .leaflet-container"))
                    .map(el => el.tagName + "." + el.className).slice(0, 5)"""
            )
            scroll = page.evaluate("document.documentElement.scrollWidth")
            too_wide = f"{name}: wider than the {viewport['width']} px screen"
            assert scroll <= viewport["width"], f"{too_wide} ({scroll} px): {wide}"
            assert not wide, f"{too_wide}: {wide}"
        # From the top: a full-page shot of a scrolled page draws the sticky top bar midway.
        page.evaluate("window.scrollTo(0, 0)")
        path = screenshot_dir() / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def street(browser: Browser, transactional_db: Any, settings: Any, tmp_path: Path) -> TaskStreet:
    """The task street of ``tasks.tests.factories`` with passwords for the users who log
    in here; uploaded photos go to a temporary ``MEDIA_ROOT``."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # A fast hasher for the few test passwords (Argon2 costs a noticeable time per login
    # on a shared 2-core machine); the login form and its checks are the same.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The real clock runs here: declare this year and the next known (Monday to Friday)
    # so that deadlines are computed without the unknown-year warning.
    this_year = timezone.localdate().year
    for year in (this_year, this_year + 1):
        CalendarYear.objects.get_or_create(year=year, defaults={"note": "e2e"})
    calendar_cache_clear()
    built = make_task_street()
    for username in ("chen", "li", "zhou"):
        user = built.users[username]
        user.first_name = {"chen": "晓", "li": "力", "zhou": "舟"}[username]
        user.last_name = {"chen": "陈", "li": "李", "zhou": "周"}[username]
        user.set_password(PASSWORD)
        user.save()
    return built


def zh(text: str) -> str:
    """The Simplified Chinese of an interface string, from the catalogues the server uses
    (so the tests follow a reworded translation instead of breaking on it)."""
    with translation.override("zh-hans"):
        return gettext(text)


def log_in(page: Page, username: str, *, prefix: str = "") -> None:
    """Log in through the login form (``prefix``: ``/en`` for the English pages)."""
    page.goto(f"{prefix}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    # Enter, not a click: the first submit button of the page is the language switch.
    page.press("input[name=password]", "Enter")
    page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))


def task_for(
    street: TaskStreet,
    *,
    worker: str = "chen",
    rule: str = "visit",
    state: str = TaskState.DISPATCHED,
    hours_left: float = 48,
    hours_to_yellow: float | None = None,
    title: str = "",
) -> Task:
    """A task assigned to ``worker`` (of grid g11 unless li/zhao), dispatched an hour ago,
    due in ``hours_left`` hours (negative: overdue), yellow after ``hours_to_yellow``
    hours from now (default: 80% of the time used, i.e. green for a while)."""
    now = timezone.now()
    deadline = now + dt.timedelta(hours=hours_left)
    yellow = now + dt.timedelta(hours=hours_to_yellow if hours_to_yellow is not None else 24)
    area = {"chen": "m11", "li": "g12", "zhao": "g21"}[worker]
    extra: dict[str, Any] = {}
    if rule == "visit":
        extra["target_household"] = street.households["home"]
    return make_task(
        area=street[area],
        task_type=street.types["patrol"],
        rule=street.rules[rule],
        state=state,
        assignee=street[worker],
        at=now - dt.timedelta(hours=1),
        deadline=deadline,
        yellow_at=min(yellow, deadline),
        **({"title": title} if title else {}),
        **extra,
    )
