"""The feedback and report forms on a bad connection (static/web/app.js, data-resilient).

The page posts the form with fetch and keeps everything entered — note, chosen photos,
location — when the connection fails, with a message and a retry button. The form's
idempotency key goes again with the retry, so a retry after a lost answer (the server
did the work, the phone never heard) creates nothing twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from gridgov.tasks.choices import TaskAction, TaskSource, TaskState
from gridgov.tasks.models import Task, TaskAttachment, TaskEvent
from gridgov.tasks.tests.factories import HOME_LONLAT, TaskStreet
from gridgov.web.tests.e2e.conftest import Pages, log_in, task_for, zh

Shot = Callable[[Page, str], Path]
NEAR_HOME = (HOME_LONLAT[0] + 0.0001, HOME_LONLAT[1] + 0.0001)
#: About 1.1 km east of the household: outside the rule's 200 m check-in radius.
FAR_AWAY = (HOME_LONLAT[0] + 0.0115, HOME_LONLAT[1])
NOTE = "煤气灶软管老化，已提醒更换。"


def feedback_events(task: Task) -> int:
    return TaskEvent.objects.filter(task=task, action=TaskAction.SUBMIT_FEEDBACK).count()


def fill_feedback(page: Page, jpeg: bytes) -> None:
    expect(page.locator("[data-geo-status]")).to_have_attribute("data-state", "found")
    page.fill("textarea[name=note]", NOTE)
    page.set_input_files(
        "input[name=photos]",
        files=[{"name": "hose.jpg", "mimeType": "image/jpeg", "buffer": jpeg}],
    )
    page.select_option("select[name=a_health]", "poor")
    page.fill("input[name=a_people_met]", "1")


def expect_everything_kept(page: Page) -> None:
    expect(page.locator("textarea[name=note]")).to_have_value(NOTE)
    expect(page.locator("select[name=a_health]")).to_have_value("poor")
    expect(page.locator("input[name=a_people_met]")).to_have_value("1")
    assert page.locator("input[name=photos]").evaluate("el => el.files.length") == 1
    expect(page.locator(".thumbs.picked img")).to_have_count(1)
    assert page.locator("input[name=lon]").input_value() != ""


def feedback_page(
    pages: Pages, street: TaskStreet, jpeg: bytes, *, title: str, lonlat: tuple[float, float]
) -> tuple[Task, Page]:
    """An accepted home visit of chen's, and his phone (standing at ``lonlat``) on its
    feedback form, filled in."""
    visit = task_for(street, state=TaskState.ACCEPTED, title=title)
    page = pages.open(phone=True, lonlat=lonlat)
    log_in(page, "chen")
    page.goto(f"/tasks/{visit.number}/feedback/")
    fill_feedback(page, jpeg)
    return visit, page


def test_feedback_survives_no_signal_and_a_lost_answer(
    pages: Pages, shot: Shot, street: TaskStreet, jpeg: bytes
) -> None:
    visit, page = feedback_page(pages, street, jpeg, title="走访 独居老人 刘大爷", lonlat=NEAR_HOME)
    status = page.locator("[data-send-status]")
    retry = status.get_by_role("button", name=zh("Try again"))

    # 1. No signal: nothing reaches the server, everything stays on the page.
    page.context.set_offline(True)
    page.get_by_role("button", name=zh("Send feedback")).tap()
    expect(status).to_have_attribute("data-state", "offline")
    expect(status).to_contain_text(
        zh(
            "Not sent: the connection failed. Everything you entered is kept here, photos "
            "included. Try again when you have a signal."
        )
    )
    expect(retry).to_be_visible()
    expect_everything_kept(page)
    assert feedback_events(visit) == 0
    shot(page, "worker-feedback-offline")

    # 2. Back online, but the answer is lost on the way back: the server has done it.
    page.context.set_offline(False)

    def lose_the_answer(route: Route) -> None:
        route.fetch()  # the request reaches the server, which records the feedback
        route.abort("connectionreset")

    page.route(re.compile(r"/feedback/$"), lose_the_answer)
    retry.tap()
    expect(status).to_have_attribute("data-state", "offline")
    expect_everything_kept(page)
    assert feedback_events(visit) == 1

    # 3. The retry carries the same idempotency key: the first feedback is found, no other.
    page.unroute(re.compile(r"/feedback/$"))
    retry.tap()
    expect(page).to_have_url(re.compile(rf"/tasks/{visit.number}/\?draft="))
    expect(page.locator(".msg-success")).to_contain_text(visit.number)
    expect(page.locator(".timeline > li", has_text=zh("Feedback submitted"))).to_have_count(1)
    assert feedback_events(visit) == 1
    assert TaskAttachment.objects.filter(task=visit).count() == 1
    visit.refresh_from_db()
    assert visit.state == TaskState.HANDLED
    # The draft kept in the browser is cleared once the server has confirmed.
    drafts = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('gridgov-draft'))")
    assert drafts == []


def test_a_refused_feedback_keeps_the_photo_and_goes_through_once_fixed(
    pages: Pages, shot: Shot, street: TaskStreet, jpeg: bytes
) -> None:
    visit, page = feedback_page(pages, street, jpeg, title="走访 独居老人 孙奶奶", lonlat=FAR_AWAY)
    page.get_by_role("button", name=zh("Send feedback")).tap()

    # The service refuses the check-in (about 1.1 km from the household): the errors come
    # back on the page and the chosen photo is still chosen.
    location = page.locator(".field.location")
    expect(location).to_have_class(re.compile("has-error"))
    expect(location.locator(".error")).to_contain_text("200")
    expect(page.locator("[data-files-lost]")).to_have_count(0)
    expect_everything_kept(page)
    assert feedback_events(visit) == 0
    shot(page, "worker-feedback-refused")

    page.context.set_geolocation({"longitude": NEAR_HOME[0], "latitude": NEAR_HOME[1]})
    location.get_by_role("button", name=zh("Find my location")).tap()
    expect(location.locator("[data-geo-status]")).to_have_attribute("data-state", "found")
    page.get_by_role("button", name=zh("Send feedback")).tap()
    expect(page.locator(".msg-success")).to_contain_text(visit.number)
    assert feedback_events(visit) == 1
    assert TaskAttachment.objects.filter(task=visit).count() == 1


def test_a_report_sent_again_after_a_lost_answer_is_one_task(
    pages: Pages, street: TaskStreet, jpeg: bytes
) -> None:
    page = pages.open(phone=True, lonlat=NEAR_HOME)
    log_in(page, "chen")
    page.get_by_role("link", name=zh("Report a problem")).tap()
    expect(page.locator("[data-geo-status]")).to_have_attribute("data-state", "found")
    page.select_option("select[name=task_type]", str(street.types["patrol"].pk))
    page.fill("input[name=title]", "井盖破损")
    page.fill("textarea[name=note]", "3幢北侧井盖破裂，已放置警示。")
    page.set_input_files(
        "input[name=photos]",
        files=[{"name": "cover.jpg", "mimeType": "image/jpeg", "buffer": jpeg}],
    )

    def lose_the_answer(route: Route) -> None:
        route.fetch()
        route.abort("connectionreset")

    page.route(re.compile(r"/report/$"), lose_the_answer)
    page.get_by_role("button", name=zh("Send report")).tap()
    status = page.locator("[data-send-status]")
    expect(status).to_have_attribute("data-state", "offline")
    expect(page.locator("input[name=title]")).to_have_value("井盖破损")
    reports = Task.objects.filter(source=TaskSource.WORKER_REPORT, reporter=street["chen"])
    assert reports.count() == 1

    page.unroute(re.compile(r"/report/$"))
    status.get_by_role("button", name=zh("Try again")).tap()
    expect(page.locator(".msg-success")).to_contain_text(reports.get().number)
    assert reports.count() == 1
    assert TaskAttachment.objects.filter(task=reports.get()).count() == 1


def test_a_stalled_send_offers_a_retry_that_goes_through_once(
    pages: Pages, street: TaskStreet, jpeg: bytes
) -> None:
    visit, page = feedback_page(pages, street, jpeg, title="走访 独居老人 钱阿婆", lonlat=NEAR_HOME)
    # Offer the retry after 300 ms instead of 30 s.
    page.locator("form[data-resilient]").evaluate("f => f.setAttribute('data-slow-after', '300')")
    stalled: list[Route] = []

    def stall_the_first(route: Route) -> None:
        if not stalled:
            stalled.append(route)  # neither continued nor fulfilled: the request hangs
        else:
            route.continue_()

    page.route(re.compile(r"/feedback/$"), stall_the_first)

    send = page.get_by_role("button", name=zh("Send feedback"))
    send.tap()
    status = page.locator("[data-send-status]")
    expect(status).to_have_attribute("data-state", "slow")
    expect(status).to_contain_text(
        zh("Still sending: the connection is slow. You can wait, or try again.")
    )
    assert len(stalled) == 1
    assert feedback_events(visit) == 0

    # The retry abandons the hanging try (the page aborts its fetch) and sends again.
    status.get_by_role("button", name=zh("Try again")).tap()
    expect(page.locator(".msg-success")).to_contain_text(visit.number)
    assert len(stalled) == 1
    assert feedback_events(visit) == 1
