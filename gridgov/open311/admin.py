"""Admin of residents' reports: Open311 clients' api keys (add shows the key once;
revoke, never delete) and the received reports (read-only, contact data masked)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from gridgov.open311.models import ApiKey, Service, ServiceRequest
from gridgov.open311.services import api_key_create, api_key_revoke
from gridgov.people.masking import mask_name, mask_phone


class SuperuserOnly:
    """Only superusers see these models; rows are never deleted."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ["name", "prefix", "contact", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "contact"]
    fields = ["name", "contact", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, "name"] if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        """A new key is made by ``api_key_create``; the raw key is shown once."""
        if change:
            super().save_model(request, obj, form, change)
            return
        created, raw = api_key_create(name=obj.name, contact=obj.contact)
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if k != "_state"})
        obj._state.adding = False
        obj._state.db = created._state.db
        self.message_user(
            request,
            _("The key of %(client)s is %(key)s — copy it now: it is not shown again.")
            % {"client": created.name, "key": raw},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            api_key_revoke(api_key=key)
        self.message_user(
            request,
            ngettext("%(n)d key revoked.", "%(n)d keys revoked.", len(keys)) % {"n": len(keys)},
            messages.SUCCESS,
        )


@admin.register(Service)
class ServiceAdmin(SuperuserOnly, admin.ModelAdmin):
    """Which task types residents may report and what they are asked (the service
    definition); the rest of a task type is edited in the catalogue."""

    list_display = ["code", "name_zh", "name_en", "category", "public", "field_count"]
    list_filter = ["public", "category"]
    list_editable = ["public"]
    search_fields = ["code", "name_zh", "name_en"]
    list_select_related = ["category"]
    fields = [
        "code",
        "name_zh",
        "name_en",
        "filing_standard_zh",
        "filing_standard_en",
        "public",
        "report_fields",
    ]
    readonly_fields = ["code", "name_zh", "name_en", "filing_standard_zh", "filing_standard_en"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    @admin.display(description=_("report fields"))
    def field_count(self, obj: Service) -> int:
        return len(obj.report_fields or [])


@admin.register(ServiceRequest)
class ServiceRequestAdmin(SuperuserOnly, admin.ModelAdmin):
    """Read-only: a report changes through its task, never here."""

    list_display = ["task", "channel", "api_key", "masked_phone", "created_at"]
    list_filter = ["channel", "api_key"]
    search_fields = ["task__number"]
    list_select_related = ["task", "api_key"]
    fields = READ_ONLY = (
        "task",
        "channel",
        "api_key",
        "attributes",
        "address_string",
        "media_url",
        "masked_phone",
        "masked_name",
        "created_at",
    )
    readonly_fields = READ_ONLY

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: ServiceRequest) -> str:
        return mask_phone(obj.phone)

    @admin.display(description=pgettext_lazy("person", "name"))
    def masked_name(self, obj: ServiceRequest) -> str:
        return mask_name(f"{obj.last_name}{obj.first_name}")
