"""Writes to the catalogue: import (validate everything, then upsert by code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.db import transaction
from django.utils.translation import gettext as _

from gridgov.catalog.models import Category, TaskRule, TaskType
from gridgov.catalog.schema import catalog_parse_yaml, catalog_validate
from gridgov.core.errors import ValidationFailed

#: The default catalogue shipped with gridgov (6 categories, 60 task types, 83 rules).
DEFAULT_CATALOGUE_PATH = Path(__file__).resolve().parent / "data" / "default.yaml"

_M = TypeVar("_M", Category, TaskType, TaskRule)


@dataclass
class LevelCounts:
    """What an import did to one level of the catalogue."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportSummary:
    """Counts per level, plus the rules ``prune`` marked inactive (their codes)."""

    categories: LevelCounts = field(default_factory=LevelCounts)
    task_types: LevelCounts = field(default_factory=LevelCounts)
    rules: LevelCounts = field(default_factory=LevelCounts)
    deactivated_rules: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "categories": self.categories.as_dict(),
            "task_types": self.task_types.as_dict(),
            "rules": self.rules.as_dict(),
            "deactivated_rules": list(self.deactivated_rules),
        }


def catalog_load_file(*, path: Path) -> Any:
    """Read and parse a catalogue YAML file.

    Output: the parsed object (to pass to ``catalog_import``). Raises ``ValidationFailed``
    if the file cannot be read, is not UTF-8 or is malformed YAML (with line and column).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            _("cannot read %(path)s: %(reason)s") % {"path": path, "reason": exc}
        ) from exc
    try:
        return catalog_parse_yaml(text)
    except ValueError as exc:
        raise ValidationFailed(f"{path}: {exc}") from exc


@transaction.atomic
def catalog_import(*, data: Any, prune: bool = False) -> ImportSummary:
    """Validate a whole catalogue, then create or update every entry by its code.

    Input: a parsed catalogue file (schema in ``gridgov.catalog.schema`` and
    docs/catalog.md). Every entry is checked before anything is written; if any is bad,
    ``ValidationFailed`` is raised with a message listing every problem (``details`` holds
    the list, each ``"<entry>: <field>: <reason>"``) and the database is unchanged.
    A valid file upserts by code: new codes are created, changed fields updated, equal
    rows left alone (a rerun changes nothing). Entries in the database but absent from the
    file are kept; with ``prune=True`` their *rules* are marked inactive (never deleted,
    since tasks refer to them) — categories and task types are always kept.
    Output: an ``ImportSummary`` of created / updated / unchanged counts per level.
    """
    known = frozenset(Category.objects.values_list("code", flat=True))
    catalogue, problems = catalog_validate(data, known_category_codes=known)
    if problems:
        raise ValidationFailed(
            _("the catalogue has %(n)d problem(s); nothing was imported:\n%(list)s")
            % {"n": len(problems), "list": "\n".join(f"- {p}" for p in problems)},
            details=problems,
        )

    summary = ImportSummary()
    categories = {c.code: c for c in Category.objects.select_for_update()}
    for item in catalogue["categories"]:
        categories[item["code"]] = _upsert(
            Category, categories.get(item["code"]), item, summary.categories
        )

    task_types = {t.code: t for t in TaskType.objects.select_for_update()}
    rules = {r.code: r for r in TaskRule.objects.select_for_update()}
    seen_rules: set[str] = set()
    for item in catalogue["task_types"]:
        fields = {
            "code": item["code"],
            "category_id": categories[item["category"]].pk,
            "name_zh": item["name_zh"],
            "name_en": item["name_en"],
            "handler_role": item["handler_role"] or "",
            "handler_department": item["handler_department"] or "",
            "public": item["public"],
            "negative_list": item["negative_list"],
            "filing_standard_zh": item["filing_standard_zh"],
            "filing_standard_en": item["filing_standard_en"] or "",
            "closing_standard_zh": item["closing_standard_zh"],
            "closing_standard_en": item["closing_standard_en"] or "",
            "basis": item["basis"],
        }
        task_type = _upsert(TaskType, task_types.get(item["code"]), fields, summary.task_types)
        for rule in item["rules"]:
            seen_rules.add(rule["code"])
            _upsert(TaskRule, rules.get(rule["code"]), _rule_fields(rule, task_type), summary.rules)

    if prune:
        stale = sorted(
            code for code, rule in rules.items() if code not in seen_rules and rule.active
        )
        TaskRule.objects.filter(code__in=stale).update(active=False)
        summary.deactivated_rules = stale
    return summary


def catalog_import_default(*, prune: bool = False) -> ImportSummary:
    """Import the default catalogue shipped in ``gridgov/catalog/data/default.yaml``.

    Same behaviour and errors as ``catalog_import``.
    """
    return catalog_import(data=catalog_load_file(path=DEFAULT_CATALOGUE_PATH), prune=prune)


def _rule_fields(rule: dict[str, Any], task_type: TaskType) -> dict[str, Any]:
    target = rule["target"]
    evidence = rule["evidence"]
    return {
        "code": rule["code"],
        "task_type_id": task_type.pk,
        "name_zh": rule["name_zh"],
        "name_en": rule["name_en"],
        "target_kind": target["kind"],
        "target_tag": target.get("tag") or "",
        "target_place_kind": target.get("place_kind") or "",
        "recurrence": rule["recurrence"] or "",
        "time_limit_value": rule["time_limit"]["value"],
        "time_limit_unit": rule["time_limit"]["unit"],
        "priority": rule["priority"],
        "min_photos": evidence["min_photos"],
        "checkin_radius_m": evidence["checkin_radius_m"],
        "form_fields": evidence["form_fields"],
        "active": rule["active"],
    }


def _upsert(
    model: type[_M], existing: _M | None, fields: dict[str, Any], counts: LevelCounts
) -> _M:
    """Create the row, or update only the fields that differ; count what happened."""
    if existing is None:
        counts.created += 1
        return model.objects.create(**fields)
    changed: list[str] = [n for n, value in fields.items() if getattr(existing, n) != value]
    if not changed:
        counts.unchanged += 1
        return existing
    for name in changed:
        setattr(existing, name, fields[name])
    existing.save(update_fields=[*changed, "updated_at"])
    counts.updated += 1
    return existing
