"""Photos on the manager pages: thumbnails on the task page and the verification queue,
served by the scoped photo view only to users who may see the task."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.tasks.choices import TaskState
from gridgov.tasks.models import Task, TaskAttachment
from gridgov.tasks.services import task_submit_feedback
from gridgov.tasks.tests.factories import TaskStreet, make_task
from gridgov.web.tests.conftest import png_bytes


def handled_with_photos(street: TaskStreet, area: str = "g11", worker: str = "chen") -> Task:
    task = make_task(
        area=street[area],
        task_type=street.types["patrol"],
        state=TaskState.ACCEPTED,
        assignee=street[worker],
    )
    photos = [
        SimpleUploadedFile(f"p{i}.png", png_bytes(), content_type="image/png") for i in (1, 2)
    ]
    return task_submit_feedback(
        actor=street[worker],
        task=task,
        note="已清理",
        lon=None,
        lat=None,
        answers={},
        photos=photos,
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_the_task_page_and_the_queue_show_thumbnails_that_load(
    login: Any, street: TaskStreet
) -> None:
    task = handled_with_photos(street)
    photos = list(TaskAttachment.objects.filter(task=task).order_by("pk"))
    urls = [f"/tasks/{task.number}/photos/{p.pk}/" for p in photos]
    client = login("lin")
    page = client.get(f"/manage/tasks/{task.number}/").content.decode()
    queue = client.get("/manage/verify/").content.decode()
    for url in urls:
        assert f'<img src="{url}"' in page
        assert f'<img src="{url}"' in queue
    served = client.get(urls[0])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == png_bytes()


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_another_grids_worker_or_community_gets_a_404(login: Any, street: TaskStreet) -> None:
    task = handled_with_photos(street)
    photo = TaskAttachment.objects.filter(task=task).first()
    assert photo is not None
    url = f"/tasks/{task.number}/photos/{photo.pk}/"
    assert login("chen").get(url).status_code == 200  # the assignee
    assert login("li").get(url).status_code == 404  # grid g12's worker
    assert login("zhao").get(url).status_code == 404  # community c2
    # A photo of one task cannot be fetched through another visible task's number.
    mine = make_task(area=street["g21"], task_type=street.types["patrol"], assignee=street["zhao"])
    assert login("zhao").get(f"/tasks/{mine.number}/photos/{photo.pk}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_the_queue_with_photos_runs_a_fixed_number_of_queries(
    login: Any, street: TaskStreet
) -> None:
    client = login("lin")
    handled_with_photos(street)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/manage/verify/").status_code == 200
    for _ in range(4):
        handled_with_photos(street, area="g12", worker="li")
    with CaptureQueriesContext(connection) as many:
        client.get("/manage/verify/")
    assert len(many.captured_queries) == len(few.captured_queries)
