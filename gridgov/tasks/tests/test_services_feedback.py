"""Feedback evidence: photos (type by magic number, size), check-in radius, form answers."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gridgov.core.errors import ValidationFailed
from gridgov.tasks import evidence, services
from gridgov.tasks.choices import TaskAction, TaskState
from gridgov.tasks.models import Task, TaskAttachment, TaskEvent
from gridgov.tasks.tests.factories import HOME_LONLAT, TaskStreet, make_task

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2025, 6, 9, 10, 0, tzinfo=SH)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
WEBP = b"RIFF\x64\x00\x00\x00WEBPVP8 " + b"\x00" * 100
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00" + b"\x00" * 100
PDF = b"%PDF-1.4\n" + b"\x00" * 100
#: About 100 m north of the household ``home`` (1° of latitude ≈ 111.2 km).
NEAR = (HOME_LONLAT[0], HOME_LONLAT[1] + 0.0009)
#: About 334 m north of it.
FAR = (HOME_LONLAT[0], HOME_LONLAT[1] + 0.003)
GOOD_ANSWERS = {"health": "good", "people_met": 2}


def photo(content: bytes = JPEG, name: str = "p.jpg", content_type: str = "image/jpeg") -> Any:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def visit(street: TaskStreet) -> Task:
    """An accepted home visit of the household ``home``: 1 photo, 200 m, a form."""
    return make_task(
        area=street["m11"],
        task_type=street.types["patrol"],
        rule=street.rules["visit"],
        target_household=street.households["home"],
        state=TaskState.ACCEPTED,
        assignee=street["chen"],
    )


def submit(street: TaskStreet, task: Task, **overrides: Any) -> Task:
    args: dict[str, Any] = {
        "actor": street["chen"],
        "task": task,
        "note": "老人身体良好",
        "lon": NEAR[0],
        "lat": NEAR[1],
        "answers": GOOD_ANSWERS,
        "photos": [photo()],
        "now": NOW,
    }
    args.update(overrides)
    return services.task_submit_feedback(**args)


def problems_of(caught: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {p["field"]: p["message"] for p in caught.value.details["problems"]}


def test_good_feedback_is_stored_with_its_evidence(street: TaskStreet, visit: Task) -> None:
    task = submit(
        street,
        visit,
        photos=[photo(), photo(PNG, "b.png", "image/png")],
        answers={"health": "poor", "people_met": "3", "alone": "是", "visited_on": "2025-06-09"},
    )
    assert (task.state, task.handled_at) == (TaskState.HANDLED, NOW)
    event = TaskEvent.objects.get(task=task, action=TaskAction.SUBMIT_FEEDBACK)
    assert event.data["answers"] == {
        "health": "poor",
        "people_met": 3,
        "alone": True,
        "visited_on": "2025-06-09",
    }
    assert 95 < event.data["distance_m"] < 105
    assert (event.lon, event.lat, event.note) == (NEAR[0], NEAR[1], "老人身体良好")
    attachments = list(TaskAttachment.objects.filter(event=event).order_by("id"))
    assert [(a.content_type, a.size) for a in attachments] == [
        ("image/jpeg", len(JPEG)),
        ("image/png", len(PNG)),
    ]
    assert attachments[0].sha256 == hashlib.sha256(JPEG).hexdigest()
    # Stored under the task, named by event and index — never by the uploaded name.
    assert attachments[1].file.name == f"tasks/{task.pk}/{event.pk}-2.png"
    assert attachments[0].file.read() == JPEG


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp"), (HEIC, "image/heic")],
)
def test_each_photo_type_is_recognised_by_its_bytes(content: bytes, content_type: str) -> None:
    assert evidence.photo_sniff(content[:16]) == content_type
    checked, problems = evidence.photos_check(
        [photo(content, "x", "application/octet-stream")], min_photos=1
    )
    assert problems == []
    assert checked[0].content_type == content_type


def test_photo_problems_are_all_listed(street: TaskStreet, visit: Task) -> None:
    too_big = photo(b"\xff\xd8\xff" + b"\x00" * evidence.PHOTO_MAX_BYTES, "big.jpg")
    with pytest.raises(ValidationFailed) as caught:
        submit(
            street,
            visit,
            photos=[
                photo(PDF, "scan.jpg", "image/jpeg"),  # a PDF named and declared as a JPEG
                photo(PNG, "fake.jpg", "image/jpeg"),  # a PNG declared as a JPEG
                too_big,
                photo(b"", "empty.jpg"),
            ],
        )
    found = problems_of(caught)
    assert "not a JPEG, PNG, WebP or HEIC" in found["photos[0]"]
    assert "declared as image/jpeg but its content is PNG" in found["photos[1]"]
    assert "the limit is 10 MB" in found["photos[2]"]
    assert "empty" in found["photos[3]"]
    assert Task.objects.get(pk=visit.pk).state == TaskState.ACCEPTED
    assert not TaskAttachment.objects.exists()


def test_the_rules_minimum_of_photos_is_enforced(street: TaskStreet, visit: Task) -> None:
    with pytest.raises(ValidationFailed) as caught:
        submit(street, visit, photos=[])
    assert "At least 1 photo" in problems_of(caught)["photos"]


def test_the_check_in_must_be_within_the_radius(street: TaskStreet, visit: Task) -> None:
    with pytest.raises(ValidationFailed) as caught:
        submit(street, visit, lon=FAR[0], lat=FAR[1])
    assert "334 m from the target; the check-in radius is 200 m" in problems_of(caught)["location"]
    with pytest.raises(ValidationFailed, match="needs a check-in"):
        submit(street, visit, lon=None, lat=None)


def test_form_answers_are_checked_against_the_rule(street: TaskStreet, visit: Task) -> None:
    with pytest.raises(ValidationFailed) as caught:
        submit(
            street,
            visit,
            answers={
                "health": "excellent",
                "visited_on": "9 June",
                "alone": "maybe",
                "mood": "happy",
                "note": 5,
            },
        )
    found = problems_of(caught)
    assert "'excellent' is not one of good, poor" in found["answers.health"]
    assert "people_met is required" in found["answers.people_met"]
    assert "must be a date" in found["answers.visited_on"]
    assert "must be yes or no" in found["answers.alone"]
    assert "not a field of this task" in found["answers.mood"]
    assert "must be text" in found["answers.note"]
    with pytest.raises(ValidationFailed) as caught:
        submit(street, visit, answers={"health": "good", "people_met": "three"})
    assert "must be a number" in problems_of(caught)["answers.people_met"]


def test_every_problem_comes_in_one_error(street: TaskStreet, visit: Task) -> None:
    with pytest.raises(ValidationFailed) as caught:
        submit(street, visit, photos=[], lon=FAR[0], lat=FAR[1], answers={})
    assert set(problems_of(caught)) == {
        "photos",
        "location",
        "answers.health",
        "answers.people_met",
    }


def test_a_double_submit_stores_one_set_of_photos(street: TaskStreet, visit: Task) -> None:
    submit(street, visit, idempotency_key="fb-1")
    again = submit(street, visit, idempotency_key="fb-1", photos=[photo(), photo()])
    assert again.state == TaskState.HANDLED
    assert TaskEvent.objects.filter(task=visit).count() == 1
    assert TaskAttachment.objects.count() == 1


def test_stored_photos_are_removed_when_the_transaction_fails(
    street: TaskStreet, visit: Task, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = TaskAttachment.save
    saves = {"n": 0}

    def fail_on_second(self: TaskAttachment, *args: Any, **kwargs: Any) -> None:
        saves["n"] += 1
        if saves["n"] == 2:
            raise RuntimeError("disk full")
        real_save(self, *args, **kwargs)

    monkeypatch.setattr(TaskAttachment, "save", fail_on_second)
    with pytest.raises(RuntimeError):
        submit(street, visit, photos=[photo(), photo()])
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert Task.objects.get(pk=visit.pk).state == TaskState.ACCEPTED


def test_feedback_without_a_rule_needs_no_evidence(street: TaskStreet) -> None:
    task = make_task(
        area=street["g11"],
        task_type=street.types["patrol"],
        state=TaskState.RETURNED,
        assignee=street["chen"],
    )
    task = submit(street, task, photos=[], lon=None, lat=None, answers={})
    assert task.state == TaskState.HANDLED


def test_the_haversine_distance_matches_known_values() -> None:
    # One degree of latitude on the IUGG mean sphere: R·π/180 ≈ 111,195 m.
    assert evidence.haversine_m(0, 0, 0, 1) == pytest.approx(111_195.08, abs=0.01)
    # Beijing (Tiananmen) → Shanghai (People's Square): about 1,067 km.
    assert evidence.haversine_m(116.3975, 39.9087, 121.4737, 31.2304) == pytest.approx(
        1_067_000, rel=0.005
    )
    assert evidence.haversine_m(120.0, 30.0, 120.0, 30.0) == 0
