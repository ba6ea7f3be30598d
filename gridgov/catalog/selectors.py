"""Reads of the catalogue: counts, export, active rules and their occurrences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from gridgov.catalog.models import Category, TaskRule, TaskType
from gridgov.catalog.schema import SCHEMA_VERSION, catalog_dump_yaml, recurrence_parse
from gridgov.core.errors import NotFound, ValidationFailed


def catalog_stats() -> dict[str, int]:
    """Count the catalogue's rows: ``{"categories": n, "task_types": n, "rules": n}``.

    ``rules`` counts every rule, active or not (the seed's "83 task rules").
    """
    return {
        "categories": Category.objects.count(),
        "task_types": TaskType.objects.count(),
        "rules": TaskRule.objects.count(),
    }


def catalog_export() -> dict[str, Any]:
    """Return the whole catalogue in the import schema (normalised, ordered by code).

    Output: the dict ``catalog_import`` accepts; ``catalog_export_yaml`` renders it.
    Two queries, whatever the catalogue's size.
    """
    rules_by_type: dict[int, list[dict[str, Any]]] = {}
    for rule in TaskRule.objects.order_by("code"):
        rules_by_type.setdefault(rule.task_type_id, []).append(_rule_dict(rule))
    return {
        "version": SCHEMA_VERSION,
        "categories": [
            {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en}
            for c in Category.objects.order_by("code")
        ],
        "task_types": [
            {
                "code": t.code,
                "category": t.category.code,
                "name_zh": t.name_zh,
                "name_en": t.name_en,
                "handler_role": t.handler_role or None,
                "handler_department": t.handler_department or None,
                "public": t.public,
                "negative_list": t.negative_list,
                "filing_standard_zh": t.filing_standard_zh,
                "filing_standard_en": t.filing_standard_en or None,
                "closing_standard_zh": t.closing_standard_zh,
                "closing_standard_en": t.closing_standard_en or None,
                "basis": t.basis,
                "rules": rules_by_type.get(t.pk, []),
            }
            for t in TaskType.objects.select_related("category").order_by("code")
        ],
    }


def catalog_export_yaml() -> str:
    """Return the whole catalogue as canonical YAML text (see ``catalog_export``)."""
    return catalog_dump_yaml(catalog_export())


def _rule_dict(rule: TaskRule) -> dict[str, Any]:
    target: dict[str, Any] = {"kind": rule.target_kind}
    if rule.target_tag:
        target["tag"] = rule.target_tag
    if rule.target_place_kind:
        target["place_kind"] = rule.target_place_kind
    return {
        "code": rule.code,
        "name_zh": rule.name_zh,
        "name_en": rule.name_en,
        "target": target,
        "recurrence": rule.recurrence or None,
        "time_limit": {"value": rule.time_limit_value, "unit": rule.time_limit_unit},
        "priority": rule.priority,
        "evidence": {
            "min_photos": rule.min_photos,
            "checkin_radius_m": rule.checkin_radius_m,
            "form_fields": rule.form_fields,
        },
        "active": rule.active,
    }


def task_type_get(*, code: str) -> TaskType:
    """Return the task type with this 4-digit code. Raises ``NotFound``."""
    try:
        return TaskType.objects.select_related("category").get(code=code)
    except TaskType.DoesNotExist as exc:
        raise NotFound(f"task type {code!r} does not exist") from exc


def task_type_list_public() -> QuerySet[TaskType]:
    """Task types residents may report (Open311 services), by code; negative-list excluded."""
    return TaskType.objects.filter(public=True, negative_list=False).order_by("code")


def task_rule_list_active(*, recurring: bool | None = None) -> QuerySet[TaskRule]:
    """Active rules with their task type and category, by code.

    ``recurring=True`` keeps rules with an RRULE (the ones the daily job expands),
    ``False`` the event-driven ones, ``None`` both. Rules of negative-list task types are
    left out: they are not grid work.
    """
    rules = TaskRule.objects.filter(active=True, task_type__negative_list=False)
    if recurring is True:
        rules = rules.exclude(recurrence="")
    elif recurring is False:
        rules = rules.filter(recurrence="")
    return rules.select_related("task_type__category").order_by("code")


def task_rule_occurrences(*, rule: TaskRule, start: datetime, end: datetime) -> list[datetime]:
    """Return the rule's occurrences in ``[start, end)``, as aware datetimes.

    Inputs: aware datetimes. Occurrences are counted from the fixed epoch Monday
    2024-01-01 08:30 local time (``schema.RECURRENCE_EPOCH``), so ``INTERVAL`` rules fall on
    the same dates on every run; an event-driven rule has none. Raises ``ValidationFailed``
    for naive datetimes or an RRULE that no longer parses.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("start and end must be timezone-aware datetimes")
    if rule.is_event_driven or end <= start:
        return []
    try:
        parsed = recurrence_parse(rule.recurrence)
    except ValueError as exc:
        raise ValidationFailed(f"rule {rule.code}: recurrence: {exc}") from exc
    return [when for when in parsed.between(start, end, inc=True) if when < end]
