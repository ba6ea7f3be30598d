"""``import-areas``: checks, all-or-nothing, repair, sequence codes, reruns, round trip."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import shape

from gridgov.areas.models import Area, AreaLevel
from gridgov.areas.services import area_update
from gridgov.areas.tests.factories import (
    feature,
    make_street_tree,
    square,
    write_feature_collection,
)

pytestmark = pytest.mark.django_db

BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[120.0, 30.0], [120.01, 30.01], [120.01, 30.0], [120.0, 30.01], [120.0, 30.0]]
    ],
}


@pytest.fixture
def tree() -> dict[str, Area]:
    """The street tree with boundary-less communities, so that features may be drawn
    anywhere (children must otherwise lie inside their parent's boundary)."""
    tree = make_street_tree()
    for key in ("c1", "c2"):
        tree[key] = area_update(area=tree[key], boundary=None)
    return tree


def run_import(path: Path, **options: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_areas", str(path), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def import_error(path: Path, **options: Any) -> str:
    with pytest.raises(CommandError) as caught:
        run_import(path, **options)
    assert caught.value.returncode == 1
    return str(caught.value)


def good_features() -> list[dict[str, Any]]:
    return [
        feature(square(120.1 + 0.01 * i, 30.1, 0.01), name=f"新网格{i}", gid=f"G{i}")
        for i in range(3)
    ]


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (
            {
                "type": "Polygon",
                "coordinates": [[[120.1, 30.1], [120.2, 30.1], [120.2, 30.2], [120.1, 30.2]]],
            },
            "ring 1 of polygon 1 is not closed",
        ),
        (BOW_TIE, "invalid polygon: Self-intersection"),
        (square(13_358_338.9, 3_503_549.8, 1000), "Web Mercator"),
        ({"type": "Point", "coordinates": [120.1, 30.1]}, "Point is not a Polygon"),
        ({"type": "LineString", "coordinates": [[120.1, 30.1], [120.2, 30.2]]}, "LineString"),
        (None, "has no geometry"),
        (
            {"type": "Polygon", "coordinates": [[[120.1, 30.1], [120.2, 30.1], [120.1, 30.1]]]},
            "needs at least 4",
        ),
        ({"type": "Polygon", "coordinates": [[["a", 30.1]]]}, "not a pair of numbers"),
    ],
)
def test_a_bad_geometry_names_the_feature_and_imports_nothing(
    tree: dict[str, Area], tmp_path: Path, geometry: dict[str, Any] | None, message: str
) -> None:
    features = [*good_features(), feature(geometry, name="坏网格", gid="G9")]
    path = write_feature_collection(tmp_path / "grids.geojson", features)
    before = Area.objects.count()

    error = import_error(path, level="grid", parent=tree["c1"].code, ref_property="gid")

    assert 'feature #4 (name "坏网格", gid "G9")' in error
    assert message in error
    assert "nothing was imported" in error
    assert Area.objects.count() == before


def test_every_problem_is_listed_at_once(tree: dict[str, Area], tmp_path: Path) -> None:
    features = [
        feature(BOW_TIE, name="a"),
        *good_features(),
        feature({"type": "Point", "coordinates": [1, 2]}, name="b"),
    ]
    path = write_feature_collection(tmp_path / "grids.geojson", features)
    error = import_error(path, level="grid", parent=tree["c1"].code)
    assert "2 problem(s)" in error
    assert 'feature #1 (name "a")' in error
    assert 'feature #5 (name "b")' in error


def test_a_projected_crs_member_is_refused(tree: dict[str, Area], tmp_path: Path) -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    path = write_feature_collection(tmp_path / "g.geojson", good_features(), crs=crs)
    assert "EPSG::3857" in import_error(path, level="grid", parent=tree["c1"].code)
    assert not Area.objects.filter(name__startswith="新网格").exists()


