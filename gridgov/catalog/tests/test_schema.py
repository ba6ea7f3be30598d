"""RRULE and form-field checks used by the import and the admin forms."""

from __future__ import annotations

import pytest

from gridgov.catalog.schema import (
    form_fields_problems,
    recurrence_epoch,
    recurrence_parse,
    recurrence_problems,
)


@pytest.mark.parametrize(
    "value",
    [
        "FREQ=WEEKLY",
        "FREQ=DAILY;INTERVAL=10",
        "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=1",
        "FREQ=MONTHLY;BYMONTHDAY=1,16",
        "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1",
        "FREQ=MONTHLY;BYDAY=2WE;BYHOUR=20;BYMINUTE=0",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=DAILY;UNTIL=20301231T000000Z",
    ],
)
def test_it_accepts_rrules_that_express_real_frequencies(value: str) -> None:
    assert recurrence_problems(value) == []
    assert recurrence_parse(value).after(recurrence_epoch()) is not None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("weekly", "not a valid RFC 5545 RRULE"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RFC 5545 RRULE"),
        ("FREQ=HOURLY", "too fine"),
        ("FREQ=MINUTELY;INTERVAL=30", "too fine"),
        ("RRULE:FREQ=DAILY", "without RRULE:"),
        ("DTSTART:20240101T000000\nRRULE:FREQ=DAILY", "without RRULE:"),
        ("FREQ=DAILY;UNTIL=20301231", "not a valid RFC 5545 RRULE"),  # UNTIL must be UTC
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never falls"),
    ],
)
def test_it_refuses_rrules_with_a_reason(value: str, reason: str) -> None:
    problems = recurrence_problems(value)
    assert len(problems) == 1
    assert reason in problems[0]
    with pytest.raises(ValueError, match=reason.split(":")[0]):
        recurrence_parse(value)


def test_it_accepts_well_formed_form_fields() -> None:
    fields = [
        {"name": "visited_on", "label_zh": "日期", "label_en": "Date", "type": "date"},
        {"name": "count", "label_zh": "数量", "label_en": "Count", "type": "number"},
        {"name": "ok", "label_zh": "正常", "label_en": "OK", "type": "boolean", "required": True},
        {
            "name": "grade",
            "label_zh": "等级",
            "label_en": "Grade",
            "type": "choice",
            "choices": [{"value": "0", "label_zh": "0级", "label_en": "0"}],
        },
    ]
    assert form_fields_problems(fields) == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ("health", "must be a list"),
        ([{"name": "a", "label_zh": "甲", "label_en": "A", "type": "photo"}], "type: 'photo'"),
        ([{"name": "A b", "label_zh": "甲", "label_en": "A", "type": "text"}], "snake_case"),
        ([{"name": "a", "label_en": "A", "type": "text"}], "label_zh: required"),
        (
            [
                {"name": "a", "label_zh": "甲", "label_en": "A", "type": "text"},
                {"name": "a", "label_zh": "乙", "label_en": "B", "type": "text"},
            ],
            "duplicate name a",
        ),
        (
            [{"name": "a", "label_zh": "甲", "label_en": "A", "type": "text", "choices": []}],
            "only allowed on fields of type 'choice'",
        ),
        (
            [
                {
                    "name": "a",
                    "label_zh": "甲",
                    "label_en": "A",
                    "type": "choice",
                    "choices": [{"value": 0, "label_zh": "零", "label_en": "zero"}],
                }
            ],
            "choices[0]: value: must be a non-empty quoted string",
        ),
        (
            [{"name": "a", "label_zh": "甲", "label_en": "A", "type": "text", "required": "yes"}],
            "required: must be true or false",
        ),
    ],
)
def test_it_refuses_bad_form_fields_with_a_reason(fields: object, reason: str) -> None:
    problems = form_fields_problems(fields)
    assert any(reason in p for p in problems), problems


def test_a_key_given_twice_is_refused_not_silently_overwritten() -> None:
    from gridgov.catalog.schema import catalog_parse_yaml

    with pytest.raises(ValueError, match=r"duplicate key 'name_zh'"):
        catalog_parse_yaml("categories:\n  - code: '01'\n    name_zh: 甲\n    name_zh: 乙\n")
