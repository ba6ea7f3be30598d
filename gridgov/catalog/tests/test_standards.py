"""The filing and closing standards in Chinese and English: the fallback, the YAML round trip,
the migration's fill, and the three places users read them (Open311, the task page, the API)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from django.apps import apps
from django.test import Client
from django.utils import translation

from gridgov.api.tests.helpers import bearer_client
from gridgov.catalog.models import TaskType
from gridgov.catalog.schema import catalog_validate
from gridgov.catalog.selectors import catalog_export, catalog_export_yaml
from gridgov.catalog.services import DEFAULT_CATALOGUE_PATH, catalog_import
from gridgov.catalog.tests.factories import TaskTypeFactory
from gridgov.tasks.choices import TaskState
from gridgov.tasks.tests.factories import TaskStreet, make_task, make_task_street

FILING_ZH = "井盖缺失即予立案。"
FILING_EN = "A missing manhole cover is registered as a case at once."
CLOSING_ZH = "修复并上传照片后结案。"
CLOSING_EN = "Closed once repaired and a photo is uploaded."


def _standards(**overrides: str) -> dict[str, str]:
    return {
        "filing_standard_zh": FILING_ZH,
        "filing_standard_en": FILING_EN,
        "closing_standard_zh": CLOSING_ZH,
        "closing_standard_en": CLOSING_EN,
        **overrides,
    }


# --- the model ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_reads_the_standards_in_the_active_language() -> None:
    task_type = TaskTypeFactory(**_standards())

    with translation.override("en"):
        assert (task_type.filing_standard, task_type.closing_standard) == (FILING_EN, CLOSING_EN)
    with translation.override("zh-hans"):
        assert (task_type.filing_standard, task_type.closing_standard) == (FILING_ZH, CLOSING_ZH)


@pytest.mark.django_db
def test_it_falls_back_to_chinese_when_the_english_is_blank() -> None:
    task_type = TaskTypeFactory(**_standards(filing_standard_en="", closing_standard_en="  "))

    with translation.override("en"):
        assert (task_type.filing_standard, task_type.closing_standard) == (FILING_ZH, CLOSING_ZH)


# --- the YAML schema, import and export ----------------------------------------------------


def test_the_english_is_optional_text(small_catalogue: dict[str, Any]) -> None:
    rental, visit = small_catalogue["task_types"]
    rental["filing_standard_en"] = "  Filed when let.  "
    visit["closing_standard_en"] = ["not", "text"]

    normalised, problems = catalog_validate(small_catalogue)

    assert problems == [
        "task_types[1] 0201: closing_standard_en: must be text or empty, not ['not', 'text']"
    ]
    assert normalised["task_types"][0]["filing_standard_en"] == "Filed when let."


def test_files_written_before_the_english_still_import(small_catalogue: dict[str, Any]) -> None:
    rental = small_catalogue["task_types"][0]
    rental["filing_standard"] = rental.pop("filing_standard_zh")
    rental["closing_standard"] = rental.pop("closing_standard_zh")
    small_catalogue["task_types"][1]["filing_standard"] = "重复。"

    normalised, problems = catalog_validate(small_catalogue)

    assert problems == [
        "task_types[1] 0201: filing_standard: give filing_standard_zh or filing_standard, not both"
    ]
    assert normalised["task_types"][0]["filing_standard_zh"] == "房屋出租即予立案。"
    assert normalised["task_types"][0]["closing_standard_zh"] == "登记完整后结案。"


@pytest.mark.django_db
def test_import_and_export_round_trip_the_english(
    small_catalogue: dict[str, Any], run_catalog: Callable[..., str], write_yaml: Any
) -> None:
    catalog_import(data=small_catalogue)
    rental = TaskType.objects.get(code="0101")
    assert rental.filing_standard_en == "A case is filed when a house is let."
    assert rental.closing_standard_en == "Closed when the registration is complete."
    assert TaskType.objects.get(code="0201").filing_standard_en == ""

    text = catalog_export_yaml()
    exported = yaml.safe_load(text)["task_types"]
    assert exported[0]["filing_standard_en"] == "A case is filed when a house is let."
    assert exported[1]["filing_standard_en"] is None  # blank is written as null
    assert list(exported[0])[8:12] == [
        "filing_standard_zh",
        "filing_standard_en",
        "closing_standard_zh",
        "closing_standard_en",
    ]

    TaskType.objects.filter(code="0101").update(filing_standard_en="", closing_standard_en="")
    assert "1 updated" in run_catalog("import", str(write_yaml(text)))
    assert catalog_export_yaml() == text


@pytest.mark.django_db
def test_reimporting_the_default_fills_the_english_of_an_existing_database(
    run_catalog: Callable[..., str],
) -> None:
    run_catalog("import", "--default")
    TaskType.objects.update(filing_standard_en="", closing_standard_en="")

    run_catalog("import", "--default")

    assert not TaskType.objects.filter(filing_standard_en="").exists()
    assert not TaskType.objects.filter(closing_standard_en="").exists()
    assert catalog_export()["task_types"][0]["closing_standard_en"].startswith("Closed after")


# --- the migration -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_migration_fills_only_the_shipped_wording() -> None:
    migration = importlib.import_module("gridgov.catalog.migrations.0003_tasktype_standards_en")
    shipped = {
        t["code"]: t
        for t in yaml.safe_load(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))["task_types"]
    }
    blank = {"filing_standard_en": "", "closing_standard_en": ""}
    same = TaskTypeFactory(
        code="0101",
        category__code="01",
        filing_standard_zh=shipped["0101"]["filing_standard_zh"],
        closing_standard_zh=shipped["0101"]["closing_standard_zh"],
        **blank,
    )
    edited = TaskTypeFactory(
        code="0102",
        category__code="01",
        filing_standard_zh="本街道自己的立案标准。",
        closing_standard_zh=shipped["0102"]["closing_standard_zh"],
        **blank,
    )
    translated = TaskTypeFactory(
        code="0103",
        category__code="01",
        filing_standard_zh=shipped["0103"]["filing_standard_zh"],
        filing_standard_en="Our own English.",
        closing_standard_zh=shipped["0103"]["closing_standard_zh"],
        closing_standard_en="",
    )

    migration.fill_default_english(apps, None)

    for row in (same, edited, translated):
        row.refresh_from_db()
    assert same.filing_standard_en == shipped["0101"]["filing_standard_en"]
    assert same.closing_standard_en == shipped["0101"]["closing_standard_en"]
    assert edited.filing_standard_en == ""  # a street's own wording gets no translation
    assert edited.closing_standard_en == shipped["0102"]["closing_standard_en"]
    assert translated.filing_standard_en == "Our own English."
    assert translated.closing_standard_en == shipped["0103"]["closing_standard_en"]


# --- where users read them -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "description"), [("en", FILING_EN), ("zh-hans", FILING_ZH)])
def test_open311_services_describe_the_type_in_the_clients_language(
    language: str, description: str
) -> None:
    TaskTypeFactory(code="8801", category__code="88", public=True, **_standards())

    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    services = client.get("/open311/v2/services.json").json()
    xml = client.get("/open311/v2/services.xml").content.decode()

    assert [(s["service_code"], s["description"]) for s in services] == [("8801", description)]
    assert f"<description>{description}</description>" in xml


@pytest.fixture
def street(db: Any) -> TaskStreet:
    return make_task_street()


@pytest.mark.parametrize(("prefix", "standard"), [("/en", CLOSING_EN), ("", CLOSING_ZH)])
def test_the_task_page_shows_the_closing_standard_in_the_active_language(
    street: TaskStreet, prefix: str, standard: str
) -> None:
    task_type = street.types["patrol"]
    TaskType.objects.filter(pk=task_type.pk).update(**_standards())
    task = make_task(
        area=street["g11"],
        task_type=task_type,
        state=TaskState.ACCEPTED,
        assignee=street["chen"],
    )
    client = Client()
    client.force_login(street["chen"], backend="django.contrib.auth.backends.ModelBackend")

    page = client.get(f"{prefix}/tasks/{task.number}/").content.decode()

    assert f"<p>{standard}</p>" in page
    other = CLOSING_ZH if standard == CLOSING_EN else CLOSING_EN
    assert other not in page


def test_the_catalogue_api_gives_both_languages_and_the_requested_one(
    street: TaskStreet,
) -> None:
    task_type = street.types["patrol"]
    TaskType.objects.filter(pk=task_type.pk).update(**_standards())
    client = bearer_client(street["chen"])

    url = f"/api/v1/catalog/task-types/{task_type.code}"
    english = json.loads(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content)
    chinese = json.loads(client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content)

    assert (english["filing_standard"], english["closing_standard"]) == (FILING_EN, CLOSING_EN)
    assert (chinese["filing_standard"], chinese["closing_standard"]) == (FILING_ZH, CLOSING_ZH)
    for answer in (english, chinese):
        assert answer["filing_standard_zh"] == FILING_ZH
        assert answer["filing_standard_en"] == FILING_EN
        assert answer["closing_standard_zh"] == CLOSING_ZH
        assert answer["closing_standard_en"] == CLOSING_EN
