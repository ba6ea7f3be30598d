"""Admin of the digital family: devices and alarms follow the user's areas (through the
household); rule settings are street-wide reference data (a household's overrides only
inside the user's areas); the ingestion log is read-only."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gridgov.iot.models import Alarm, AlarmEvent, AlarmRule, Device, IngestCounter, IngestReject
from gridgov.iot.services import device_token_hash
from gridgov.notifications.admin import ReadOnlyMixin
from gridgov.people.admin_access import ReferenceDataAdmin, ScopedAdmin
from gridgov.people.models import Household
from gridgov.people.selectors import scope_queryset


class HouseholdChoicesMixin:
    """Offer only the households of areas the user may write in."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "household":
            kwargs["queryset"] = scope_queryset(
                Household.objects.select_related("area"),
                request.user,
                area_field="area",
                roles=self.write_roles,  # type: ignore[attr-defined]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


@admin.register(Device)
class DeviceAdmin(HouseholdChoicesMixin, ScopedAdmin):
    area_field = "household__area"
    list_display = ("serial", "kind", "household", "battery_pct", "last_measured_at", "active")
    list_filter = ("kind", "active")
    search_fields = ("serial",)
    fields = ("household", "kind", "serial", "firmware", "active", "battery_pct", "last_seen",
              "last_measured_at")  # fmt: skip
    readonly_fields = ("battery_pct", "last_seen", "last_measured_at")
    list_select_related = ("household",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fixed = ("household", "kind", "serial") if obj is not None else ()
        return (*self.readonly_fields, *fixed)

    def save_model(self, request: HttpRequest, obj: Device, form: Any, change: bool) -> None:
        if not change:
            token = secrets.token_urlsafe(32)
            obj.token_hash = device_token_hash(token)
            super().save_model(request, obj, form, change)
            messages.warning(
                request,
                _("Device token (shown once, give it to the installer): %(token)s")
                % {"token": token},
            )
            return
        super().save_model(request, obj, form, change)


class AlarmEventInline(admin.TabularInline):
    model = AlarmEvent
    extra = 0
    fields = ("at", "action", "actor", "note", "data")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alarm)
class AlarmAdmin(ScopedAdmin):
    """Alarms are changed through their services (the board), never edited here."""

    area_field = "household__area"
    list_display = ("id", "rule", "severity", "state", "count", "device", "first_at", "last_at",
                    "outcome", "task")  # fmt: skip
    list_filter = ("state", "severity", "rule", "outcome")
    search_fields = ("device__serial",)
    list_select_related = ("device", "task")
    inlines = [AlarmEventInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in Alarm._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AlarmRule)
class AlarmRuleAdmin(HouseholdChoicesMixin, ReferenceDataAdmin):
    list_display = ("rule", "household", "enabled", "threshold", "window_hours", "severity", "note")
    list_filter = ("rule", "enabled")
    write_roles = ReferenceDataAdmin.change_roles

    def get_queryset(self, request: HttpRequest) -> QuerySet[AlarmRule]:
        """The defaults (no household) for everyone; a household's overrides only inside
        the user's areas (another street's households are not listed, nor opened)."""
        households = scope_queryset(Household.objects.all(), request.user, area_field="area")
        return (
            super()
            .get_queryset(request)
            .filter(Q(household__isnull=True) | Q(household__in=households))
            .select_related("household")
        )


class ReadOnlyLogAdmin(ReadOnlyMixin, ReferenceDataAdmin):
    """The ingestion log: read by every staff member with a role, written by ingestion."""


@admin.register(IngestCounter)
class IngestCounterAdmin(ReadOnlyLogAdmin):
    list_display = ("day", "channel", "outcome", "count")
    list_filter = ("channel", "outcome")


@admin.register(IngestReject)
class IngestRejectAdmin(ReadOnlyLogAdmin):
    list_display = ("at", "channel", "serial", "message_id", "reason", "detail")
    list_filter = ("reason", "channel")
    search_fields = ("serial",)
