"""The map, the monthly ranking and the hot spots: selectors and pages, scoped."""

from __future__ import annotations

import csv
import io
import math
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from gridgov.analytics.selectors import (
    _competition_ranks,
    area_map,
    area_ranking,
    hotspot_repeats,
    hotspot_rising,
    task_figures,
)
from gridgov.analytics.tests.conftest import END, NOW, START, june, may, task
from gridgov.analytics.tests.test_stats_and_dashboard import login
from gridgov.areas.models import Area, AreaLevel
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.tests.factories import TaskStreet

JUNE_1 = START.replace(day=1)


# --- ranking -----------------------------------------------------------------------------


@pytest.fixture
def may_tasks(street: TaskStreet) -> None:
    """May: c1 closed one on time (score 100, A); c2 left one open (score 20, E)."""
    task(street, "g11", created=may(5), deadline=may(8), state=TaskState.CLOSED, closed_at=may(7))
    task(street, "g21", created=may(5), deadline=may(8))  # fmt: skip


@pytest.mark.django_db
def test_ranking_scores_ranks_and_compares_with_last_month(
    street: TaskStreet, week: Any, may_tasks: Any
) -> None:
    rows = area_ranking(area=street["street"], level=AreaLevel.COMMUNITY, month=JUNE_1)
    c1, c2 = street["c1"].code, street["c2"].code
    assert [(r["code"], r["rank"], r["previous_rank"], r["rank_change"]) for r in rows] == [
        (c2, 1, 2, 1), (c1, 2, 1, -1),
    ]  # fmt: skip
    # c1 in June: due 4 (a, b, c, f), closed 2, on time 1, reworked 1 → 47.50, D.
    assert (rows[1]["due"], rows[1]["closed"], rows[1]["score"], rows[1]["grade"]) == (
        4, 2, Decimal("47.50"), "D",
    )  # fmt: skip
    assert (rows[0]["score"], rows[0]["grade"], rows[0]["is_new"]) == (
        Decimal("100.00"),
        "A",
        False,
    )
    grids = area_ranking(area=street["street"], level=AreaLevel.GRID, month=JUNE_1)
    by_code = {r["code"]: r for r in grids}
    g12, g22 = by_code[street["g12"].code], by_code[street["g22"].code]
    assert (g12["rank"], g12["previous_rank"], g12["is_new"]) == (3, None, True)
    assert (g22["rank"], g22["score"], g22["is_new"]) == (None, None, False)
    assert grids[-1]["rank"] is None  # the unranked come last


def test_equal_scores_share_a_rank() -> None:
    rows = [
        {"code": c, "s": s} for c, s in (("a", 90), ("b", 95), ("c", 90), ("d", None), ("e", 80))
    ]
    assert _competition_ranks(rows, "s") == {"b": 1, "a": 2, "c": 2, "e": 4}


@pytest.mark.django_db
def test_ranking_refuses_other_levels_and_other_areas(street: TaskStreet) -> None:
    with pytest.raises(ValidationFailed, match="not street"):
        area_ranking(level=AreaLevel.STREET, month=JUNE_1)
    with pytest.raises(PermissionDenied):
        area_ranking(user=street["lin"], area=street["c2"], level="grid", month=JUNE_1)
    mine = area_ranking(user=street["lin"], level="grid", month=JUNE_1)
    assert [r["code"] for r in mine] == [street["g11"].code, street["g12"].code]


