"""Fixtures for the campaign tests: the task engine's test street, media in a temporary
folder, English messages, and small valid photos."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import factory.random
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from gridgov.tasks.tests.factories import TaskStreet, make_task_street

#: The smallest valid PNG: 1×1 pixel, grey (PNG signature, IHDR, IDAT, IEND).
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c63600000000200015e2a1cd20000000049454e44ae426082"
)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Assert on English messages (the zh-hans catalogue is checked project-wide)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _seeded_fakes() -> None:
    factory.random.reseed_random("gridgov-campaigns")


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Uploaded photos go to a fresh temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def street(db: Any) -> TaskStreet:
    """The task engine's test street (see ``gridgov.tasks.tests.factories``)."""
    return make_task_street()


@pytest.fixture
def photo() -> Callable[[str], SimpleUploadedFile]:
    """Make a fresh 1-pixel PNG upload named ``name``."""

    def make(name: str = "photo.png") -> SimpleUploadedFile:
        return SimpleUploadedFile(name, PNG_1PX, content_type="image/png")

    return make
