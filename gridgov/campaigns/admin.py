"""Admin for campaigns and their assignment slips.

Batches are issued through ``services.campaign_issue`` (all slips and their tasks in one
transaction), so the admin neither adds nor deletes them: it lists, searches and shows
them, and lets the issuers over a batch's whole area correct its title and description. A batch
is visible to whoever sees one of its slips. A slip's work is
done on its task (the tasks admin and the API).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from gridgov.campaigns.models import AssignmentSlip, Campaign
from gridgov.campaigns.services import CAMPAIGN_ISSUER_ROLES
from gridgov.people.admin_access import ScopedAdmin
from gridgov.people.selectors import scope_queryset

_SLIP_FIELDS = (
    "number",
    "area",
    "place",
    "address",
    "problem",
    "photo",
    "task",
    "task_state",
)


def _task_state(obj: AssignmentSlip) -> str:
    return str(obj.task.get_state_display()) if obj.task_id and obj.task else "—"


class AssignmentSlipInline(admin.TabularInline):
    model = AssignmentSlip
    extra = 0
    can_delete = False
    show_change_link = True
    fields = _SLIP_FIELDS
    readonly_fields = _SLIP_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[AssignmentSlip]:
        qs = super().get_queryset(request).select_related("area", "place", "task")
        return scope_queryset(qs, request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The rows are scoped by ``get_queryset``; whoever sees the batch sees its slips.
        return True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("task state"))
    def task_state(self, obj: AssignmentSlip) -> str:
        return _task_state(obj)


@admin.register(Campaign)
class CampaignAdmin(ScopedAdmin):
    write_roles = CAMPAIGN_ISSUER_ROLES
    list_display = ["title", "month", "area", "issued_at", "deadline", "issued_by", "task_type"]
    list_filter = ["month", "task_type"]
    search_fields = ["title", "description", "area__name", "area__code"]
    list_select_related = ["area", "issued_by", "task_type"]
    date_hierarchy = "issued_at"
    readonly_fields = ("task_type", "area", "issued_by", "issued_at", "deadline", "month")
    fields = ("title", "description", *readonly_fields)
    inlines = [AssignmentSlipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        # A batch is visible to whoever sees one of its slips (a community admin sees the
        # street's batch, and inline only their community's slips).
        slips = scope_queryset(AssignmentSlip.objects.all(), request.user)
        return (
            admin.ModelAdmin.get_queryset(self, request)
            .filter(pk__in=slips.values("campaign_id"))
            .select_related("area", "issued_by", "task_type")
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AssignmentSlip)
class AssignmentSlipAdmin(ScopedAdmin):
    write_roles = CAMPAIGN_ISSUER_ROLES
    list_display = ["__str__", "number", "campaign", "area", "place", "task_link", "task_state"]
    list_filter = ["campaign__month", "task__state", "campaign"]
    search_fields = ["problem", "address", "campaign__title", "area__name", "place__name"]
    list_select_related = ["campaign", "area", "place", "task"]
    readonly_fields = ("campaign", "lon", "lat", *_SLIP_FIELDS)
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("task"), ordering="task__number")
    def task_link(self, obj: AssignmentSlip) -> str:
        if not obj.task_id or not obj.task:
            return "—"
        try:
            url = reverse("admin:tasks_task_change", args=[obj.task_id])
        except NoReverseMatch:  # the tasks admin is not registered
            return obj.task.number
        return format_html('<a href="{}">{}</a>', url, obj.task.number)

    @admin.display(description=_("task state"), ordering="task__state")
    def task_state(self, obj: AssignmentSlip) -> str:
        return _task_state(obj)
