"""The resident page: report with an SMS code, receipt, follow by number and phone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gridgov.open311.models import Channel, ServiceRequest, SmsCode
from gridgov.open311.sms import MemorySmsBackend
from gridgov.open311.tests.conftest import IN_G11, Open311World
from gridgov.tasks.models import Task
from gridgov.tasks.services import task_dispatch, task_register

PHONE = "13912345678"
# The smallest PNG: an 8-byte signature is what photos_check sniffs.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def en() -> Client:
    return Client()


def send_code(client: Client, phone: str = PHONE) -> str:
    MemorySmsBackend.outbox.clear()
    answer = client.post("/en/resident/code/", {"phone": phone}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert "A code was sent" in answer.content.decode()
    sent_to, text = MemorySmsBackend.outbox[-1]
    assert sent_to == phone
    match = re.search(r"\b(\d{6})\b", text)
    assert match
    return match.group(1)


def form(world: Open311World, **extra: Any) -> dict[str, Any]:
    lon, lat = IN_G11
    code = world.service.code
    data = {
        "task_type": str(world.service.pk),
        "description": "Rubbish piled at the corner",
        "lon": str(lon),
        "lat": str(lat),
        "phone": PHONE,
        f"attr-{code}-where_exactly": "Corner of the market",
        f"attr-{code}-danger": "no",
        f"attr-{code}-kinds": ["light", "bench"],
        f"attr-{code}-seen_at": "2026-11-29T20:00",
    }
    data.update(extra)
    return data


def test_home_in_chinese_by_default_and_english(world: Open311World) -> None:
    assert "上报问题" in Client().get("/resident/").content.decode()
    page = Client().get("/en/resident/").content.decode()
    assert "Report a problem" in page
    assert "Follow my report" in page


def test_the_report_page_offers_public_categories_and_their_questions(
    en: Client, world: Open311World
) -> None:
    page = en.get("/en/resident/report/").content.decode()
    assert world.service.name in page
    assert world.street.types["enforcement"].name not in page  # not public
    for label in ("Where exactly", "How many", "Seen at", "More details", "Is it dangerous"):
        assert label in page
    assert 'name="attr-8801-kinds"' in page
    assert "resident-map" in page


def test_report_with_a_code_then_receipt(en: Client, world: Open311World) -> None:
    code = send_code(en)
    photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    answer = en.post("/en/resident/report/", {**form(world, code=code), "photo": photo})
    assert answer.status_code == 302, answer.content.decode()[:3000]
    request = ServiceRequest.objects.get()
    assert request.channel == Channel.RESIDENT_PAGE
    assert request.phone == PHONE
    assert request.attributes["kinds"] == ["light", "bench"]
    assert request.attributes["seen_at"] == "2026-11-29T20:00:00+08:00"
    assert request.task.attachments.count() == 1
    assert answer["Location"] == f"/en/resident/receipt/{request.task.number}/"
    receipt = en.get(answer["Location"]).content.decode()
    assert request.task.number in receipt
    assert "Handled within 4 working hours" in receipt
    # The phone is verified for the session: a second report needs no code.
    again = en.post(
        "/en/resident/report/", form(world, lon="120.0085", lat="30.0015", description="Other")
    )
    assert again.status_code == 302
    assert ServiceRequest.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code": "000000"}, "The code is not right"),
        ({"code": ""}, "Enter the verification code"),
        ({"lon": "", "lat": ""}, "Give the location"),
        ({"lon": "10", "lat": "10"}, "lies in no area"),
        ({"attr-8801-danger": ""}, "danger is required"),
        ({"phone": "12"}, "valid phone number"),
        ({"lat": "abc"}, "Latitude: Enter a number."),  # a hidden field: said in the banner
    ],
)
def test_a_bad_report_creates_nothing(
    en: Client, world: Open311World, change: dict[str, Any], message: str
) -> None:
    code = send_code(en)
    data = form(world, code=code)
    if change.get("code") == "000000" and code == "000000":
        change = {"code": "111111"}
    data.update(change)
    answer = en.post("/en/resident/report/", data)
    assert answer.status_code == 200
    assert message in answer.content.decode()
    assert Task.objects.count() == 0
    assert ServiceRequest.objects.count() == 0


def test_codes_are_single_use_limited_and_not_resent_at_once(
    en: Client, world: Open311World
) -> None:
    send_code(en)
    answer = en.post("/en/resident/code/", {"phone": PHONE}, HTTP_HX_REQUEST="true")
    assert "wait a minute" in answer.content.decode()
    assert SmsCode.objects.count() == 1
    assert SmsCode.objects.get().code_hash not in str(MemorySmsBackend.outbox)
    # Without JavaScript: back to the form with a message.
    plain = en.post("/en/resident/code/", {"phone": "13900000000"})
    assert plain.status_code == 302


def test_follow_shows_status_and_public_timeline_only(en: Client, world: Open311World) -> None:
    code = send_code(en)
    en.post("/en/resident/report/", form(world, code=code))
    task = Task.objects.get()
    zhou = world.street["zhou"]
    zhou.first_name, zhou.last_name = "Wei", "Zhouzhou"
    zhou.save()
    task_register(actor=zhou, task=task)
    task_dispatch(actor=zhou, task=task)
    other = Client()
    page = other.post("/en/resident/follow/", {"number": task.number, "phone": PHONE})
    text = page.content.decode()
    assert "Sent to the people who handle it" in text
    assert "Registered" in text
    assert "Dispatched" in text
    assert zhou.username not in text
    assert "Zhouzhou" not in text
    task.refresh_from_db()
    assert task.assignee is not None
    assert task.assignee.username not in text
    spaced = other.post("/en/resident/follow/", {"number": task.number, "phone": "139 1234 5678"})
    assert "Sent to the people who handle it" in spaced.content.decode()
    wrong = other.post("/en/resident/follow/", {"number": task.number, "phone": "13900000000"})
    assert "No report with this number" in wrong.content.decode()
    # Someone else's receipt page is not shown: it sends them to "follow".
    assert other.get(f"/en/resident/receipt/{task.number}/").status_code == 302


def test_a_duplicate_follows_the_first_task(en: Client, world: Open311World) -> None:
    code = send_code(en)
    en.post("/en/resident/report/", form(world, code=code))
    first = Task.objects.get()
    zhou = world.street["zhou"]
    task_register(actor=zhou, task=first)
    en.post("/en/resident/report/", form(world, description="same again"))
    second = Task.objects.exclude(pk=first.pk).get()
    assert second.duplicate_of == first
    text = en.post("/en/resident/follow/", {"number": second.number, "phone": PHONE})
    body = text.content.decode()
    assert "Already reported" in body
    assert first.number in body
    assert "Registered" in body  # the first task's progress


def test_follow_is_throttled_per_ip(en: Client, world: Open311World) -> None:
    for _ in range(10):
        en.post("/en/resident/follow/", {"number": "20990101-000001", "phone": PHONE})
    answer = en.post("/en/resident/follow/", {"number": "20990101-000001", "phone": PHONE})
    assert "Too many tries" in answer.content.decode()
