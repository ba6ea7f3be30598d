"""Fixtures for the import tests: a small street with grids, the default catalogue, and the
LA neighbourhood councils (the areas app's fixtures, reused)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from gridgov.areas.models import Area
from gridgov.areas.tests.conftest import (  # noqa: F401 - fixtures, used by name
    la_community,
    la_councils_path,
    la_grids,
    la_requests_path,
)
from gridgov.areas.tests.factories import make_street_tree
from gridgov.catalog.services import catalog_import_default


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Assert on the English messages (zh-hans is checked by the catalogue test)."""
    with translation.override("en"):
        yield


@pytest.fixture
def catalogue(db: Any) -> None:
    catalog_import_default()


@pytest.fixture
def tree(db: Any) -> dict[str, Area]:
    """``make_street_tree``: grids g11, g12 (community c1), g21, g22 (c2), each 0.01°
    square from lon 120.00 eastwards at lat 30.00–30.01, a micro-grid in each one's
    south-west quarter."""
    return make_street_tree()


#: The synthetic old system's mapping (Chinese column names, as a street's export has).
MAPPING = """\
system: old
timezone: Asia/Shanghai
number: 编号
created: {column: 上报时间, format: "%Y-%m-%d %H:%M"}
closed: {column: 结案时间, format: "%Y-%m-%d %H:%M"}
deadline: {column: 期限}
type:
  column: 类别
  map: {垃圾: "0502", 涂鸦: "0505", 路灯: "031302"}
status:
  column: 状态
  map: {已结案: closed, 已作废: cancelled, 处理中: registered, 不予受理: rejected}
location: {lon: 经度, lat: 纬度}
area: {column: 网格编码}
title: "{类别}：{地址}"
description: "原编号 {编号}"
"""
HEADER = [
    "编号",
    "上报时间",
    "结案时间",
    "期限",
    "类别",
    "状态",
    "经度",
    "纬度",
    "网格编码",
    "地址",
]


@pytest.fixture
def mapping_path(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """``write_csv(rows, header=HEADER, name="cases.csv")`` → the path of a UTF-8 (BOM) CSV."""

    def write(rows: list[list[str]], header: list[str] = HEADER, name: str = "cases.csv") -> Path:
        path = tmp_path / name
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return write