def test_a_missing_parent_is_refused(tree: dict[str, Area], tmp_path: Path) -> None:
    path = write_feature_collection(tmp_path / "g.geojson", good_features())
    before = Area.objects.count()
    assert "no area has code 330106004099" in import_error(
        path, level="grid", parent="330106004099"
    )
    assert "needs a parent Community" in import_error(path, level="grid")
    assert "must be a Community" in import_error(path, level="grid", parent=tree["street"].code)
    assert Area.objects.count() == before


def test_a_code_used_twice_in_the_file_is_refused(tree: dict[str, Area], tmp_path: Path) -> None:
    features = good_features()
    codes = ["330106004001005", "330106004001006", "330106004001005"]
    for f, code in zip(features, codes, strict=True):
        f["properties"]["code"] = code
    path = write_feature_collection(tmp_path / "g.geojson", features)
    before = Area.objects.count()
    error = import_error(path, level="grid", parent=tree["c1"].code, code_property="code")
    assert 'feature #3 (name "新网格2", code "330106004001005")' in error
    assert "used twice in the file (also feature #1" in error
    assert Area.objects.count() == before


def test_a_code_already_in_the_database_for_another_area_is_refused(
    tree: dict[str, Area], tmp_path: Path
) -> None:
    features = good_features()
    for i, f in enumerate(features, start=5):
        f["properties"]["code"] = f"33010600400100{i}"
    features[1]["properties"]["code"] = tree["g11"].code  # exists, different name and shape
    path = write_feature_collection(tmp_path / "g.geojson", features)
    before = Area.objects.count()
    error = import_error(path, level="grid", parent=tree["c1"].code, code_property="code")
    assert f'feature #2 (name "新网格1", code "{tree["g11"].code}")' in error
    assert "already exists as 网格1-1" in error
    assert Area.objects.count() == before


def test_a_code_that_does_not_fit_the_parent_is_refused(
    tree: dict[str, Area], tmp_path: Path
) -> None:
    features = good_features()[:1]
    features[0]["properties"]["code"] = "330106004002007"
    path = write_feature_collection(tmp_path / "g.geojson", features)
    error = import_error(path, level="grid", parent=tree["c1"].code, code_property="code")
    assert "does not start with its parent's code 330106004001" in error


def test_repair_fixes_a_bow_tie_and_reports_it(tree: dict[str, Area], tmp_path: Path) -> None:
    features = [*good_features(), feature(BOW_TIE, name="蝴蝶结", gid="G9")]
    path = write_feature_collection(tmp_path / "g.geojson", features)

    out, err = run_import(
        path, level="grid", parent=tree["c1"].code, ref_property="gid", repair=True
    )

    assert "4 areas created" in out
    assert 'feature #4 (name "蝴蝶结", gid "G9")' in err
    assert "repaired invalid polygon (Self-intersection" in err
    assert len(err.splitlines()) == 1  # the valid features are not reported
    repaired = Area.objects.get(ref="G9")
    geometry = shape(repaired.boundary)
    assert geometry.is_valid
    assert geometry.geom_type == "MultiPolygon"
    assert geometry.area == pytest.approx(0.01 * 0.01 / 2)


def test_repair_closes_an_unclosed_ring(tree: dict[str, Area], tmp_path: Path) -> None:
    ring = [[120.1, 30.1], [120.2, 30.1], [120.2, 30.2], [120.1, 30.2]]
    path = write_feature_collection(
        tmp_path / "g.geojson", [feature({"type": "Polygon", "coordinates": [ring]}, name="x")]
    )
    _, err = run_import(path, level="grid", parent=tree["c1"].code, repair=True)
    assert "closed ring 1 of polygon 1" in err
    stored = Area.objects.get(name="x").boundary["coordinates"][0]
    assert stored[0] == stored[-1]


