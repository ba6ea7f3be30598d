"""Admin for the catalogue: categories, task types (with their rules inline), task rules."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gridgov.catalog.models import Category, TaskRule, TaskType
from gridgov.people.admin_access import ReferenceDataAdmin, ReferenceDataPermissions


@admin.register(Category)
class CategoryAdmin(ReferenceDataAdmin):
    list_display = ["code", "name_zh", "name_en", "task_type_count"]
    search_fields = ["code", "name_zh", "name_en"]
    ordering = ["code"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(task_type_total=Count("task_types"))

    @admin.display(description=_("task types"), ordering="task_type_total")
    def task_type_count(self, obj: Category) -> int:
        return obj.task_type_total  # type: ignore[attr-defined,no-any-return]


class TaskRuleInline(ReferenceDataPermissions, admin.StackedInline):
    model = TaskRule
    extra = 0
    show_change_link = True
    fields = [
        ("code", "active"),
        ("name_zh", "name_en"),
        ("target_kind", "target_tag", "target_place_kind"),
        "recurrence",
        ("time_limit_value", "time_limit_unit", "priority"),
        ("min_photos", "checkin_radius_m"),
        "form_fields",
    ]


@admin.register(TaskType)
class TaskTypeAdmin(ReferenceDataAdmin):
    list_display = [
        "code",
        "name_zh",
        "name_en",
        "category",
        "handler_role",
        "handler_department",
        "public",
        "negative_list",
        "rule_count",
    ]
    list_filter = ["category", "public", "negative_list", "handler_role"]
    search_fields = ["code", "name_zh", "name_en"]
    list_select_related = ["category"]
    ordering = ["code"]
    inlines = [TaskRuleInline]
    fieldsets = [
        (None, {"fields": ["category", "code", ("name_zh", "name_en")]}),
        (
            _("Standards"),
            {
                "fields": [
                    "filing_standard_zh",
                    "filing_standard_en",
                    "closing_standard_zh",
                    "closing_standard_en",
                ]
            },
        ),
        (
            _("Handling"),
            {"fields": [("handler_role", "handler_department"), ("public", "negative_list")]},
        ),
        (_("Basis"), {"fields": ["basis"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TaskType]:
        return super().get_queryset(request).annotate(rule_total=Count("rules"))

    @admin.display(description=_("rules"), ordering="rule_total")
    def rule_count(self, obj: TaskType) -> int:
        return obj.rule_total  # type: ignore[attr-defined,no-any-return]


@admin.register(TaskRule)
class TaskRuleAdmin(ReferenceDataAdmin):
    list_display = [
        "code",
        "name_zh",
        "task_type",
        "target_kind",
        "target_detail",
        "recurrence",
        "time_limit",
        "priority",
        "active",
    ]
    list_filter = [
        ("task_type__category", admin.RelatedOnlyFieldListFilter),
        "target_kind",
        "time_limit_unit",
        "priority",
        "active",
        "task_type__public",
        "task_type__negative_list",
    ]
    search_fields = ["code", "name_zh", "name_en", "task_type__code", "task_type__name_zh"]
    list_select_related = ["task_type"]
    autocomplete_fields = ["task_type"]
    ordering = ["code"]

    @admin.display(description=_("tag or place kind"))
    def target_detail(self, obj: TaskRule) -> str:
        return obj.get_target_tag_display() or obj.get_target_place_kind_display() or "—"

    @admin.display(description=_("time limit"), ordering="time_limit_value")
    def time_limit(self, obj: TaskRule) -> str:
        return f"{obj.time_limit_value} {obj.get_time_limit_unit_display()}"
