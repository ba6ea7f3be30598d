"""The default catalogue's report fields load (all valid), rerun changes nothing, a bad
file changes nothing; the field definitions' own checks."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from gridgov.catalog.models import TaskType
from gridgov.catalog.services import catalog_import_default
from gridgov.open311.attributes import report_fields_problems
from gridgov.open311.tests.conftest import REPORT_FIELDS


def test_the_default_report_fields_load_once(db: Any) -> None:
    catalog_import_default()
    out = StringIO()
    call_command("open311_report_fields", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"updated": 4, "unchanged": 0}
    again = StringIO()
    call_command("open311_report_fields", "--json", stdout=again)
    assert json.loads(again.getvalue()) == {"updated": 0, "unchanged": 4}
    street_lights = TaskType.objects.get(code="0313")
    street_lights.full_clean()
    assert [f["datatype"] for f in street_lights.report_fields] == [
        "multivaluelist",
        "singlevaluelist",
        "string",
    ]


def test_a_bad_file_changes_nothing(db: Any, tmp_path: Path) -> None:
    catalog_import_default()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        '"0313": [{code: x, datatype: colour, description_zh: 甲, description_en: A}]\n'
        '"0101": []\n',
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as caught:
        call_command("open311_report_fields", str(bad), stdout=StringIO())
    assert "colour" in str(caught.value)
    assert "0101: no public task type" in str(caught.value)
    assert TaskType.objects.exclude(report_fields=[]).count() == 0


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ("x", "must be a list"),
        ([{"code": "a b", "datatype": "string"}], "is not a code"),
        ([{**REPORT_FIELDS[0]}, {**REPORT_FIELDS[0]}], "duplicate code"),
        ([{**REPORT_FIELDS[0], "values": []}], "only for the list types"),
        ([{**REPORT_FIELDS[4], "values": []}], "non-empty list of values"),
        ([{**REPORT_FIELDS[0], "colour": 1}], "unknown key"),
        ([{**REPORT_FIELDS[0], "required": "yes"}], "true or false"),
        ([{**REPORT_FIELDS[0], "description_en": ""}], "missing or empty"),
    ],
)
def test_report_field_definitions_are_checked(fields: Any, problem: str) -> None:
    assert any(problem in p for p in report_fields_problems(fields))


def test_the_model_refuses_bad_definitions(db: Any) -> None:
    catalog_import_default()
    task_type = TaskType.objects.get(code="0313")
    task_type.report_fields = [{"code": "x", "datatype": "colour"}]
    with pytest.raises(ValidationError, match="colour"):
        task_type.full_clean()
    assert report_fields_problems(REPORT_FIELDS) == []
