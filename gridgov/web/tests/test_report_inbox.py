"""Reporting a problem on patrol, the inbox, the login page and the language switch."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from gridgov.catalog.tests.factories import TaskTypeFactory
from gridgov.notifications.models import Notification
from gridgov.tasks.choices import TaskAction, TaskSource, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.tests.factories import TaskStreet, make_task

#: Inside grid g11, outside its micro-grid m11.
SPOT = {"lon": "120.007", "lat": "30.007"}


def test_it_files_a_report_as_a_worker_report_task_once(login: Any, street: TaskStreet) -> None:
    client = login("chen")
    form = {
        "idempotency_key": "r-1",
        "task_type": str(street.types["patrol"].pk),
        "title": "楼道电动车充电",
        "note": "3楼飞线充电",
        **SPOT,
    }
    first = client.post("/report/", form)
    second = client.post("/report/", form)
    assert first.status_code == second.status_code == 302
    task = Task.objects.get(source=TaskSource.WORKER_REPORT)
    assert first["Location"] == f"/tasks/{task.number}/?draft=report"
    assert (task.title, task.description, task.area, task.reporter) == (
        "楼道电动车充电",
        "3楼飞线充电",
        street["g11"],
        street["chen"],
    )
    # GRIDGOV_WORKER_REPORT_AUTO_REGISTER (default true): registered and dispatched at once.
    assert task.state == TaskState.DISPATCHED
    assert TaskEvent.objects.filter(task=task, action=TaskAction.CREATE).count() == 1
    page = client.get(first["Location"]).content.decode()
    assert task.number in page


def test_it_offers_only_types_off_the_negative_list(login: Any, street: TaskStreet) -> None:
    banned = TaskTypeFactory(
        category=street.types["patrol"].category,
        code="8899",
        name_zh="代收水电费",
        negative_list=True,
    )
    client = login("chen")
    page = client.get("/report/").content.decode()
    assert street.types["patrol"].name_zh in page
    assert "代收水电费" not in page
    response = client.post(
        "/report/", {"idempotency_key": "r-2", "task_type": str(banned.pk), **SPOT}
    )
    assert response.status_code == 400
    assert "task_type" in response.context["form"].errors
    assert not Task.objects.exists()


def test_it_asks_for_a_location_and_explains_a_place_outside_the_street(
    login: Any, street: TaskStreet
) -> None:
    client = login("chen")
    base = {"idempotency_key": "r-3", "task_type": str(street.types["patrol"].pk)}
    nowhere = client.post("/report/", base)
    assert nowhere.status_code == 400
    assert "lon" in nowhere.context["form"].errors
    far = client.post("/en/report/", {**base, "lon": "100.0", "lat": "20.0"})
    assert far.status_code == 400
    assert "lies in no area" in far.content.decode()
    assert not Task.objects.exists()


def test_it_lists_and_marks_read_the_inbox(login: Any, street: TaskStreet) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    mine = Notification.objects.create(
        recipient=street["chen"], kind="task_due_soon", title="任务即将到期", task=task
    )
    Notification.objects.create(recipient=street["li"], kind="x", title="别人的消息")
    client = login("chen")
    page = client.get("/inbox/").content.decode()
    assert "任务即将到期" in page
    assert "别人的消息" not in page
    assert f"/tasks/{task.number}/" in page
    assert 'class="badge"' in page
    assert client.post("/inbox/", {"id": str(mine.pk)}).status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert 'class="badge"' not in client.get("/inbox/").content.decode()


@pytest.mark.django_db
def test_it_logs_in_through_the_page_with_axes_watching(clock: Any) -> None:
    get_user_model().objects.create_user("xiaochen", password="a-long-passphrase")
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200
    assert "登录" in page.content.decode()
    wrong = client.post("/login/", {"username": "xiaochen", "password": "nope"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    right = client.post("/login/", {"username": "xiaochen", "password": "a-long-passphrase"})
    assert right.status_code == 302
    assert right["Location"] == "/"
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_switches_language_and_keeps_the_page(login: Any, street: TaskStreet) -> None:
    client = login("chen")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/inbox/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/inbox/"
    assert "Messages" in client.get("/en/inbox/").content.decode()


def test_a_report_carries_its_photo_and_a_bad_file_is_refused(
    login: Any, street: TaskStreet, tmp_path: Any, settings: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gridgov.tasks.models import TaskAttachment
    from gridgov.web.tests.conftest import png_bytes

    settings.MEDIA_ROOT = tmp_path
    client = login("chen")
    form = {"idempotency_key": "r-photo", "task_type": str(street.types["patrol"].pk), **SPOT}
    photo = SimpleUploadedFile("wire.png", png_bytes(), content_type="image/png")
    assert client.post("/report/", {**form, "photos": photo}).status_code == 302
    task = Task.objects.get(source=TaskSource.WORKER_REPORT)
    [attachment] = TaskAttachment.objects.filter(task=task)
    assert attachment.event.action == TaskAction.CREATE
    assert (attachment.content_type, attachment.size) == ("image/png", len(png_bytes()))
    assert (tmp_path / attachment.file.name).exists()

    fake = SimpleUploadedFile("wire.png", b"not an image", content_type="image/png")
    response = client.post("/report/", {**form, "idempotency_key": "r-fake", "photos": fake})
    assert response.status_code == 400
    assert Task.objects.filter(source=TaskSource.WORKER_REPORT).count() == 1


def test_the_500_page_speaks_chinese_and_english() -> None:
    from django.test import RequestFactory
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert 'lang="zh-hans"' in page
    assert "服务器出错了" in page
    assert "Server error" in page
