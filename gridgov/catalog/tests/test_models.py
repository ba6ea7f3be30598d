"""Database constraints keep the catalogue sane even when the import is bypassed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from gridgov.catalog.models import Category, TaskRule
from gridgov.catalog.tests.factories import CategoryFactory, TaskRuleFactory, TaskTypeFactory


def _refused(factory: Any, **fields: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**fields)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["1", "1a", "ab", " 1"])
def test_a_category_code_is_two_digits(code: str) -> None:
    _refused(CategoryFactory, code=code)


@pytest.mark.django_db
def test_codes_are_unique() -> None:
    rule = TaskRuleFactory()
    _refused(CategoryFactory._meta.model.objects.create, code=rule.task_type.category.code)
    _refused(TaskTypeFactory, category=rule.task_type.category, code=rule.task_type.code)
    _refused(TaskRuleFactory, task_type=rule.task_type, code=rule.code)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["901", "90x1", "9 01", "９００１"])
def test_a_task_type_code_is_four_digits(code: str) -> None:
    _refused(TaskTypeFactory, code=code)


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "department"), [("", ""), ("grid_worker", "law_enforcement")])
def test_a_task_type_has_exactly_one_handler(role: str, department: str) -> None:
    _refused(TaskTypeFactory, handler_role=role, handler_department=department)


@pytest.mark.django_db
def test_a_department_alone_is_a_valid_handler() -> None:
    task_type = TaskTypeFactory(handler_role="", handler_department="law_enforcement")
    assert task_type.handler == "dept:law_enforcement"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"code": "12345"},
        {"time_limit_value": 0},
        {"time_limit_unit": "hour"},
        {"priority": "asap"},
        {"checkin_radius_m": -1},
        {"target_kind": "household"},  # no tag
        {"target_kind": "household", "target_tag": "elderly", "target_place_kind": "shop"},
        {"target_kind": "place", "target_tag": "elderly"},
        {"target_kind": "grid", "target_tag": "elderly"},
        {"target_kind": "street"},
        {"target_kind": "none"},  # recurring (the factory's default) without a target
    ],
    ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()),
)
def test_a_rule_violating_a_check_constraint_is_refused(fields: dict[str, Any]) -> None:
    task_type = TaskTypeFactory()
    fields.setdefault("code", f"{task_type.code}01")
    _refused(TaskRuleFactory, task_type=task_type, **fields)


@pytest.mark.django_db
def test_an_event_driven_rule_may_have_no_target() -> None:
    rule = TaskRuleFactory(target_kind="none", recurrence="")
    assert rule.is_event_driven
    assert rule.target_label == "none"


@pytest.mark.django_db
def test_field_validators_catch_a_bad_rrule_and_bad_form_fields() -> None:
    rule = TaskRuleFactory.build(
        task_type=TaskTypeFactory(),
        recurrence="FREQ=SOMETIMES",
        form_fields=[{"name": "Bad Name", "label_zh": "甲", "label_en": "A", "type": "text"}],
    )
    with pytest.raises(ValidationError) as raised:
        rule.full_clean()

    assert set(raised.value.message_dict) == {"recurrence", "form_fields"}


@pytest.mark.django_db
def test_names_follow_the_active_language() -> None:
    rule = TaskRuleFactory(name_zh="每周探访", name_en="Weekly visit")
    with translation.override("zh-hans"):
        assert str(rule) == f"{rule.code} 每周探访"
    with translation.override("en"):
        assert rule.name == "Weekly visit"
    assert isinstance(rule.task_type.category, Category)
    assert TaskRule.objects.get(pk=rule.pk).target_label == "grid"


@pytest.mark.django_db
def test_full_clean_explains_constraint_violations_and_code_prefixes() -> None:
    task_type = TaskTypeFactory()
    rule = TaskRuleFactory.build(
        task_type=task_type, code="999999", target_kind="household", time_limit_value=0
    )

    with pytest.raises(ValidationError) as raised:
        rule.full_clean()

    messages = " ".join(str(m) for m in raised.value.messages)
    assert "A household target needs a resident tag" in messages
    assert "positive" in messages
    assert f"must begin with the task type's code {task_type.code}" in messages


@pytest.mark.django_db
def test_full_clean_checks_a_task_types_code_against_its_category() -> None:
    task_type = TaskTypeFactory.build(category=CategoryFactory(code="07"), code="0801")

    with pytest.raises(ValidationError, match="category's code 07"):
        task_type.full_clean()
