"""Fixtures for the API tests: the task engine's test street and authenticated clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import factory.random
import pytest
from django.test import Client
from django.utils import translation

from gridgov.api.tests.helpers import bearer_client
from gridgov.tasks.tests.factories import TaskStreet, make_task_street


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Assert on English messages (the zh-hans catalogue is checked project-wide)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _seeded_fakes() -> None:
    factory.random.reseed_random("gridgov-api")


@pytest.fixture
def street(db: Any) -> TaskStreet:
    """The task engine's test street (see ``gridgov.tasks.tests.factories``)."""
    return make_task_street()


@pytest.fixture
def token_client() -> Callable[[Any], Client]:
    """Return a function: user → a test client that sends a fresh bearer token of theirs."""
    return bearer_client
