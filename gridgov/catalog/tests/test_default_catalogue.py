"""The default catalogue shipped with gridgov: counts, vocabularies, recurrences, values."""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from dateutil.rrule import rrulestr

from gridgov.catalog.choices import FormFieldType, TargetKind
from gridgov.catalog.schema import (
    catalog_parse_yaml,
    catalog_validate,
    recurrence_epoch,
    recurrence_problems,
)
from gridgov.catalog.services import DEFAULT_CATALOGUE_PATH
from gridgov.core.choices import TimeLimitUnit
from gridgov.people.choices import PlaceKind, ResidentTag, Role


@pytest.fixture(scope="module")
def default() -> dict[str, Any]:
    """The default catalogue, normalised (validation must find no problem)."""
    catalogue, problems = catalog_validate(
        catalog_parse_yaml(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))
    )
    assert problems == []
    return catalogue


@pytest.fixture(scope="module")
def rules(default: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["code"]: rule for t in default["task_types"] for rule in t["rules"]}


@pytest.mark.django_db
def test_it_imports_the_default_catalogue_with_the_seed_counts(
    run_catalog: Callable[..., str],
) -> None:
    output = run_catalog("import", "--default")
    assert "rules: 83 created" in output

    assert json.loads(run_catalog("stats", "--json")) == {
        "categories": 6,
        "task_types": 60,
        "rules": 83,
    }


@pytest.mark.django_db
def test_stats_without_json_prints_a_readable_line(run_catalog: Callable[..., str]) -> None:
    run_catalog("import", "--default")

    assert run_catalog("stats").strip() == "6 categories, 60 task types, 83 task rules"


def test_every_default_recurrence_parses_as_an_rrule(rules: dict[str, dict[str, Any]]) -> None:
    recurring = {code: r["recurrence"] for code, r in rules.items() if r["recurrence"]}
    assert len(recurring) >= 30
    for code, value in recurring.items():
        assert recurrence_problems(value) == [], code
        parsed = rrulestr(value, dtstart=recurrence_epoch())
        assert parsed.after(recurrence_epoch(), inc=True) is not None, code


def test_every_default_target_uses_an_existing_tag_or_place_kind(
    rules: dict[str, dict[str, Any]],
) -> None:
    kinds = {r["target"]["kind"] for r in rules.values()}
    assert kinds == set(TargetKind.values)
    for code, rule in rules.items():
        target = rule["target"]
        if target["kind"] == TargetKind.HOUSEHOLD:
            assert target["tag"] in ResidentTag.values, code
        if target["kind"] == TargetKind.PLACE:
            assert target["place_kind"] in PlaceKind.values, code


def test_every_code_begins_with_its_parents_code(default: dict[str, Any]) -> None:
    categories = {c["code"] for c in default["categories"]}
    assert categories == {"01", "02", "03", "04", "05", "06"}
    for task_type in default["task_types"]:
        assert re.fullmatch(r"\d{4}", task_type["code"])
        assert task_type["category"] in categories
        assert task_type["code"].startswith(task_type["category"])
        assert task_type["rules"], f"{task_type['code']} has no rule"
        for rule in task_type["rules"]:
            assert re.fullmatch(r"\d{6}", rule["code"])
            assert rule["code"].startswith(task_type["code"])


def test_every_task_type_is_written_out_with_its_sources(default: dict[str, Any]) -> None:
    for task_type in default["task_types"]:
        code = task_type["code"]
        assert re.search(r"[\u4e00-\u9fff]", task_type["name_zh"]), code
        assert re.search(r"[A-Za-z]", task_type["name_en"]), code
        assert task_type["filing_standard_zh"].endswith("。"), code
        assert task_type["closing_standard_zh"].endswith("。"), code
        assert re.search(r"\[(O|N|T|B|O/T|O/N|T/B)\]|design", task_type["basis"]), code
        handler = task_type["handler_role"] or task_type["handler_department"]
        assert handler, code
        if task_type["handler_role"]:
            assert task_type["handler_role"] in Role.values


def test_default_mixes_routine_and_event_rules_public_and_negative_list_types(
    default: dict[str, Any], rules: dict[str, dict[str, Any]]
) -> None:
    event = [c for c, r in rules.items() if r["recurrence"] is None]
    assert 20 <= len(event) <= 60
    assert {r["time_limit"]["unit"] for r in rules.values()} == set(TimeLimitUnit.values)
    public = [t["code"] for t in default["task_types"] if t["public"]]
    assert "0313" in public  # street lights and manhole covers: an Open311 service
    negative = [t["code"] for t in default["task_types"] if t["negative_list"]]
    assert negative == ["0507"]
    assert not any(t["public"] and t["negative_list"] for t in default["task_types"])


