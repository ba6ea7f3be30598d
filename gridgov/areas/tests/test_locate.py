"""Point → area lookup: deepest area, validity dates, overlaps, boundaries, index rebuild."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import time_machine
from django.db.models import F
from django.utils import timezone

from gridgov.areas.models import Area, AreaLevel, AreaTreeVersion
from gridgov.areas.selectors import (
    area_locate,
    area_locate_many,
    area_locate_many_ids,
    area_path,
)
from gridgov.areas.services import area_create, area_retire, area_update
from gridgov.areas.tests.factories import make_area, make_street_tree, square

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def tree() -> dict[str, Area]:
    return make_street_tree()


def test_it_returns_the_deepest_area(tree: dict[str, Area]) -> None:
    assert area_locate(120.002, 30.002) == tree["m11"]  # in micro-grid 1-1
    assert area_locate(120.008, 30.008) == tree["g11"]  # in grid 1-1, outside its micro-grid
    assert area_locate(120.035, 30.008) == tree["g22"]
    assert area_locate(120.05, 30.005) is None  # east of everything
    assert area_locate(-118.2, 34.0) is None


def test_the_batch_is_aligned_with_its_input(tree: dict[str, Area]) -> None:
    lons = [120.002, 120.05, np.nan, 120.035, 120.008]
    lats = [30.002, 30.005, 30.0, 30.008, 30.008]
    assert area_locate_many(lons, lats) == [tree["m11"], None, None, tree["g22"], tree["g11"]]
    ids = area_locate_many_ids(np.array(lons), np.array(lats))
    assert ids.tolist() == [tree["m11"].pk, 0, 0, tree["g22"].pk, tree["g11"].pk]
    assert area_locate_many([], []) == []


def test_a_point_on_a_shared_edge_is_inside_one_of_the_areas(tree: dict[str, Area]) -> None:
    # lon 120.01 is the edge between grids 1-1 and 1-2 (same size): the lower code wins,
    # and the point is not handed up to the community that contains both.
    assert area_locate(120.01, 30.008) == tree["g11"]
    # The outer corner of the whole street still counts as inside (covers, not contains).
    assert area_locate(120.04, 30.01) == tree["g22"]


def test_the_overlap_rule_is_deterministic(tree: dict[str, Area]) -> None:
    community = tree["c1"]
    # Two more grids overlapping grid 1-1: a smaller one, and one of equal size.
    small = make_area(
        code=f"{community.code}009", parent=community, boundary=square(120.006, 30.006, 0.004)
    )
    same_size_higher_code = make_area(
        code=f"{community.code}008", parent=community, boundary=square(120.0, 30.0, 0.01)
    )
    point = (120.008, 30.008)
    assert area_locate(*point) == small  # smallest polygon of the deepest level
    small.delete()
    # Equal level and area: the lowest code wins, whatever the insertion order.
    assert area_locate(*point) == tree["g11"]
    assert tree["g11"].code < same_size_higher_code.code
    assert {area_locate(*point) for _ in range(5)} == {tree["g11"]}


def test_validity_dates(tree: dict[str, Area]) -> None:
    today = dt.date(2025, 6, 15)
    with time_machine.travel(dt.datetime(2025, 6, 15, 9, tzinfo=SHANGHAI), tick=False):
        assert timezone.localdate() == today
        area_retire(area=tree["g11"], on=today - dt.timedelta(days=1))  # retired yesterday
        assert area_locate(120.008, 30.008) == tree["c1"]  # not found today: the parent is
        assert area_locate(120.002, 30.002) == tree["c1"]  # its micro-grid went with it
        assert area_locate(120.008, 30.008, on=today - dt.timedelta(days=2)) == tree["g11"]
        assert area_locate(120.002, 30.002, on=today - dt.timedelta(days=2)) == tree["m11"]
        # valid_to is exclusive: on the retirement day itself the area is gone.
        assert area_locate(120.008, 30.008, on=today - dt.timedelta(days=1)) == tree["c1"]

        successor = area_create(
            code=f"{tree['c1'].code}003",
            name="redrawn 1-1",
            level=AreaLevel.GRID,
            parent=tree["c1"],
            boundary=square(120.0, 30.0, 0.01),
            valid_from=today + dt.timedelta(days=10),
        )
        assert area_locate(120.008, 30.008) == tree["c1"]  # not valid yet
        assert area_locate(120.008, 30.008, on=today + dt.timedelta(days=10)) == successor


def test_retire_refuses_an_area_that_is_not_valid_yet(tree: dict[str, Area]) -> None:
    from gridgov.core.errors import ValidationFailed

    area_update(area=tree["g12"], valid_from=dt.date(2025, 7, 1))
    with pytest.raises(ValidationFailed, match="only becomes valid on 2025-07-01"):
        area_retire(area=tree["g12"], on=dt.date(2025, 7, 1))


def test_the_index_sees_a_new_area_after_a_first_locate(tree: dict[str, Area]) -> None:
    assert area_locate(120.055, 30.005) is None
    area_create(
        code="330106004003",
        name="社区3",
        level=AreaLevel.COMMUNITY,
        parent=tree["street"],
        boundary=square(120.05, 30.0, 0.01),
    )
    assert area_locate(120.055, 30.005).name == "社区3"


def test_the_index_sees_a_changed_boundary(tree: dict[str, Area]) -> None:
    assert area_locate(120.003, 30.007) == tree["g11"]
    # Grid 1-2 grows over the north half of grid 1-1 (still inside community 1): of two
    # grids the smaller wins, so the point stays in 1-1 until 1-2 is the smaller one.
    area_update(area=tree["g12"], boundary=square(120.002, 30.006, 0.004))
    assert area_locate(120.003, 30.007) == tree["g12"]
    area_update(area=tree["g12"], boundary=None)
    assert area_locate(120.018, 30.008) == tree["c1"]


def test_the_index_sees_writes_from_another_process(tree: dict[str, Area]) -> None:
    """Another process's writes fire no signal here: the change signature must catch them."""
    assert area_locate(120.008, 30.008) == tree["g11"]
    # A write that bypasses the services and signals, stamping updated_at (like a shell).
    Area.objects.filter(pk=tree["g11"].pk).update(
        valid_to=dt.date(2000, 1, 1), valid_from=dt.date(1999, 1, 1), updated_at=timezone.now()
    )
    assert area_locate(120.008, 30.008) == tree["c1"]
    # A write that changes nothing the aggregate sees; the version bump alone announces it,
    # as a service in another process would.
    Area.objects.filter(pk=tree["g11"].pk).update(valid_to=None, valid_from=None)
    assert area_locate(120.008, 30.008) == tree["c1"]  # still the stale (cached) answer
    if not AreaTreeVersion.objects.filter(pk=1).update(version=F("version") + 1):
        AreaTreeVersion.objects.create(pk=1, version=1)
    assert area_locate(120.008, 30.008) == tree["g11"]


def test_the_single_lookup_costs_two_queries(
    tree: dict[str, Area], django_assert_num_queries: Any
) -> None:
    area_locate(120.0, 30.0)  # build the index
    with django_assert_num_queries(2):  # change check + the area row
        assert area_locate(120.002, 30.002) == tree["m11"]
    with django_assert_num_queries(2):
        area_locate_many([120.002] * 1000, [30.002] * 1000)


def test_area_path_runs_from_the_top(tree: dict[str, Area]) -> None:
    path = area_path(tree["m21"])
    assert [a.level for a in path] == list(
        ["district", "street", "community", "grid", "micro_grid"]
    )
    assert path[-1] == tree["m21"]
    assert area_path(tree["district"]) == [tree["district"]]
