"""Fixtures for the catalogue tests: a small valid catalogue and a command runner."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.utils import translation

from gridgov.catalog.models import Category, TaskRule, TaskType

SMALL_CATALOGUE: dict[str, Any] = {
    "version": 1,
    "categories": [
        {"code": "01", "name_zh": "基础信息采集", "name_en": "Basic information"},
        {"code": "02", "name_zh": "重点人群走访关爱", "name_en": "Key groups"},
    ],
    "task_types": [
        {
            "code": "0101",
            "category": "01",
            "name_zh": "出租房屋登记",
            "name_en": "Rental registration",
            "handler_role": "grid_worker",
            "filing_standard_zh": "房屋出租即予立案。",
            "filing_standard_en": "A case is filed when a house is let.",
            "closing_standard_zh": "登记完整后结案。",
            "closing_standard_en": "Closed when the registration is complete.",
            "basis": "DB33/T 2252-2020 [O]",
            "rules": [
                {
                    "code": "010101",
                    "name_zh": "3个工作日内登记",
                    "name_en": "Within 3 working days",
                    "target": {"kind": "none"},
                    "recurrence": None,
                    "time_limit": {"value": 3, "unit": "work_day"},
                }
            ],
        },
        {
            "code": "0201",
            "category": "02",
            "name_zh": "高风险老人探访",
            "name_en": "High-risk elderly visits",
            "handler_role": "grid_worker",
            "filing_standard_zh": "每周生成。",
            "closing_standard_zh": "见到本人后结案。",
            "basis": "Inner Mongolia policy [N]",
            "rules": [
                {
                    "code": "020101",
                    "name_zh": "每周探访",
                    "name_en": "Weekly visit",
                    "target": {"kind": "household", "tag": "elderly_high_risk"},
                    "recurrence": "FREQ=WEEKLY;BYDAY=MO",
                    "time_limit": {"value": 7, "unit": "natural_day"},
                    "priority": "high",
                    "evidence": {
                        "min_photos": 1,
                        "checkin_radius_m": 200,
                        "form_fields": [
                            {
                                "name": "health",
                                "label_zh": "健康状况",
                                "label_en": "Health",
                                "type": "choice",
                                "required": True,
                                "choices": [
                                    {"value": "good", "label_zh": "良好", "label_en": "Good"},
                                    {"value": "poor", "label_zh": "较差", "label_en": "Poor"},
                                ],
                            }
                        ],
                    },
                },
                {
                    "code": "020102",
                    "name_zh": "重大变故24小时内探访",
                    "name_en": "Within 24 h of a change",
                    "target": {"kind": "household", "tag": "elderly_high_risk"},
                    "time_limit": {"value": 24, "unit": "urgent_hour"},
                    "priority": "urgent",
                },
            ],
        },
    ],
}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Assert on the English messages; the zh-hans catalogue is checked project-wide."""
    with translation.override("en"):
        yield


@pytest.fixture
def small_catalogue() -> dict[str, Any]:
    """A fresh deep copy of a valid 2-category, 2-type, 3-rule catalogue to edit."""
    return copy.deepcopy(SMALL_CATALOGUE)


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[Any], Path]:
    """Write an object (or raw text) as a YAML file under tmp_path; return its path."""
    counter = iter(range(1000))

    def write(data: Any) -> Path:
        path = tmp_path / f"catalogue{next(counter)}.yaml"
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_catalog() -> Callable[..., str]:
    """Run ``gridgov catalog …`` in-process and return what it printed."""

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command("catalog", *args, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    return run


@pytest.fixture
def row_counts() -> Callable[[], tuple[int, int, int]]:
    """A function returning (categories, task types, rules) now in the database."""

    def counts() -> tuple[int, int, int]:
        return Category.objects.count(), TaskType.objects.count(), TaskRule.objects.count()

    return counts
