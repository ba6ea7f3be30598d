"""Fixtures for the task engine's tests (see ``factories.py`` for what the street holds)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import factory.random
import pytest
from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import translation

from gridgov.tasks.tests.factories import TaskStreet, make_task_street


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Assert on English messages (the zh-hans catalogue is checked project-wide)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _seeded_fakes() -> None:
    factory.random.reseed_random("gridgov-tasks")


@pytest.fixture
def street(db: Any) -> TaskStreet:
    """A street with staff of every role, task types for every handler and three rules."""
    return make_task_street()


@pytest.fixture
def concurrent_db(transactional_db: Any, tmp_path: Any) -> Iterator[Callable[[], None]]:
    """A database that several threads may write at once; yields ``enter()``, which each
    thread calls first (and ``connection.close()`` last).

    On PostgreSQL this is the test database itself (committed data, one connection per
    thread). SQLite's test database lives in shared-cache memory, whose table locks fail
    at once ("database table is locked") instead of waiting like a real SQLite file; so on
    SQLite the test switches — main thread and workers alike — to a fresh file database
    with every table created and the production options (WAL, ``BEGIN IMMEDIATE``, busy
    timeout). Migrations' data (the holiday calendar) is not loaded there.
    """
    if connection.vendor != "sqlite":
        yield lambda: None
        return
    original = connections[DEFAULT_DB_ALIAS]
    settings_dict = {**original.settings_dict, "NAME": str(tmp_path / "concurrent.sqlite3")}

    def enter() -> None:
        connections[DEFAULT_DB_ALIAS] = original.__class__(dict(settings_dict), DEFAULT_DB_ALIAS)

    enter()
    with connections[DEFAULT_DB_ALIAS].schema_editor() as editor:
        for model in apps.get_models():
            if model._meta.managed and not model._meta.proxy:
                editor.create_model(model)
    try:
        yield enter
    finally:
        connections[DEFAULT_DB_ALIAS].close()
        connections[DEFAULT_DB_ALIAS] = original
