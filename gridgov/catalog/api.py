"""The task catalogue, read-only, over the REST API: categories, task types, rules.

The catalogue is street-wide reference data: every authenticated caller reads all of it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from gridgov.api.schemas import CatalogCode
from gridgov.catalog.choices import Priority, TargetKind
from gridgov.catalog.models import Category, TaskRule, TaskType
from gridgov.catalog.selectors import task_type_get
from gridgov.core.choices import TimeLimitUnit
from gridgov.core.errors import NotFound

router = Router()


class CategoryOut(Schema):
    code: str
    name: str = Field(description="In the request's language.")
    name_zh: str
    name_en: str


class TaskRuleOut(Schema):
    code: str
    task_type_code: str
    name: str
    name_zh: str
    name_en: str
    target_kind: TargetKind
    target_tag: str
    target_place_kind: str
    recurrence: str = Field(description="RFC 5545 RRULE; empty for event-driven rules.")
    time_limit_value: int
    time_limit_unit: TimeLimitUnit
    priority: Priority
    min_photos: int
    checkin_radius_m: int | None = Field(description="Metres; null: no check-in required.")
    form_fields: list[dict[str, Any]]
    active: bool

    @staticmethod
    def resolve_task_type_code(obj: TaskRule) -> str:
        return obj.task_type.code


class TaskTypeOut(Schema):
    code: str
    category_code: str
    name: str
    name_zh: str
    name_en: str
    handler_role: str = Field(description="Empty when a department handles the type.")
    handler_department: str = Field(description="A department code, or empty.")
    public: bool = Field(description="Residents may report it.")
    negative_list: bool = Field(description="Not grid work (网格事项准入 negative list).")
    filing_standard: str = Field(
        description="When a report becomes a case (立案标准), in the request's language: "
        "English when English is asked for and given, else Chinese."
    )
    filing_standard_zh: str
    filing_standard_en: str = Field(description="Empty when no English is given.")
    closing_standard: str = Field(
        description="When a case may be closed (结案标准), in the request's language."
    )
    closing_standard_zh: str
    closing_standard_en: str = Field(description="Empty when no English is given.")

    @staticmethod
    def resolve_category_code(obj: TaskType) -> str:
        return obj.category.code


class TaskTypeDetailOut(TaskTypeOut):
    rules: list[TaskRuleOut]

    @staticmethod
    def resolve_rules(obj: TaskType) -> QuerySet[TaskRule]:
        return obj.rules.select_related("task_type").order_by("code")


class TaskTypeFilters(Schema):
    category: CatalogCode | None = Field(None, description="A category's 2-digit code.")
    public: bool | None = None


class TaskRuleFilters(Schema):
    task_type: CatalogCode | None = Field(None, description="A task type's 4-digit code.")
    active: bool | None = None
    recurring: bool | None = Field(None, description="With an RRULE (true) or event-driven.")


@router.get("/categories", response=list[CategoryOut], summary="List categories")
def category_list(request: HttpRequest) -> QuerySet[Category]:
    """Every category, by code."""
    return Category.objects.order_by("code")


@router.get("/task-types", response=list[TaskTypeOut], summary="List task types")
def task_type_list(request: HttpRequest, filters: Query[TaskTypeFilters]) -> QuerySet[TaskType]:
    """Every task type, by code, optionally of one category or only the public ones."""
    qs = TaskType.objects.select_related("category").order_by("code")
    if filters.category:
        qs = qs.filter(category__code=filters.category)
    if filters.public is not None:
        qs = qs.filter(public=filters.public)
    return qs


@router.get("/task-types/{code}", response=TaskTypeDetailOut, summary="One task type")
def task_type_detail(request: HttpRequest, code: CatalogCode) -> TaskType:
    """One task type with its rules."""
    return task_type_get(code=code)


@router.get("/rules", response=list[TaskRuleOut], summary="List task rules")
def task_rule_list(request: HttpRequest, filters: Query[TaskRuleFilters]) -> QuerySet[TaskRule]:
    """Every task rule, by code, optionally of one task type, active or recurring."""
    qs = TaskRule.objects.select_related("task_type").order_by("code")
    if filters.task_type:
        qs = qs.filter(task_type__code=filters.task_type)
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    if filters.recurring is True:
        qs = qs.exclude(recurrence="")
    elif filters.recurring is False:
        qs = qs.filter(recurrence="")
    return qs


@router.get("/rules/{code}", response=TaskRuleOut, summary="One task rule")
def task_rule_detail(request: HttpRequest, code: CatalogCode) -> TaskRule:
    """One task rule with its evidence requirements and form fields."""
    rule = TaskRule.objects.select_related("task_type").filter(code=code).first()
    if rule is None:
        raise NotFound(_("no task rule has code %(code)s") % {"code": code})
    return rule
