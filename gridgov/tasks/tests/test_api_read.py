"""The task list and detail over the API: scope, filters, pagination, timeline."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.api.tests.helpers import bearer_client, envelope, ok
from gridgov.tasks.choices import TaskAction, TaskSource, TaskState
from gridgov.tasks.models import TaskAttachment, TaskEvent
from gridgov.tasks.tests.factories import TaskStreet, make_task

CST = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2025, 6, 2, 9, 0, tzinfo=CST)


def _numbers(page: dict) -> list[str]:
    return [t["number"] for t in page["items"]]


def test_a_grid_worker_lists_their_grid_only(street: TaskStreet) -> None:
    patrol = street.types["patrol"]
    mine = make_task(area=street["g11"], task_type=patrol, assignee=street["chen"])
    make_task(area=street["g12"], task_type=patrol, assignee=street["li"])
    page = ok(bearer_client(street["chen"]).get("/api/v1/tasks"))
    assert _numbers(page) == [mine.number]
    assert page["count"] == 1
    item = page["items"][0]
    assert item["area"]["code"] == street["g11"].code
    assert item["assignee"]["username"] == "chen"
    assert item["task_type"]["code"] == patrol.code
    assert item["state"] == "dispatched"


def test_another_grids_task_is_not_found_not_forbidden(street: TaskStreet) -> None:
    other = make_task(area=street["g12"], task_type=street.types["patrol"])
    error = envelope(bearer_client(street["chen"]).get(f"/api/v1/tasks/{other.number}"), 404)
    assert error["code"] == "not_found"
    ok(bearer_client(street["zhou"]).get(f"/api/v1/tasks/{other.number}"))


def test_filters(street: TaskStreet) -> None:
    patrol, enforcement = street.types["patrol"], street.types["enforcement"]
    a = make_task(area=street["g11"], task_type=patrol, assignee=street["chen"])
    b = make_task(
        area=street["g12"],
        task_type=enforcement,
        state=TaskState.ACCEPTED,
        source=TaskSource.ROUTINE,
        is_overdue=True,
    )
    c = make_task(area=street["g21"], task_type=patrol, state=TaskState.CLOSED)
    client = bearer_client(street["zhou"])

    def numbers(query: str) -> set[str]:
        return set(_numbers(ok(client.get(f"/api/v1/tasks?{query}"))))

    assert numbers("") == {a.number, b.number, c.number}
    assert numbers("state=accepted&state=closed") == {b.number, c.number}
    assert numbers(f"area={street['c1'].code}") == {a.number, b.number}
    assert numbers("assignee=chen") == {a.number}
    assert numbers("source=routine") == {b.number}
    assert numbers(f"task_type={enforcement.code}") == {b.number}
    assert numbers("overdue=true") == {b.number}
    assert numbers("overdue=false") == {a.number, c.number}
    assert ok(bearer_client(street["chen"]).get("/api/v1/tasks?assignee=me"))["count"] == 1


def test_unknown_filter_values_are_422(street: TaskStreet) -> None:
    client = bearer_client(street["zhou"])
    for query in ["state=lost", "area=999999", "task_type=9999", "assignee=ghost", "light=blue"]:
        error = envelope(client.get(f"/api/v1/tasks?{query}"), 422)
        assert error["code"] == "validation_failed", query


def test_date_ranges_on_creation_and_deadline(street: TaskStreet) -> None:
    patrol = street.types["patrol"]
    with time_machine.travel(MONDAY, tick=False):
        early = make_task(area=street["g11"], task_type=patrol, deadline=MONDAY)
    with time_machine.travel(MONDAY + dt.timedelta(days=7), tick=False):
        late = make_task(
            area=street["g11"], task_type=patrol, deadline=MONDAY + dt.timedelta(days=10)
        )
    client = bearer_client(street["zhou"])

    def numbers(query: str) -> set[str]:
        return set(_numbers(ok(client.get(f"/api/v1/tasks?{query}"))))

    assert numbers("created_from=2025-06-05T00:00:00%2B08:00") == {late.number}
    assert numbers("created_to=2025-06-05T00:00:00") == {early.number}  # naive: local time
    assert numbers("deadline_from=2025-06-10T00:00:00%2B08:00") == {late.number}
    assert numbers("deadline_to=2025-06-03T00:00:00%2B08:00") == {early.number}


def test_traffic_light_in_list_and_filter(street: TaskStreet) -> None:
    patrol = street.types["patrol"]
    red = make_task(area=street["g11"], task_type=patrol, deadline=MONDAY)
    green = make_task(area=street["g11"], task_type=patrol, deadline=MONDAY + dt.timedelta(days=30))
    client = bearer_client(street["zhou"])
    with time_machine.travel(MONDAY + dt.timedelta(days=1), tick=False):
        page = ok(client.get("/api/v1/tasks"))
        lights = {t["number"]: t["light"] for t in page["items"]}
        assert lights == {red.number: "red", green.number: "green"}
        assert _numbers(ok(client.get("/api/v1/tasks?light=red"))) == [red.number]


def test_pagination_has_a_total_and_a_maximum(street: TaskStreet) -> None:
    patrol = street.types["patrol"]
    made = [make_task(area=street["g11"], task_type=patrol) for _ in range(5)]
    client = bearer_client(street["zhou"])
    first = ok(client.get("/api/v1/tasks?limit=2"))
    second = ok(client.get("/api/v1/tasks?limit=2&offset=2"))
    assert first["count"] == second["count"] == 5
    assert len(first["items"]) == len(second["items"]) == 2
    assert not set(_numbers(first)) & set(_numbers(second))
    everything = ok(client.get("/api/v1/tasks?limit=200"))
    assert set(_numbers(everything)) == {t.number for t in made}
    assert envelope(client.get("/api/v1/tasks?limit=201"), 422)["details"][0]["loc"] == [
        "query",
        "limit",
    ]


def test_the_list_query_count_does_not_grow_with_rows(street: TaskStreet) -> None:
    patrol = street.types["patrol"]
    client = bearer_client(street["zhou"])
    make_task(area=street["g11"], task_type=patrol, assignee=street["chen"])
    client.get("/api/v1/tasks")
    with CaptureQueriesContext(connection) as one:
        ok(client.get("/api/v1/tasks"))
    for _ in range(5):
        make_task(area=street["g12"], task_type=patrol, assignee=street["li"])
    with CaptureQueriesContext(connection) as six:
        ok(client.get("/api/v1/tasks"))
    assert len(one) == len(six)


def test_detail_has_the_timeline_and_attachment_urls(
    street: TaskStreet, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    task = make_task(area=street["g11"], task_type=street.types["patrol"], assignee=street["chen"])
    created = TaskEvent.objects.create(
        task=task, action=TaskAction.CREATE, actor=street["zhou"], at=MONDAY, to_state="dispatched"
    )
    feedback = TaskEvent.objects.create(
        task=task,
        action=TaskAction.SUBMIT_FEEDBACK,
        actor=street["chen"],
        at=MONDAY + dt.timedelta(hours=1),
        from_state="accepted",
        to_state="handled",
        note="已处理",
        lon=120.002,
        lat=30.002,
        data={"answers": {"health": "good"}},
    )
    photo = TaskAttachment(
        task=task, event=feedback, content_type="image/png", size=4, sha256="0" * 64
    )
    photo.file.save("p.png", ContentFile(b"\x89PNG"), save=True)
    client = bearer_client(street["chen"])
    detail = ok(client.get(f"/api/v1/tasks/{task.number}"))
    assert [e["id"] for e in detail["events"]] == [created.pk, feedback.pk]
    assert detail["events"][1]["actor"]["username"] == "chen"
    assert detail["events"][1]["attachment_ids"] == [photo.pk]
    assert detail["events"][1]["data"] == {"answers": {"health": "good"}}
    [attachment] = detail["attachments"]
    assert attachment["url"] == f"/api/v1/tasks/{task.number}/attachments/{photo.pk}"
    download = client.get(attachment["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == b"\x89PNG"
    # Another grid's worker can neither read the task nor fetch its file.
    other = bearer_client(street["li"])
    assert other.get(attachment["url"]).status_code == 404
