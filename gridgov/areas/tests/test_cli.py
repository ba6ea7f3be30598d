"""``gridgov locate``: one point (JSON and human output, exit 1 outside) and ``--csv``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gridgov.areas.models import Area
from gridgov.areas.services import area_retire
from gridgov.areas.tests.factories import make_street_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree() -> dict[str, Area]:
    make_street_tree()
    grid = Area.objects.get(code="330106004002001")
    grid.ref = "WG-21"
    grid.save()
    return {a.code: a for a in Area.objects.all()}


def locate(*args: str, **options: object) -> str:
    out = io.StringIO()
    call_command("locate", *args, stdout=out, **options)
    return out.getvalue()


def test_locate_json_gives_the_area_and_its_path(tree: dict[str, Area]) -> None:
    payload = json.loads(locate("120.025", "30.008", "--json"))
    assert payload == {
        "code": "330106004002001",
        "name": "网格2-1",
        "level": "grid",
        "ref": "WG-21",
        "path": [
            {"code": "330106", "name": "西湖区", "level": "district"},
            {"code": "330106004", "name": "古荡街道", "level": "street"},
            {"code": "330106004002", "name": "社区2", "level": "community"},
            {"code": "330106004002001", "name": "网格2-1", "level": "grid"},
        ],
    }


def test_locate_prints_a_human_line(tree: dict[str, Area]) -> None:
    line = locate("120.002", "30.002").strip()
    assert line.startswith("330106004001001001 微网格1-1 (Micro-grid)")
    assert line.endswith("西湖区 › 古荡街道 › 社区1 › 网格1-1 › 微网格1-1")


def test_locate_takes_negative_coordinates_and_exits_1_outside(tree: dict[str, Area]) -> None:
    with pytest.raises(CommandError) as caught:
        locate("-118.2437", "34.0522", "--json")
    assert caught.value.returncode == 1
    assert str(caught.value) == "no area contains the point lon -118.2437, lat 34.0522"


def test_locate_on_a_date(tree: dict[str, Area]) -> None:
    area_retire(area=tree["330106004002001"], on=dt.date(2024, 1, 1))
    assert json.loads(locate("120.025", "30.008", "--json"))["level"] == "community"
    earlier = locate("120.025", "30.008", "--json", "--on", "2023-12-31")
    assert json.loads(earlier)["code"] == "330106004002001"


def test_locate_needs_a_point_or_a_csv(tree: dict[str, Area]) -> None:
    with pytest.raises(CommandError, match="give LON LAT"):
        locate()
    with pytest.raises(CommandError, match="needs --lon-column"):
        locate(csv="x.csv")


def write_csv(path: Path, text: str, *, bom: bool) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


@pytest.mark.parametrize("bom", [True, False])
def test_locate_csv_appends_columns_and_counts(
    tree: dict[str, Area], tmp_path: Path, bom: bool
) -> None:
    source = write_csv(
        tmp_path / "addresses.csv",
        "地址,经度,纬度\n"
        "文三路1号,120.025,30.008\n"  # grid 2-1
        '"西溪路2号, 北门",120.002,30.002\n'  # micro-grid 1-1 (quoted comma kept)
        "杭州东站,120.2,30.3\n"  # outside every area
        "无坐标,,\n"  # no coordinates
        "乱码,abc,30\n"  # unusable
        "零点,0,0\n"  # (0, 0) means unknown
        "墨卡托,13358338,3503549\n",  # out of range
        bom=bom,
    )
    out = tmp_path / "located.csv"
    stdout = locate(csv=str(source), lon_column="经度", lat_column="纬度", out=str(out), json=True)
    assert json.loads(stdout) == {
        "rows": 7,
        "located": 2,
        "outside": 1,
        "without_coordinates": 2,  # blank, (0, 0)
        "invalid_coordinates": 2,  # abc, Web Mercator metres
        "out": str(out),
    }
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["地址", "经度", "纬度", "area_code", "area_name", "area_ref"]
    assert rows[1] == ["文三路1号", "120.025", "30.008", "330106004002001", "网格2-1", "WG-21"]
    assert rows[2][0] == "西溪路2号, 北门"
    assert rows[2][3:] == ["330106004001001001", "微网格1-1", ""]
    assert all(row[3:] == ["", "", ""] for row in rows[3:])


def test_locate_csv_prints_a_summary_without_json(tree: dict[str, Area], tmp_path: Path) -> None:
    source = write_csv(tmp_path / "a.csv", "x,y\n120.025,30.008\n", bom=False)
    text = locate(csv=str(source), lon_column="x", lat_column="y", out=str(tmp_path / "o.csv"))
    assert (
        "1 rows: 1 located, 0 outside every area, 0 without coordinates, 0 with invalid "
        "coordinates" in text
    )


def test_locate_csv_names_a_missing_column(tree: dict[str, Area], tmp_path: Path) -> None:
    source = write_csv(tmp_path / "a.csv", "lng,lat\n120.025,30.008\n", bom=False)
    with pytest.raises(CommandError, match=r"column\(s\) lon not in .* its columns are: lng, lat"):
        locate(csv=str(source), lon_column="lon", lat_column="lat", out=str(tmp_path / "o.csv"))


@pytest.mark.django_db
def test_locate_csv_never_overwrites_its_input(tmp_path: Path) -> None:
    source = tmp_path / "same.csv"
    source.write_text("lon,lat\n120.005,30.005\n", encoding="utf-8")
    with pytest.raises(CommandError, match="--out"):
        call_command(
            "locate", "--csv", str(source), "--lon-column", "lon", "--lat-column", "lat",
            "--out", str(source),
        )  # fmt: skip
    assert source.read_text(encoding="utf-8") == "lon,lat\n120.005,30.005\n"


@pytest.mark.django_db
def test_a_failed_locate_csv_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("lon,lat\n120.005,30.005\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("precious\n", encoding="utf-8")
    with pytest.raises(CommandError, match="X"):
        call_command(
            "locate", "--csv", str(source), "--lon-column", "X", "--lat-column", "lat",
            "--out", str(out),
        )  # fmt: skip
    assert out.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


@pytest.mark.django_db
@pytest.mark.parametrize(("lon", "lat"), [("200", "30"), ("nan", "nan"), ("120", "-91")])
def test_locate_refuses_coordinates_that_are_not_wgs84(lon: str, lat: str) -> None:
    with pytest.raises(CommandError, match="not a WGS84"):
        call_command("locate", lon, lat)


def test_create_area_makes_one_area_under_its_parent(tree: dict[str, Area]) -> None:
    out = io.StringIO()
    call_command("create_area", "330106004003", "新社区", level="community",
                 parent="330106004", json=True, stdout=out)  # fmt: skip
    assert json.loads(out.getvalue()) == {
        "code": "330106004003", "name": "新社区", "level": "community", "parent": "330106004",
    }  # fmt: skip
    area = Area.objects.get(code="330106004003")
    assert (area.parent.code, area.boundary) == ("330106004", None)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (["33010600400", "x"], {"level": "community", "parent": "330106004"}, "digits"),
        (["330106004003", "x"], {"level": "community", "parent": "999999999"}, "999999999"),
        (["330106004001", "x"], {"level": "community", "parent": "330106004"}, "exists"),
    ],
)
def test_create_area_refuses_bad_input_and_creates_nothing(
    tree: dict[str, Area], args: list[str], options: dict[str, str], message: str
) -> None:
    before = Area.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("create_area", *args, **options, stdout=io.StringIO())
    assert Area.objects.count() == before
