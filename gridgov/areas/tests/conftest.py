"""Fixtures for the areas tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from gridgov.areas.models import Area, AreaLevel
from gridgov.areas.services import area_create


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Assert on the English messages (the UI default, zh-hans, is tested by the catalogue)."""
    with translation.override("en"):
        yield


@pytest.fixture
def la_community() -> Area:
    """A district → street → community chain to import the LA councils under."""
    district = area_create(code="990101", name="Los Angeles", level=AreaLevel.DISTRICT)
    street = area_create(code="990101001", name="LA", level=AreaLevel.STREET, parent=district)
    return area_create(
        code="990101001001", name="LA councils", level=AreaLevel.COMMUNITY, parent=street
    )


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
