"""Fixtures of the web pages' tests: the task street, a fixed clock, signed-in clients."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import factory.random
import pytest
import time_machine
from django.test import Client

from gridgov.tasks.tests.factories import TaskStreet, make_task_street

#: The pages' clock: Tuesday 2025-06-03 10:00 Asia/Shanghai.
NOW = dt.datetime(2025, 6, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def png_bytes() -> bytes:
    """A real 1×1 white PNG (RFC 2083): signature, IHDR, IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def _seeded_fakes() -> None:
    factory.random.reseed_random("gridgov-web")


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def street(db: Any, clock: Any) -> TaskStreet:
    return make_task_street()


@pytest.fixture
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def login(street: TaskStreet) -> Callable[[str], Client]:
    """``login("chen")`` → a client signed in as that user of the street."""

    def make(username: str) -> Client:
        client = Client()
        client.force_login(street.users[username], backend=MODEL_BACKEND)
        return client

    return make
