"""The REST API and Open311 answer in the client's Accept-Language; pages keep the path's."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

ZH = "需要身份认证：请发送令牌（Bearer token）或先登录。"


def message(response: Any) -> str:
    return str(response.json()["error"]["message"])


@pytest.mark.parametrize(
    ("header", "chinese"),
    [
        ("en", False),
        ("en-US,en;q=0.9,zh;q=0.5", False),
        ("fr, en;q=0.5", False),  # the best supported one
        ("zh-CN,zh;q=0.9", True),
        ("fr", True),  # nothing supported: the default
        ("", True),
    ],
)
def test_the_api_speaks_the_clients_language(db: Any, header: str, chinese: bool) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE=header).get("/api/v1/areas")
    assert response.status_code == 401
    assert (message(response) == ZH) is chinese
    assert "Accept-Language" in response["Vary"]
    assert response["Content-Language"] == ("zh-hans" if chinese else "en")


def test_pages_keep_the_language_of_their_path(db: Any) -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/login/", follow=True)
    assert page.status_code == 200
    assert 'lang="zh-hans"' in page.content.decode()
