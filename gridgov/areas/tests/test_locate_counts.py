"""``gridgov locate --csv`` counts rows with invalid coordinates (text, nan, inf, 1e308,
out of range, one cell blank) apart from rows without any (blank, or (0, 0))."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import translation

from gridgov.areas.management.commands.locate import coordinates_missing
from gridgov.areas.models import Area
from gridgov.areas.tests.test_cli import locate, tree, write_csv

__all__ = ["tree"]  # the fixture, imported for these tests

pytestmark = pytest.mark.django_db


def test_invalid_coordinates_are_counted_apart(tree: dict[str, Area], tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "points.csv",
        "name,lon,lat\n"
        "ok,120.025,30.008\n"
        "huge,1e308,30\n"
        "nan,nan,nan\n"
        "inf,120,inf\n"
        "negative infinity,-inf,30\n"
        "half,120.025,\n"
        "blank,,\n"
        "spaces,  ,  \n"
        "zero,0,0.0\n",
        bom=False,
    )
    out = tmp_path / "o.csv"
    counts = json.loads(
        locate(csv=str(source), lon_column="lon", lat_column="lat", out=str(out), json=True)
    )
    assert counts == {
        "rows": 9,
        "located": 1,
        "outside": 0,
        "without_coordinates": 3,
        "invalid_coordinates": 5,
        "out": str(out),
    }
    with translation.override("en"):
        text = locate(csv=str(source), lon_column="lon", lat_column="lat", out=str(out))
    assert "3 without coordinates, 5 with invalid coordinates" in text


@pytest.mark.parametrize(
    ("lon", "lat", "missing"),
    [("", "", True), (" ", "", True), ("0", "0", True), ("0.0", "-0", True),
     ("1e308", "30", False), ("nan", "nan", False), ("abc", "", False), ("120", "", False)],
)  # fmt: skip
def test_coordinates_missing(lon: str, lat: str, missing: bool) -> None:
    assert coordinates_missing(lon, lat) is missing