@pytest.mark.parametrize(
    ("code", "recurrence", "value", "unit"),
    [
        ("020101", "FREQ=WEEKLY;BYDAY=MO", 7, "natural_day"),  # high-risk elderly, weekly
        ("020102", "FREQ=MONTHLY;BYMONTHDAY=1", 28, "natural_day"),  # key tier, monthly
        ("020103", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1", 90, "natural_day"),  # quarterly
        ("020104", None, 24, "urgent_hour"),  # within 24 h of a major change
        ("020401", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", 14, "natural_day"),  # unstable, 2 weeks
        ("020601", None, 7, "natural_day"),  # released prisoner: first visit within 7 days
        ("020702", "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1", 60, "natural_day"),  # rehab year 2
        ("010201", None, 3, "work_day"),  # registration within 3 working days
        ("030302", None, 3, "natural_day"),  # small-venue wiring within 3 days
        ("030402", None, 2, "urgent_hour"),  # dangling charging cable: at once
        ("030901", "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=1", 14, "natural_day"),  # by April
        ("040101", "FREQ=DAILY;INTERVAL=10", 5, "work_day"),  # every 10 days
        ("040201", None, 30, "natural_day"),  # mediation within one month
        ("040501", None, 3, "work_day"),  # 12345 consultation
        ("040502", None, 5, "work_day"),  # 12345 help
        ("040503", None, 7, "work_day"),  # 12345 complaint
        ("040504", None, 8, "urgent_hour"),  # 12345 emergency, same day
        ("050101", "FREQ=DAILY;BYHOUR=18;BYMINUTE=0", 3, "urgent_hour"),  # evening peak
        ("050801", "FREQ=MONTHLY;BYMONTHDAY=3,8,13,18,23,28", 8, "urgent_hour"),  # market days
        ("060201", "FREQ=MONTHLY;BYMONTHDAY=1,16", 15, "natural_day"),  # twice a month
    ],
)
def test_default_frequencies_and_time_limits_follow_the_sources(
    rules: dict[str, dict[str, Any]], code: str, recurrence: str | None, value: int, unit: str
) -> None:
    rule = rules[code]
    assert rule["recurrence"] == recurrence
    assert rule["time_limit"] == {"value": value, "unit": unit}


def test_home_visits_require_a_200_m_check_in_and_a_visit_form(
    rules: dict[str, dict[str, Any]],
) -> None:
    elderly = rules["020101"]["evidence"]
    assert elderly["checkin_radius_m"] == 200
    assert elderly["min_photos"] >= 1
    assert [f["name"] for f in elderly["form_fields"]] == ["health", "needs", "hazards"]

    visits = [r for r in rules.values() if r["target"]["kind"] == TargetKind.HOUSEHOLD]
    with_checkin = [r for r in visits if r["evidence"]["checkin_radius_m"] == 200]
    assert len(with_checkin) >= len(visits) - 4  # phone-only and alarm rules excepted


def test_mental_disorder_follow_ups_record_a_risk_grade_from_0_to_5(
    rules: dict[str, dict[str, Any]],
) -> None:
    for code in ("020401", "020402"):
        grade = rules[code]["evidence"]["form_fields"][0]
        assert grade["name"] == "risk_grade"
        assert grade["type"] == FormFieldType.CHOICE
        assert grade["required"] is True
        assert [c["value"] for c in grade["choices"]] == ["0", "1", "2", "3", "4", "5"]


#: Months ("4月", "5—9月") are written as names in English ("April", "May–September").
_MONTHS = re.compile(r"\d+(?:[—–-]\d+)?月")


def test_every_task_type_has_both_standards_in_english(default: dict[str, Any]) -> None:
    """English users read these (the task page, Open311, the API): each is given, is
    English (no Chinese characters), is a sentence, and keeps every number of the Chinese
    (time limits, percentages, hours, days of the month) and names its months."""
    for task_type in default["task_types"]:
        for standard in ("filing_standard", "closing_standard"):
            where = f"{task_type['code']} {standard}"
            english = task_type[f"{standard}_en"]
            assert english, where
            assert not re.search(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]", english), where
            assert english[0].isupper(), where
            assert english.endswith("."), where
            numbers = set(re.findall(r"\d+", english))
            chinese = task_type[f"{standard}_zh"]
            for number in re.findall(r"\d+", _MONTHS.sub("", chinese)):
                assert number in numbers, f"{where}: {number} is not in {english!r}"
            for months in _MONTHS.findall(chinese):
                for month in re.findall(r"\d+", months):
                    assert calendar.month_name[int(month)] in english, f"{where}: {months}"
