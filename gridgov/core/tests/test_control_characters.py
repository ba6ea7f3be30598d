"""Characters no text may hold (``gridgov.core.validators.FORBIDDEN_CHARACTERS_RE``): the
one definition, and the middleware refusing them in URLs and forms with a 400 in each
interface's own format, on both databases, before anything is stored."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client

from gridgov.core.validators import (
    FORBIDDEN_CHARACTERS_RE,
    data_forbidden_character,
    text_without_forbidden,
    validate_text,
)
from gridgov.open311.models import ServiceRequest
from gridgov.tasks.models import Task

ALLOWED_CONTROLS = "\t\n\r"


def test_the_definition_is_the_c0_controls_but_tab_lf_cr_del_surrogates_and_ffff() -> None:
    forbidden = {i for i in range(0x110000) if FORBIDDEN_CHARACTERS_RE.match(chr(i))}
    expected = (
        (set(range(0x20)) - {ord(c) for c in ALLOWED_CONTROLS})
        | {0x7F, 0xFFFE, 0xFFFF}
        | set(range(0xD800, 0xE000))
    )
    assert forbidden == expected


def test_the_search_names_the_path_and_the_character() -> None:
    assert data_forbidden_character("a\tb\r\nc 中文 \u0085 \u2028") is None
    assert data_forbidden_character({"a": ["x", {"b": "y\x0bz"}]}) == ("a.1.b", "\x0b")
    assert data_forbidden_character({"k\x00": "v"}) == ("k\x00", "\x00")
    assert data_forbidden_character([1, None, True, 2.5]) is None
    assert data_forbidden_character("\x7f") == ("", "\x7f")


def test_writers_drop_them_and_the_validator_refuses_them() -> None:
    assert text_without_forbidden("x\x01\x0by\ty\n\ud800\uffff") == "xy\ty\n"
    with pytest.raises(ValidationError) as caught:
        validate_text("a\x1fb")
    assert caught.value.code == "control_character"
    assert "U+001F" in str(caught.value.messages[0])
    validate_text("line one\r\nline\ttwo")


@pytest.fixture
def client(db: None) -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.parametrize("char", ["%00", "%01", "%0B", "%1F", "%7F"])
@pytest.mark.parametrize(
    "url",
    [
        "/manage/tasks/{c}/",
        "/manage/tasks/?q=a{c}b",
        "/resident/follow/?number=1{c}",
        "/en/dashboard/?area={c}",
        "/en/dashboard/?a{c}=1",
    ],
)
def test_pages_answer_400(client: Client, url: str, char: str) -> None:
    assert client.get(url.format(c=char)).status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/tasks/%00", "/api/v1/areas?parent=%01"])
def test_the_api_answers_its_envelope(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("/open311/v2/requests.json?service_code=%00", "json"),
        ("/open311/v2/requests.json?service_code=%0B", "json"),
        ("/open311/v2/requests/%01.json", "json"),
        ("/open311/v2/services/%7F.xml", "xml"),
    ],
)
def test_open311_answers_its_error_list(client: Client, url: str, kind: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    if kind == "json":
        assert response.json()[0]["code"] == 400
    else:
        assert b"<errors>" in response.content


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x0b", "\x7f"])
def test_a_form_field_with_a_control_character_is_refused(client: Client, char: str) -> None:
    # The test client posts multipart (a report with photos) ...
    response = client.post("/resident/follow/", {"number": f"1{char}", "phone": "13800000000"})
    assert response.status_code == 400
    # ... and url-encoded, where a name is checked as well as a value.
    for body in ({"number": f"1{char}"}, {f"n{char}": "1"}):
        response = client.post(
            "/resident/follow/", urlencode(body), content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 400


def test_a_textarea_keeps_tab_and_line_breaks(client: Client) -> None:
    response = client.post("/resident/follow/", {"number": "1\t2\r\n3", "phone": "13800000000\n"})
    assert response.status_code != 400


def test_a_refused_form_stores_nothing(client: Client) -> None:
    before = (Task.objects.count(), ServiceRequest.objects.count())
    response = client.post("/open311/v2/requests.json", {"description": "x\x01\x0by"})
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400
    assert (Task.objects.count(), ServiceRequest.objects.count()) == before