@pytest.mark.django_db
def test_the_ranking_page_links_and_exports(street: TaskStreet, week: Any, may_tasks: Any) -> None:
    client = login(street, "zhou")
    response = client.get("/en/dashboard/ranking/", {"month": "2025-06", "level": "community"})
    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index('id="ranking"') :]
    assert table.index("社区2") < table.index("社区1")
    assert "↑1" in html
    assert "↓1" in html
    assert (
        f"/en/manage/tasks/?area={street['c1'].code}&amp;due=1&amp;deadline_from=2025-06-01"
        "&amp;deadline_to=2025-06-30"
    ) in html
    assert 'title="Composite score = 0.5 × closure rate' in html

    csv_response = client.get("/en/dashboard/ranking/", {"month": "2025-06", "format": "csv"})
    body = csv_response.content
    assert body.startswith("\ufeff".encode())
    assert "ranking-330106004-community-2025-06.csv" in csv_response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0][:4] == ["Rank", "Rank change", "Code", "Area"]
    assert table[1][:4] == ["1", "↑1", street["c2"].code, "社区2"]
    assert table[2][-2:] == ["47.50", "D"]

    xlsx = client.get("/en/dashboard/ranking/", {"month": "2025-06", "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert [c.value for c in sheet[2]][:4] == [1, "↑1", street["c2"].code, "社区2"]
    assert sheet["K3"].value == 47.5


@pytest.mark.django_db
def test_the_ranking_page_defaults_to_this_month_and_survives_a_bad_month(
    street: TaskStreet, week: Any
) -> None:
    client = login(street, "lin")
    response = client.get("/en/dashboard/ranking/")  # the clock is 2025-06-09: June so far
    assert response.context["month"] == JUNE_1
    assert [r[0]["code"] for r in response.context["rows"]] == [street["c1"].code]
    bad = client.get("/en/dashboard/ranking/", {"month": "June", "level": "grid"})
    assert bad.status_code == 200
    assert bad.context["form"].errors["month"]
    assert bad.context["level"] == "community"
    assert login(street, "chen").get("/en/dashboard/ranking/").status_code == 403


# --- hot spots ---------------------------------------------------------------------------


@pytest.fixture
def events(street: TaskStreet) -> None:
    """Three resident reports at the shop (g12) this week, one last week; three events
    for the household home (m11) over the month; three routine tasks at the shop; two
    worker reports in g21."""
    shop, home = street.places["shop"], street.households["home"]
    for day in (3, 5, 7):
        task(street, "g12", created=june(day), source=TaskSource.RESIDENT_REPORT,
             target_place=shop)  # fmt: skip
        task(street, "g12", created=june(day), source=TaskSource.ROUTINE, target_place=shop)
    task(street, "g12", created=may(28), source=TaskSource.RESIDENT_REPORT, target_place=shop,
         state=TaskState.CLOSED, closed_at=may(29))  # fmt: skip
    for when in (may(12), may(20), june(1)):
        task(street, "m11", created=when, target_household=home, state=TaskState.CLOSED,
             closed_at=when)  # fmt: skip
    for day in (4, 6):
        task(street, "g21", created=june(day), source=TaskSource.ALARM)


@pytest.mark.django_db
def test_repeated_events_by_place_household_and_grid(street: TaskStreet, events: Any) -> None:
    found = hotspot_repeats(area=street["street"], end=END)
    assert (found["start"], found["days"], found["min_events"]) == (
        END.replace(day=10, month=5), 30, 3,
    )  # fmt: skip
    assert [(r["name"], r["category"], r["events"], r["open"]) for r in found["places"]] == [
        ("示例商店", "88", 4, 3),
    ]
    assert [(r["name"], r["events"], r["area"]) for r in found["households"]] == [
        ("古荡新村1幢1单元***", 3, street["m11"].code),
    ]
    grids = {r["key"]: r["events"] for r in found["grids"]}
    # g11 holds the household's three (a micro-grid counts to its grid); g21 has only two.
    assert grids == {street["g12"].code: 4, street["g11"].code: 3}
    fewer = hotspot_repeats(area=street["street"], end=END, days=7, min_events=2)
    assert {r["key"] for r in fewer["grids"]} == {street["g12"].code, street["g21"].code}


@pytest.mark.django_db
def test_rising_categories_week_on_week(street: TaskStreet, events: Any) -> None:
    rising = hotspot_rising(area=street["street"], end=END)
    assert (rising["this_start"], rising["last_start"], rising["last_end"]) == (
        START, START.replace(day=26, month=5), START.replace(day=1),
    )  # fmt: skip
    # This week: 3 at the shop, 2 alarms (June 2–8; the household's June 1 is last week).
    # Last week (May 26 – June 1): the shop's May 28 and the household's June 1.
    [row] = rising["rows"]
    assert (row["category"], row["this_week"], row["last_week"], row["change"]) == ("88", 5, 2, 3)
    assert row["change_pct"] == Decimal("150.00")
    assert hotspot_rising(area=street["street"], end=END.replace(day=20))["rows"] == []


@pytest.mark.django_db
def test_hotspots_are_scoped_and_refuse_a_zero_window(street: TaskStreet, events: Any) -> None:
    mine = hotspot_repeats(user=street["lin"], end=END, min_events=2)
    assert street["g21"].code not in {r["key"] for r in mine["grids"]}
    with pytest.raises(PermissionDenied):
        hotspot_rising(user=street["lin"], area=street["c2"], end=END)
    with pytest.raises(ValidationFailed):
        hotspot_repeats(end=END, days=0)


@pytest.mark.django_db
def test_the_hotspots_page_links_each_row_to_its_tasks(street: TaskStreet, events: Any) -> None:
    response = login(street, "zhou").get("/en/dashboard/hotspots/", {"end": "2025-06-08"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "示例商店" in html
    assert "古荡新村1幢1单元***" in html
    assert "101室" not in html
    assert (
        f"/en/manage/tasks/?area={street['g12'].code}&amp;created_from=2025-05-10"
        "&amp;created_to=2025-06-08&amp;category=88&amp;events=1"
    ) in html
    assert "+150.00%" in html
    # Each link lists exactly the events its row counts: the shop's three routine tasks
    # and other targets in its grid are not among them.
    client = login(street, "zhou")
    linked = {
        key: response.context[key] for key in ("places", "households", "grids", "rising_rows")
    }
    assert all(linked.values())
    for key, rows in linked.items():
        for row, url in rows:
            listed = client.get(url)
            assert listed.status_code == 200, url
            count = row["this_week"] if key == "rising_rows" else row["events"]
            assert listed.context["page"].paginator.count == count, (key, url)
    assert login(street, "li").get("/en/dashboard/hotspots/").status_code == 403


# --- map ---------------------------------------------------------------------------------


def circle(lon: float, lat: float, radius: float, points: int) -> dict[str, Any]:
    ring = [
        [lon + radius * math.cos(2 * math.pi * i / points),
         lat + radius * math.sin(2 * math.pi * i / points)]
        for i in range(points)
    ]  # fmt: skip
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@pytest.mark.django_db
def test_the_map_colours_children_by_their_figures(street: TaskStreet, week: Any) -> None:
    collection = area_map(area=street["street"], start=START, end=END, now=NOW)
    features = {f["id"]: f for f in collection["features"]}
    c1 = features[street["c1"].code]
    assert c1["geometry"]["type"] == "Polygon"
    assert (c1["properties"]["due"], c1["properties"]["overdue_open"]) == (3, 1)
    assert c1["properties"]["closure_rate"] == 66.67
    assert c1["properties"]["has_children"] is True
    assert collection["bbox"] == [120.0, 30.0, 120.04, 30.01]
    by_area = task_figures(area=street["street"], start=START, end=END, now=NOW)["by_area"]
    assert [f["properties"]["due"] for f in collection["features"]] == [r["due"] for r in by_area]
    # A micro-grid has no children: the map shows the area itself, a leaf.
    leaf = area_map(area=street["m11"], start=START, end=END, now=NOW)
    assert [(f["id"], f["properties"]["has_children"]) for f in leaf["features"]] == [
        (street["m11"].code, False),
    ]
    grid = area_map(area=street["g11"], start=START, end=END, now=NOW)
    assert [(f["id"], f["properties"]["has_children"]) for f in grid["features"]] == [
        (street["m11"].code, False),
    ]


@pytest.mark.django_db
def test_the_map_simplifies_polygons_on_the_server(street: TaskStreet) -> None:
    g22 = street["g22"]
    Area.objects.filter(pk=street["m22"].pk).update(boundary=circle(120.0325, 30.0025, 0.002, 2000))
    Area.objects.filter(pk=g22.pk).update(min_lon=120.03, min_lat=30.0, max_lon=120.04,
                                          max_lat=30.01)  # fmt: skip
    g22.refresh_from_db()
    [feature] = area_map(area=g22, start=START, end=END, now=NOW)["features"]
    ring = feature["geometry"]["coordinates"][0]
    assert 8 < len(ring) < 200  # 2,001 points in, a light polygon out, still a ring


@pytest.mark.django_db
def test_the_map_page_is_scoped_and_drills_down(street: TaskStreet, week: Any) -> None:
    client = login(street, "lin")
    response = client.get("/en/dashboard/map/")
    assert response.status_code == 200
    assert [f["id"] for f in response.context["collection"]["features"]] == [
        street["g11"].code, street["g12"].code,
    ]  # fmt: skip
    html = response.content.decode()
    assert 'id="area-map-data"' in html
    assert "leaflet.js" in html
    assert f'href="?area={street["g11"].code}&amp;start=' in html  # drill down
    outside = client.get("/en/dashboard/map/", {"area": street["c2"].code})
    assert outside.context["form"].errors["area"]
    assert outside.context["area"] == street["c1"]
    leaf = client.get("/en/dashboard/map/", {"area": street["m11"].code, "colour": "closure"})
    assert leaf.context["colour"] == "closure"
    assert "/en/manage/tasks/?area=" + street["m11"].code in leaf.content.decode()
    assert login(street, "pm").get("/en/dashboard/map/").status_code == 403


@pytest.mark.django_db
def test_the_dashboard_links_to_the_analysis_pages(street: TaskStreet, week: Any) -> None:
    html = login(street, "zhou").get("/en/dashboard/").content.decode()
    for url in ("/en/dashboard/map/", "/en/dashboard/ranking/", "/en/dashboard/hotspots/"):
        assert f'href="{url}' in html


def test_the_hot_spots_export_to_csv_and_xlsx_with_masked_addresses(
    street: TaskStreet, events: Any
) -> None:
    client = login(street, "zhou")
    query = {"end": "2025-06-08"}
    page = client.get("/en/dashboard/hotspots/", query).content.decode()
    assert "format=csv" in page
    answer = client.get("/en/dashboard/hotspots/", {**query, "format": "csv"})
    assert answer["Content-Disposition"].endswith('-2025-06-08.csv"')
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0] == ["Kind", "Name", "Category", "Events", "Still open", "Latest"]
    kinds = {row[0] for row in table[1:]}
    assert {"Place", "Household"} <= kinds
    assert any("示例商店" in row[1] for row in table[1:])
    assert not any("101室" in cell for row in table for cell in row)  # masked as on the page
    xlsx = client.get("/en/dashboard/hotspots/", {**query, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == table[0]
    assert sheet.max_row == len(table)
