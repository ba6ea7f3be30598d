"""Area codes: digits, length per level, parent prefix, parent one level up."""

from __future__ import annotations

import pytest

from gridgov.areas.models import Area, AreaLevel
from gridgov.areas.services import area_code_validate, area_create
from gridgov.areas.tests.factories import make_street_tree, square
from gridgov.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree() -> dict[str, Area]:
    return make_street_tree()


@pytest.mark.parametrize(
    ("level", "parent_key", "code"),
    [
        (AreaLevel.DISTRICT, None, "330108"),
        (AreaLevel.STREET, "district", "330106005"),
        (AreaLevel.COMMUNITY, "street", "330106004003"),
        (AreaLevel.GRID, "c1", "330106004001003"),
        (AreaLevel.MICRO_GRID, "g11", "330106004001001002"),
    ],
)
def test_it_accepts_a_good_code_at_each_level(
    tree: dict[str, Area], level: str, parent_key: str | None, code: str
) -> None:
    parent = tree[parent_key] if parent_key else None
    area_code_validate(code=code, level=level, parent=parent)
    area = area_create(code=code, name="new", level=level, parent=parent)
    assert area.level == level
    assert area.parent == parent


@pytest.mark.parametrize(
    ("level", "parent_key", "code", "message"),
    [
        # wrong length for the level
        (AreaLevel.DISTRICT, None, "33010", "has 6 digits"),
        (AreaLevel.STREET, "district", "3301060051", "has 9 digits"),
        (AreaLevel.COMMUNITY, "street", "33010600400", "has 12 digits"),
        (AreaLevel.GRID, "c1", "3301060040010001", "has 15 digits"),
        (AreaLevel.MICRO_GRID, "g11", "33010600400100100", "has 18 digits"),
        # non-digits
        (AreaLevel.DISTRICT, None, "33O106", "digits 0-9 only"),
        (AreaLevel.GRID, "c1", "330106004001-01", "digits 0-9 only"),
        (AreaLevel.GRID, "c1", "３３０１０６００４００１００１", "digits 0-9 only"),
        (AreaLevel.DISTRICT, None, "", "digits 0-9 only"),
        # wrong prefix
        (AreaLevel.STREET, "district", "330107005", "does not start with its parent's code"),
        (AreaLevel.GRID, "c1", "330106004002003", "does not start with its parent's code"),
        (AreaLevel.MICRO_GRID, "g11", "330106004001002001", "does not start with"),
        # all-zero sequence
        (AreaLevel.GRID, "c1", "330106004001000", "only zeros"),
        # a district code of a prefecture
        (AreaLevel.DISTRICT, None, "330100", "prefecture or province"),
    ],
)
def test_it_refuses_a_bad_code(
    tree: dict[str, Area], level: str, parent_key: str | None, code: str, message: str
) -> None:
    parent = tree[parent_key] if parent_key else None
    before = Area.objects.count()
    with pytest.raises(ValidationFailed, match=message):
        area_create(code=code, name="bad", level=level, parent=parent)
    assert Area.objects.count() == before


@pytest.mark.parametrize(
    ("level", "parent_key", "code"),
    [
        (AreaLevel.GRID, "street", "330106004009"),  # grid under a street
        (AreaLevel.GRID, "street", "330106004001009"),  # right length, parent two levels up
        (AreaLevel.MICRO_GRID, "c1", "330106004001001009"),  # micro-grid under a community
        (AreaLevel.COMMUNITY, "c1", "330106004009"),  # community under a community
    ],
)
def test_it_refuses_a_parent_that_is_not_one_level_up(
    tree: dict[str, Area], level: str, parent_key: str, code: str
) -> None:
    with pytest.raises(ValidationFailed, match=r"(must be a|has \d+ digits)"):
        area_code_validate(code=code, level=level, parent=tree[parent_key])


def test_it_names_both_levels_when_the_parent_level_is_wrong(tree: dict[str, Area]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        area_code_validate(code="330106004001009", level=AreaLevel.GRID, parent=tree["street"])
    assert caught.value.message == (
        "the parent of a Grid must be a Community; 古荡街道 (330106004) is a Street"
    )


def test_it_requires_a_parent_below_the_top_level() -> None:
    with pytest.raises(ValidationFailed, match="needs a parent Community"):
        area_create(code="330106004001001", name="orphan", level=AreaLevel.GRID)


def test_it_refuses_a_parent_for_the_top_level(tree: dict[str, Area]) -> None:
    with pytest.raises(ValidationFailed, match="top level"):
        area_create(code="330107", name="x", level=AreaLevel.DISTRICT, parent=tree["district"])


def test_it_refuses_an_unknown_level() -> None:
    with pytest.raises(ValidationFailed, match="unknown area level"):
        area_code_validate(code="330106", level="province", parent=None)


def test_it_refuses_a_code_that_exists(tree: dict[str, Area]) -> None:
    with pytest.raises(ValidationFailed, match="already exists") as caught:
        area_create(code="330106004001001", name="again", level=AreaLevel.GRID, parent=tree["c1"])
    assert caught.value.code == "already_exists"


def test_create_computes_the_bounding_box_from_the_boundary(tree: dict[str, Area]) -> None:
    grid = area_create(
        code="330106004001003",
        name="新网格",
        level=AreaLevel.GRID,
        parent=tree["c1"],
        boundary=square(120.001, 30.002, 0.005),
    )
    grid.refresh_from_db()
    assert (grid.min_lon, grid.min_lat) == pytest.approx((120.001, 30.002))
    assert (grid.max_lon, grid.max_lat) == pytest.approx((120.006, 30.007))


def test_create_refuses_valid_to_not_after_valid_from(tree: dict[str, Area]) -> None:
    import datetime as dt

    with pytest.raises(ValidationFailed, match="must be after valid from"):
        area_create(
            code="330106004001003",
            name="x",
            level=AreaLevel.GRID,
            parent=tree["c1"],
            valid_from=dt.date(2025, 1, 1),
            valid_to=dt.date(2025, 1, 1),
        )
