"""Admin for the task engine: tasks with their timeline, and directives — read-only.

Every change to a task goes through a service in ``services.py`` (a transition, a
timeline row, notifications); the admin shows, filters and searches, it does not edit.
Rows follow ``selectors.task_list_visible_to``: the user's areas, plus the tasks assigned
to them and their department's queue.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgov.people import selectors as people_selectors
from gridgov.people.admin_access import ScopedAdmin
from gridgov.tasks.choices import TaskState, TrafficLight
from gridgov.tasks.models import Directive, Task, TaskAttachment, TaskEvent
from gridgov.tasks.selectors import task_light_q, task_list_visible_to, task_traffic_light


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on a task's page: whoever may view the task sees them (the task admin
    checks the scope), nobody edits them."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TaskEventInline(ReadOnlyInline):
    model = TaskEvent
    fields = ("at", "action", "actor", "from_state", "to_state", "note", "lon", "lat", "data")
    readonly_fields = fields
    ordering = ["at", "id"]


class TaskAttachmentInline(ReadOnlyInline):
    model = TaskAttachment
    fields = ("file", "kind", "content_type", "size", "sha256", "event")
    readonly_fields = fields


class TrafficLightFilter(admin.SimpleListFilter):
    title = _("traffic light")
    parameter_name = "light"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(TrafficLight.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> QuerySet[Task]:
        value = self.value()
        if value in TrafficLight.values:
            return queryset.filter(task_light_q(str(value), now=timezone.now()))
        return queryset


class OpenFilter(admin.SimpleListFilter):
    title = _("open or finished")
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("1", _("Open")), ("0", _("Finished"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> QuerySet[Task]:
        finished = Q(state__in=[TaskState.CLOSED, TaskState.REJECTED, TaskState.CANCELLED])
        if self.value() == "1":
            return queryset.exclude(finished)
        if self.value() == "0":
            return queryset.filter(finished)
        return queryset


@admin.register(Task)
class TaskAdmin(ScopedAdmin):
    list_display = [
        "number",
        "title",
        "state",
        "source",
        "task_type",
        "area",
        "assignee",
        "department",
        "deadline",
        "light",
        "is_overdue",
        "escalation_level",
    ]
    list_filter = [
        OpenFilter,
        "state",
        "source",
        "is_overdue",
        "escalation_level",
        TrafficLightFilter,
        "needs_attention",
        "priority",
        "task_type",
    ]
    search_fields = ["number", "title"]
    list_select_related = ["task_type", "area", "assignee", "department", "rule"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    inlines = [TaskEventInline, TaskAttachmentInline]
    fieldsets = [
        (None, {"fields": ["number", "title", "description", "state", "source", "source_key"]}),
        (
            _("What and where"),
            {
                "fields": [
                    ("task_type", "rule", "directive"),
                    ("area", "lon", "lat"),
                    ("target_household", "target_place"),
                    "priority",
                ]
            },
        ),
        (
            _("Who"),
            {"fields": [("assignee", "department", "needs_attention"), "reporter"]},
        ),
        (
            _("Deadline"),
            {
                "fields": [
                    ("deadline", "deadline_original", "yellow_at"),
                    ("is_overdue", "overdue_at"),
                    ("escalation_level", "escalated_at"),
                    ("extension_status", "extension_requested_until", "extension_count"),
                    ("suspended_at", "suspension_reason"),
                    "rework_count",
                ]
            },
        ),
        (
            _("Steps"),
            {
                "fields": [
                    ("reported_at", "registered_at", "dispatched_at"),
                    ("accepted_at", "handled_at", "closed_at", "cancelled_at"),
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        visible = task_list_visible_to(request.user).values("pk")
        return Task.objects.filter(pk__in=visible).select_related(*self.list_select_related)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Task._meta.fields]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return task_list_visible_to(request.user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("traffic light"))
    def light(self, obj: Task) -> str:
        return str(TrafficLight(task_traffic_light(obj)).label)


@admin.register(Directive)
class DirectiveAdmin(admin.ModelAdmin):
    """Directives are issued through the directive service; here they are read."""

    list_display = ["title", "task_type", "deadline", "priority", "issued_by", "task_total"]
    list_filter = ["priority", "task_type"]
    search_fields = ["title", "instruction"]
    list_select_related = ["task_type", "issued_by"]
    date_hierarchy = "deadline"
    filter_horizontal = ["areas"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Directive]:
        qs = super().get_queryset(request).annotate(task_count=Count("tasks"))
        if request.user.is_active and request.user.is_superuser:
            return qs
        codes = people_selectors.area_codes_visible_to(request.user)
        if not codes:
            return qs.none()
        # A directive is visible when one of its areas lies inside, or contains, one of
        # the user's areas (a grid worker sees the street-wide directive their grid is in).
        inside = Q()
        for code in codes:
            inside |= Q(areas__code__startswith=code)
        own_tasks = Q(tasks__in=task_list_visible_to(request.user).values("pk"))
        ids = Directive.objects.filter(inside | own_tasks).values("pk")
        return qs.filter(pk__in=ids)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Directive._meta.fields] + ["areas"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser) or bool(
            people_selectors.user_memberships(user)
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("tasks"), ordering="task_count")
    def task_total(self, obj: Directive) -> int:
        return obj.task_count  # type: ignore[attr-defined,no-any-return]
