"""Fixtures of the Open311 tests: the task street with one public type whose report
fields use all six GeoReport v2 datatypes, and a client's api key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import factory.random
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from gridgov.catalog.models import TaskType
from gridgov.open311.models import ApiKey
from gridgov.open311.services import api_key_create
from gridgov.tasks.tests.factories import TaskStreet, make_task_street

#: A point inside grid g11 (lon 120.00–120.01, lat 30.00–30.01) outside its micro-grid.
IN_G11 = (120.008, 30.008)

REPORT_FIELDS: list[dict[str, Any]] = [
    {
        "code": "where_exactly",
        "datatype": "string",
        "required": True,
        "description_zh": "具体位置",
        "description_en": "Where exactly",
    },
    {
        "code": "count",
        "datatype": "number",
        "required": False,
        "description_zh": "数量",
        "description_en": "How many",
    },
    {
        "code": "seen_at",
        "datatype": "datetime",
        "required": False,
        "description_zh": "发现时间",
        "description_en": "Seen at",
    },
    {
        "code": "details",
        "datatype": "text",
        "required": False,
        "description_zh": "补充说明",
        "description_en": "More details",
    },
    {
        "code": "danger",
        "datatype": "singlevaluelist",
        "required": True,
        "description_zh": "是否危险",
        "description_en": "Is it dangerous",
        "values": [
            {"key": "yes", "name_zh": "是", "name_en": "Yes"},
            {"key": "no", "name_zh": "否", "name_en": "No"},
        ],
    },
    {
        "code": "kinds",
        "datatype": "multivaluelist",
        "required": False,
        "description_zh": "问题类型",
        "description_en": "Kinds of problem",
        "values": [
            {"key": "light", "name_zh": "路灯", "name_en": "Street light"},
            {"key": "cover", "name_zh": "井盖", "name_en": "Manhole cover"},
            {"key": "bench", "name_zh": "座椅", "name_en": "Bench"},
        ],
    },
]


@dataclass
class Open311World:
    street: TaskStreet
    service: TaskType
    plain: TaskType
    key: ApiKey
    raw_key: str


@pytest.fixture(autouse=True)
def _seeded_fakes() -> None:
    factory.random.reseed_random("gridgov-open311")


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any) -> Iterator[None]:
    """Throttle counters start at zero; limits high unless a test lowers them."""
    settings.GRIDGOV_OPEN311_THROTTLE_PER_IP = 10_000
    settings.GRIDGOV_OPEN311_THROTTLE_PER_KEY = 10_000
    settings.GRIDGOV_OPEN311_SMS_BACKEND = "gridgov.open311.sms.MemorySmsBackend"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db: Any) -> Open311World:
    """The world of ``make_world`` in a test transaction."""
    return make_world()


def make_world() -> Open311World:
    """``service``: type ``patrol`` (code 8801, event rule ``quick``: 4 working hours),
    public, with ``REPORT_FIELDS``; ``plain``: type ``volunteer`` (8802), public, no
    fields; the others stay private. ``raw_key``: the key of client ``test-app``."""
    street = make_task_street()
    service = street.types["patrol"]
    service.public = True
    service.report_fields = REPORT_FIELDS
    service.full_clean()
    service.save()
    plain = street.types["volunteer"]
    plain.public = True
    plain.save()
    key, raw = api_key_create(name="test-app")
    return Open311World(street=street, service=service, plain=plain, key=key, raw_key=raw)


def good_post(world: Open311World, **extra: Any) -> dict[str, Any]:
    """A valid form-encoded POST requests body for ``world.service``."""
    lon, lat = IN_G11
    data: dict[str, Any] = {
        "api_key": world.raw_key,
        "service_code": world.service.code,
        "lat": str(lat),
        "long": str(lon),
        "description": "The street light at the gate is out.",
        "attribute[where_exactly]": "North gate",
        "attribute[danger]": "no",
        "attribute[kinds][]": ["light", "cover"],
        "attribute[count]": "2",
        "attribute[seen_at]": "2026-11-29T20:00:00+08:00",
        "phone": "13812345678",
        "first_name": "Ming",
    }
    data.update(extra)
    return data


@pytest.fixture
def client() -> Client:
    """A test client whose requests ask for English (the default is Chinese)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")
