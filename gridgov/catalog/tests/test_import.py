"""Importing a catalogue: validate everything first, upsert by code, prune on request."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError

from gridgov.catalog.models import Category, TaskRule, TaskType
from gridgov.catalog.services import catalog_import
from gridgov.core.errors import ValidationFailed

Edit = Callable[[dict[str, Any]], None]


def _rule(data: dict[str, Any], type_index: int = 1, rule_index: int = 0) -> dict[str, Any]:
    rule: dict[str, Any] = data["task_types"][type_index]["rules"][rule_index]
    return rule


def _set_unit(data: dict[str, Any]) -> None:
    _rule(data)["time_limit"]["unit"] = "hour"


def _set_rrule(data: dict[str, Any]) -> None:
    _rule(data)["recurrence"] = "FREQ=WEEKLY;BYDAY=XX"


def _set_hourly(data: dict[str, Any]) -> None:
    _rule(data)["recurrence"] = "FREQ=HOURLY"


def _set_negative_limit(data: dict[str, Any]) -> None:
    _rule(data)["time_limit"]["value"] = -2


def _duplicate_category(data: dict[str, Any]) -> None:
    data["categories"].append({"code": "02", "name_zh": "重复", "name_en": "Again"})


def _duplicate_type(data: dict[str, Any]) -> None:
    twin = dict(data["task_types"][0], rules=[])
    data["task_types"].append(twin)


def _duplicate_rule(data: dict[str, Any]) -> None:
    rules = data["task_types"][1]["rules"]
    rules.append(dict(rules[0]))


def _missing_category(data: dict[str, Any]) -> None:
    data["task_types"][1]["category"] = "09"
    data["task_types"][1]["code"] = "0901"
    for index, rule in enumerate(data["task_types"][1]["rules"]):
        rule["code"] = f"09010{index + 1}"


def _type_outside_category(data: dict[str, Any]) -> None:
    data["task_types"][1]["code"] = "0199"


def _unknown_tag(data: dict[str, Any]) -> None:
    _rule(data)["target"] = {"kind": "household", "tag": "martian"}


def _unknown_place_kind(data: dict[str, Any]) -> None:
    _rule(data)["target"] = {"kind": "place", "place_kind": "castle"}


def _unquoted_code(data: dict[str, Any]) -> None:
    data["task_types"][1]["code"] = 201  # what YAML makes of an unquoted 0201 in YAML 1.2


def _two_handlers(data: dict[str, Any]) -> None:
    data["task_types"][1]["handler_department"] = "law_enforcement"


def _bad_department(data: dict[str, Any]) -> None:
    del data["task_types"][1]["handler_role"]
    data["task_types"][1]["handler_department"] = "Law Enforcement"


def _recurring_without_target(data: dict[str, Any]) -> None:
    _rule(data)["target"] = {"kind": "none"}


def _choice_without_choices(data: dict[str, Any]) -> None:
    del _rule(data)["evidence"]["form_fields"][0]["choices"]


def _typo_key(data: dict[str, Any]) -> None:
    _rule(data)["time_limt"] = _rule(data).pop("time_limit")


def _impossible_date(data: dict[str, Any]) -> None:
    _rule(data)["recurrence"] = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"


BAD_FILES: list[tuple[str, Edit, str, str]] = [
    ("unknown unit", _set_unit, "task_types[1] 0201, rules[0] 020101", "time_limit.unit"),
    ("bad rrule", _set_rrule, "task_types[1] 0201, rules[0] 020101", "recurrence"),
    ("hourly rrule", _set_hourly, "rules[0] 020101", "too fine"),
    ("impossible date", _impossible_date, "rules[0] 020101", "BYMONTHDAY never"),
    ("negative time limit", _set_negative_limit, "rules[0] 020101", "time_limit.value"),
    ("duplicate category", _duplicate_category, "categories[3] 02", "duplicate code 02"),
    ("duplicate type", _duplicate_type, "task_types[2] 0101", "duplicate code 0101"),
    ("duplicate rule", _duplicate_rule, "rules[2] 020101", "duplicate code 020101"),
    ("missing category", _missing_category, "task_types[1] 0901", "category '09'"),
    ("type outside category", _type_outside_category, "task_types[1] 0199", "must begin"),
    ("unknown tag", _unknown_tag, "rules[0] 020101", "target.tag: 'martian'"),
    ("unknown place kind", _unknown_place_kind, "rules[0] 020101", "target.place_kind"),
    ("unquoted code", _unquoted_code, "task_types[1] 201", "quoted strings"),
    ("two handlers", _two_handlers, "task_types[1] 0201", "exactly one"),
    ("bad department", _bad_department, "task_types[1] 0201", "not a department code"),
    ("recurring, no target", _recurring_without_target, "rules[0] 020101", "needs a target"),
    ("choice, no choices", _choice_without_choices, "rules[0] 020101", "choices"),
    ("typo in a key", _typo_key, "rules[0] 020101", "time_limt: unknown key"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "edit", "entry", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_it_refuses_a_bad_file_naming_the_entry_and_changes_nothing(
    small_catalogue: dict[str, Any],
    write_yaml: Callable[[Any], Path],
    run_catalog: Callable[..., str],
    row_counts: Callable[[], tuple[int, int, int]],
    case: str,
    edit: Edit,
    entry: str,
    reason: str,
) -> None:
    run_catalog("import", str(write_yaml(small_catalogue)))
    before = row_counts()
    # The bad file also carries valid changes: none of them may land.
    small_catalogue["categories"][0]["name_zh"] = "改过的名称"
    small_catalogue["categories"].append({"code": "03", "name_zh": "新大类", "name_en": "New"})
    edit(small_catalogue)

    with pytest.raises(CommandError) as raised:
        run_catalog("import", str(write_yaml(small_catalogue)))

    message = str(raised.value)
    assert "nothing was imported" in message
    assert any(entry in line and reason in line for line in message.splitlines()), message
    assert row_counts() == before
    assert Category.objects.get(code="01").name_zh == "基础信息采集"


@pytest.mark.django_db
def test_it_reports_every_problem_at_once(small_catalogue: dict[str, Any]) -> None:
    _set_unit(small_catalogue)
    _duplicate_category(small_catalogue)
    small_catalogue["task_types"][0]["name_en"] = ""

    with pytest.raises(ValidationFailed) as raised:
        catalog_import(data=small_catalogue)

    problems = raised.value.details
    assert len(problems) == 3
    assert any(p.startswith("task_types[0] 0101: name_en:") for p in problems)
    assert "3 problem(s)" in raised.value.message


@pytest.mark.django_db
def test_it_refuses_malformed_yaml_with_its_position(
    write_yaml: Callable[[Any], Path],
    run_catalog: Callable[..., str],
    row_counts: Callable[[], tuple[int, int, int]],
) -> None:
    path = write_yaml("version: 1\ncategories:\n  - {code: '01', name_zh: [\n")

    with pytest.raises(CommandError, match=r"malformed YAML at line \d+, column \d+"):
        run_catalog("import", str(path))
    assert row_counts() == (0, 0, 0)


def test_the_cli_exits_1_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("categories: [\n", encoding="utf-8")
    env = dict(os.environ, GRIDGOV_VAR_DIR=str(tmp_path), LANGUAGE_CODE="en")

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "gridgov", "catalog", "import", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )

    assert result.returncode == 1
    assert "malformed YAML" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_a_mapping() -> None:
    with pytest.raises(ValidationFailed, match="file: must be a mapping"):
        catalog_import(data=["not", "a", "catalogue"])


@pytest.mark.django_db
def test_a_rerun_changes_nothing(
    small_catalogue: dict[str, Any], row_counts: Callable[[], tuple[int, int, int]]
) -> None:
    catalog_import(data=small_catalogue)
    stamps = list(TaskRule.objects.order_by("code").values_list("updated_at", flat=True))

    summary = catalog_import(data=small_catalogue)

    assert row_counts() == (2, 2, 3)
    assert summary.as_dict() == {
        "categories": {"created": 0, "updated": 0, "unchanged": 2},
        "task_types": {"created": 0, "updated": 0, "unchanged": 2},
        "rules": {"created": 0, "updated": 0, "unchanged": 3},
        "deactivated_rules": [],
    }
    assert list(TaskRule.objects.order_by("code").values_list("updated_at", flat=True)) == stamps


@pytest.mark.django_db
def test_a_rerun_updates_changed_fields_by_code(small_catalogue: dict[str, Any]) -> None:
    catalog_import(data=small_catalogue)
    small_catalogue["task_types"][1]["name_zh"] = "高风险老年人探访"
    rule = _rule(small_catalogue)
    rule["time_limit"] = {"value": 5, "unit": "work_day"}
    rule["evidence"]["checkin_radius_m"] = None
    rule["active"] = False

    summary = catalog_import(data=small_catalogue)

    assert (summary.task_types.updated, summary.rules.updated, summary.rules.unchanged) == (1, 1, 2)
    assert TaskType.objects.get(code="0201").name_zh == "高风险老年人探访"
    stored = TaskRule.objects.get(code="020101")
    assert (stored.time_limit_value, stored.time_limit_unit) == (5, "work_day")
    assert stored.checkin_radius_m is None
    assert stored.active is False
    assert TaskRule.objects.count() == 3


@pytest.mark.django_db
def test_entries_absent_from_the_file_are_kept_unless_pruned(
    small_catalogue: dict[str, Any],
    write_yaml: Callable[[Any], Path],
    run_catalog: Callable[..., str],
) -> None:
    catalog_import(data=small_catalogue)
    del small_catalogue["task_types"][1]["rules"][1]  # rule 020102 leaves the file
    path = write_yaml(small_catalogue)

    run_catalog("import", str(path))
    assert TaskRule.objects.get(code="020102").active is True

    output = run_catalog("import", str(path), "--prune")
    assert "rules marked inactive: 020102" in output
    assert TaskRule.objects.get(code="020102").active is False
    assert TaskRule.objects.filter(active=True).count() == 2


@pytest.mark.django_db
def test_prune_keeps_categories_and_task_types(small_catalogue: dict[str, Any]) -> None:
    catalog_import(data=small_catalogue)
    del small_catalogue["task_types"][0]
    del small_catalogue["categories"][0]

    summary = catalog_import(data=small_catalogue, prune=True)

    assert summary.deactivated_rules == ["010101"]
    assert TaskType.objects.filter(code="0101").exists()
    assert Category.objects.filter(code="01").exists()


@pytest.mark.django_db
def test_a_partial_file_may_refer_to_a_category_already_in_the_database(
    small_catalogue: dict[str, Any],
) -> None:
    catalog_import(data=small_catalogue)
    partial = {"version": 1, "task_types": [dict(small_catalogue["task_types"][0], code="0102")]}
    partial["task_types"][0]["rules"] = [dict(_rule(small_catalogue, 0), code="010201")]

    summary = catalog_import(data=partial)

    assert summary.task_types.created == 1
    assert TaskType.objects.get(code="0102").category.code == "01"


@pytest.mark.django_db
def test_x_keys_hold_yaml_anchors_and_are_ignored(write_yaml: Callable[[Any], Path]) -> None:
    from gridgov.catalog.services import catalog_load_file

    path = write_yaml(
        """
version: 1
x-shared:
  form: &form
    - {name: note, label_zh: 备注, label_en: Note, type: text}
categories:
  - {code: "01", name_zh: 甲, name_en: A}
task_types:
  - code: "0101"
    category: "01"
    name_zh: 乙
    name_en: B
    handler_department: law_enforcement
    filing_standard: 发现即立案。
    closing_standard: 处置后结案。
    basis: design
    rules:
      - code: "010101"
        name_zh: 丙
        name_en: C
        time_limit: {value: 1, unit: work_day}
        evidence: {form_fields: *form}
"""
    )

    catalog_import(data=catalog_load_file(path=path))

    rule = TaskRule.objects.get(code="010101")
    assert rule.form_fields == [
        {"name": "note", "label_zh": "备注", "label_en": "Note", "type": "text", "required": False}
    ]
    assert rule.task_type.handler_department == "law_enforcement"
    assert rule.is_event_driven


@pytest.mark.django_db
def test_it_refuses_a_missing_file_with_its_path(
    tmp_path: Path, run_catalog: Callable[..., str]
) -> None:
    missing = tmp_path / "nowhere.yaml"

    with pytest.raises(CommandError, match=r"cannot read .*nowhere\.yaml"):
        run_catalog("import", str(missing))
