"""Export writes the import schema; export → import into an empty DB → export is identical."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gridgov.catalog.models import Category, TaskRule, TaskType
from gridgov.catalog.schema import catalog_parse_yaml, catalog_validate
from gridgov.catalog.selectors import catalog_export, catalog_export_yaml
from gridgov.catalog.services import DEFAULT_CATALOGUE_PATH, catalog_import_default


@pytest.mark.django_db
def test_export_import_export_round_trips_byte_for_byte(
    tmp_path: Path, run_catalog: Callable[..., str]
) -> None:
    catalog_import_default()
    first = tmp_path / "first.yaml"
    run_catalog("export", "--out", str(first))

    TaskRule.objects.all().delete()
    TaskType.objects.all().delete()
    Category.objects.all().delete()
    run_catalog("import", str(first))
    second = run_catalog("export")

    assert second == first.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_export_holds_exactly_what_the_default_file_says() -> None:
    catalog_import_default()
    expected, _ = catalog_validate(
        catalog_parse_yaml(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))
    )

    assert catalog_export() == expected
    assert yaml.safe_load(catalog_export_yaml()) == expected


@pytest.mark.django_db
def test_export_keeps_chinese_readable_and_codes_quoted() -> None:
    catalog_import_default()

    text = catalog_export_yaml()

    assert "name_zh: 12345热线工单办理" in text
    assert "code: '0405'" in text
    assert "\\u" not in text


@pytest.mark.django_db
def test_export_of_an_empty_catalogue_is_a_valid_empty_file(
    run_catalog: Callable[..., str],
) -> None:
    data = yaml.safe_load(run_catalog("export"))

    assert data == {"version": 1, "categories": [], "task_types": []}
