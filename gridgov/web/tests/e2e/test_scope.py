"""Scope in the browser: a grid worker cannot open another grid's task, nor its photo, by
typing the URL; both answer the same 404 page as a number that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from gridgov.tasks.models import TaskAttachment
from gridgov.tasks.services import task_accept, task_submit_feedback
from gridgov.tasks.tests.factories import HOME_LONLAT, TaskStreet
from gridgov.web.tests.e2e.conftest import Pages, log_in, task_for, zh

Shot = Callable[[Page, str], Path]


def test_another_grids_task_and_photo_are_a_404(
    pages: Pages, shot: Shot, street: TaskStreet, jpeg: bytes
) -> None:
    visit = task_for(street, title="走访 陈的网格")
    task_accept(actor=street["chen"], task=visit)
    task_submit_feedback(
        actor=street["chen"],
        task=visit,
        note="已走访",
        lon=HOME_LONLAT[0],
        lat=HOME_LONLAT[1],
        answers={"health": "good", "people_met": 1},
        photos=[SimpleUploadedFile("door.jpg", jpeg, content_type="image/jpeg")],
    )
    photo = TaskAttachment.objects.get(task=visit)
    task_url = f"/tasks/{visit.number}/"
    photo_url = f"/tasks/{visit.number}/photos/{photo.pk}/"

    own = pages.open(phone=True)
    log_in(own, "chen")
    response = own.goto(photo_url)
    assert response is not None
    assert response.status == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.body() == jpeg

    other = pages.open(phone=True)
    log_in(other, "li")  # grid g12, next door
    for url in (task_url, photo_url, "/tasks/T99999999/"):
        response = other.goto(url)
        assert response is not None
        assert response.status == 404, url
        expect(other.locator("h1")).to_have_text(zh("Not found"))
        expect(other.locator("body")).not_to_contain_text("走访 陈的网格")
    shot(other, "worker-not-found")
    response = other.goto(f"{task_url}feedback/")
    assert response is not None
    assert response.status == 404