def test_sequence_codes_run_north_to_south_then_west_to_east(
    tree: dict[str, Area], tmp_path: Path
) -> None:
    # A 3 × 2 block of 0.01° cells (3 columns, 2 rows), listed in a shuffled order.
    cells = [(col, row) for row in range(2) for col in range(3)]
    shuffled = cells[:]
    random.Random(7).shuffle(shuffled)
    features = [
        feature(square(121.0 + 0.01 * col, 31.0 - 0.01 * row, 0.01), name=f"r{row}c{col}")
        for col, row in shuffled
    ]
    community = tree["c2"]  # already has grids 001 and 002: new ones follow them
    path = write_feature_collection(tmp_path / "g.geojson", features)

    run_import(path, level="grid", parent=community.code)

    codes = dict(
        Area.objects.filter(name__startswith="r").values_list("name", "code").order_by("code")
    )
    expected = [f"r{row}c{col}" for row in range(2) for col in range(3)]  # reading order
    assert list(codes) == expected
    assert list(codes.values()) == [f"{community.code}{n:03d}" for n in range(3, 9)]


def test_sequence_rows_tolerate_ragged_shapes(tree: dict[str, Area], tmp_path: Path) -> None:
    # Northern row: a tall cell west, a short one east whose centroid is a little lower.
    west = square(121.0, 31.0, 0.01)
    east = square(121.01, 31.003, 0.006)
    south = square(121.0, 30.99, 0.01)
    features = [feature(g, name=n) for g, n in [(south, "S"), (east, "NE"), (west, "NW")]]
    path = write_feature_collection(tmp_path / "g.geojson", features)
    run_import(path, level="grid", parent=tree["c2"].code)
    names = list(
        Area.objects.filter(name__in=["S", "NE", "NW"]).order_by("code").values_list("name")
    )
    assert [n for (n,) in names] == ["NW", "NE", "S"]


def test_a_rerun_reports_unchanged_and_creates_no_duplicates(
    tree: dict[str, Area], tmp_path: Path
) -> None:
    path = write_feature_collection(tmp_path / "g.geojson", good_features())
    for options in ({"ref_property": "gid"}, {}):  # matched by ref, then by name and shape
        Area.objects.filter(name__startswith="新网格").delete()
        out, _ = run_import(path, level="grid", parent=tree["c1"].code, **options)
        assert "3 areas created, 0 already present" in out
        codes = set(Area.objects.filter(name__startswith="新网格").values_list("code", flat=True))
        out, _ = run_import(path, level="grid", parent=tree["c1"].code, **options)
        assert "0 areas created, 3 already present and unchanged" in out
        again = set(Area.objects.filter(name__startswith="新网格").values_list("code", flat=True))
        assert again == codes


def test_a_rerun_with_a_changed_boundary_is_refused(tree: dict[str, Area], tmp_path: Path) -> None:
    features = good_features()
    path = write_feature_collection(tmp_path / "g.geojson", features)
    run_import(path, level="grid", parent=tree["c1"].code, ref_property="gid")
    features[0]["geometry"] = square(120.1, 30.1, 0.02)
    write_feature_collection(path, features)
    before = Area.objects.count()
    error = import_error(path, level="grid", parent=tree["c1"].code, ref_property="gid")
    assert 'feature #1 (name "新网格0", gid "G0")' in error
    assert "different name, reference or boundary" in error
    assert Area.objects.count() == before


def test_valid_from_applies_to_the_imported_areas(tree: dict[str, Area], tmp_path: Path) -> None:
    path = write_feature_collection(tmp_path / "g.geojson", good_features())
    run_import(path, level="grid", parent=tree["c1"].code, valid_from=dt.date(2025, 3, 1))
    dates = set(Area.objects.filter(name__startswith="新网格").values_list("valid_from", flat=True))
    assert dates == {dt.date(2025, 3, 1)}


def test_a_file_that_is_not_json_is_refused(tree: dict[str, Area], tmp_path: Path) -> None:
    path = tmp_path / "g.geojson"
    path.write_text("{not json", encoding="utf-8")
    assert "is not valid JSON" in import_error(path, level="grid", parent=tree["c1"].code)


