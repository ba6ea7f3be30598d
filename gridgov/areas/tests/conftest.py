"""Fixtures for the areas tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from gridgov.areas.models import Area, AreaLevel


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Assert on the English messages (the UI default, zh-hans, is tested by the catalogue)."""
    with translation.override("en"):
        yield


@pytest.fixture
def la_community() -> Area:
    """A district → street → community chain to import the LA councils under, made with
    ``gridgov create-area`` as docs/imports.md does."""
    for code, name, level, parent in [
        ("990101", "Los Angeles", AreaLevel.DISTRICT, None),
        ("990101001", "LA", AreaLevel.STREET, "990101"),
        ("990101001001", "LA councils", AreaLevel.COMMUNITY, "990101001"),
    ]:
        extra = {"parent": parent} if parent else {}
        call_command("create_area", code, name, level=level, stdout=io.StringIO(), **extra)
    return Area.objects.get(code="990101001001")


@pytest.fixture
def la_councils_path(shared_data: Path) -> Path:
    return shared_data / "la311" / "neighborhood_councils.geojson"


@pytest.fixture
def la_requests_path(shared_data: Path) -> Path:
    return shared_data / "la311" / "service_requests_2017_subset.csv"


@pytest.fixture
def la_grids(la_community: Area, la_councils_path: Path) -> Area:
    """Import the 99 LA neighbourhood councils as grids through the real command."""
    call_command(
        "import_areas",
        str(la_councils_path),
        level="grid",
        parent=la_community.code,
        ref_property="nc_id",
        name_property="name",
        stdout=io.StringIO(),
    )
    return la_community
