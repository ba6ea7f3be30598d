"""Fixtures for the core tests: a clean calendar cache and warning memory per test.

Messages are asserted in English; ``test_messages_are_translated`` checks the Chinese.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from gridgov.core.calendar import calendar_cache_clear, calendar_warnings_reset


@pytest.fixture(autouse=True)
def _fresh_calendar_cache() -> Iterator[None]:
    calendar_cache_clear()
    calendar_warnings_reset()
    with translation.override("en"):
        yield
    calendar_cache_clear()
    calendar_warnings_reset()