def test_export_then_import_round_trips(tree: dict[str, Area], tmp_path: Path) -> None:
    tree["g12"].valid_to = dt.date(2025, 1, 1)
    tree["g12"].save()
    tree["g11"].ref = "legacy-11"
    tree["g11"].save()
    out = tmp_path / "grids.geojson"
    call_command(
        "export_areas", level="grid", parent=tree["c1"].code, out=str(out), stderr=io.StringIO()
    )
    exported = json.loads(out.read_text(encoding="utf-8"))
    fields = ["code", "name", "level", "parent_id", "ref", "boundary", "valid_from", "valid_to"]
    before = list(Area.objects.filter(level="grid", parent=tree["c1"]).values(*fields))
    assert [f["properties"]["code"] for f in exported["features"]] == [
        tree["g11"].code,
        tree["g12"].code,
    ]
    assert exported["features"][0]["properties"] == {
        "code": tree["g11"].code,
        "name": "网格1-1",
        "level": "grid",
        "parent_code": tree["c1"].code,
        "ref": "legacy-11",
        "valid_from": None,
        "valid_to": None,
    }

    Area.objects.filter(level=AreaLevel.MICRO_GRID, parent__parent=tree["c1"]).delete()
    Area.objects.filter(level=AreaLevel.GRID, parent=tree["c1"]).delete()
    run_import(
        out,
        level="grid",
        parent=tree["c1"].code,
        code_property="code",
        name_property="name",
        ref_property="ref",
    )

    after = list(Area.objects.filter(level="grid", parent=tree["c1"]).values(*fields))
    assert after == before
    assert after[1]["valid_to"] == dt.date(2025, 1, 1)


def test_export_writes_stdout_and_filters_by_level(tree: dict[str, Area]) -> None:
    out = io.StringIO()
    call_command("export_areas", level="micro_grid", stdout=out)
    collection = json.loads(out.getvalue())
    assert collection["type"] == "FeatureCollection"
    assert {f["properties"]["level"] for f in collection["features"]} == {"micro_grid"}
    assert len(collection["features"]) == 4


def test_top_level_districts_import_without_a_parent(tmp_path: Path) -> None:
    features = [
        feature(square(120.0, 30.0, 0.1), name="西湖区", adcode=330106),
        feature(square(120.1, 30.0, 0.1), name="上城区", adcode=330102),
    ]
    path = write_feature_collection(tmp_path / "districts.geojson", features)
    assert "cannot be numbered automatically" in import_error(path, level="district")
    run_import(path, level="district", code_property="adcode")
    assert list(Area.objects.values_list("code", "name", "parent")) == [
        ("330102", "上城区", None),
        ("330106", "西湖区", None),
    ]


def test_micro_grids_get_sequence_codes_under_their_grid(
    tree: dict[str, Area], tmp_path: Path
) -> None:
    grid = tree["g21"]  # lon 120.02–120.03, already has micro-grid 001
    features = [feature(square(120.02 + 0.005 * i, 30.005, 0.005), name=f"楼{i}") for i in (1, 0)]
    path = write_feature_collection(tmp_path / "micro.geojson", features)
    run_import(path, level="micro_grid", parent=grid.code)
    created = Area.objects.filter(parent=grid, name__startswith="楼").order_by("code")
    assert [(a.code, a.name) for a in created] == [
        (f"{grid.code}002", "楼0"),
        (f"{grid.code}003", "楼1"),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name_property": "Name"}, "no feature has the property Name (--name-property)"),
        ({"ref_property": "gidd"}, "no feature has the property gidd (--ref-property)"),
    ],
)
def test_a_misspelt_property_is_refused(
    tree: dict[str, Area], tmp_path: Path, options: dict[str, str], message: str
) -> None:
    path = write_feature_collection(tmp_path / "grids.geojson", good_features())
    before = Area.objects.count()
    error = import_error(path, level="grid", parent=tree["c1"].code, **options)
    assert message in error
    assert "gid, name" in error  # the properties the file has
    assert Area.objects.count() == before
