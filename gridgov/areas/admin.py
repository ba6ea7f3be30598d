"""Admin for the area tree: a thin caller of the area services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgov.areas.geometry import boundary_clean
from gridgov.areas.models import Area
from gridgov.areas.selectors import area_valid_q
from gridgov.areas.services import (
    area_create,
    area_delete,
    area_update,
    area_update_validate,
    area_validate,
)
from gridgov.core.errors import GridgovError
from gridgov.people.admin_access import ScopedAdmin
from gridgov.people.choices import Role


class ValidityFilter(admin.SimpleListFilter):
    """Filter areas by validity today (``valid_to`` exclusive)."""

    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("valid", _("Valid today")),
            ("retired", _("Retired")),
            ("future", _("Not yet valid")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Area]) -> QuerySet[Area]:
        today = timezone.localdate()
        if self.value() == "valid":
            return queryset.filter(area_valid_q(today))
        if self.value() == "retired":
            return queryset.filter(valid_to__lte=today)
        if self.value() == "future":
            return queryset.filter(Q(valid_from__gt=today))
        return queryset


class AreaForm(forms.ModelForm):
    """Checks through the services' validation, so bad input is a form error, not a 500."""

    class Meta:
        model = Area
        fields = ["code", "name", "level", "parent", "ref", "boundary", "valid_from", "valid_to"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        boundary = data.get("boundary")
        if boundary is not None:
            try:
                boundary_clean(boundary)
            except GridgovError as exc:
                self.add_error("boundary", exc.message)
        try:
            if self.instance.pk is None:
                area_validate(
                    code=data.get("code") or "",
                    name=data.get("name") or "",
                    level=data.get("level") or "",
                    parent=data.get("parent"),
                    boundary=boundary,
                    ref=data.get("ref") or "",
                    valid_from=data.get("valid_from"),
                    valid_to=data.get("valid_to"),
                )
            else:
                area_update_validate(
                    area=Area.objects.get(pk=self.instance.pk),
                    boundary=boundary,
                    name=data.get("name") or "",
                    ref=data.get("ref") or "",
                    valid_from=data.get("valid_from"),
                    valid_to=data.get("valid_to"),
                )
        except GridgovError as exc:
            self.add_error(None, exc.message)
        return data


@admin.register(Area)
class AreaAdmin(ScopedAdmin):
    """Areas, scoped like every other admin: each staff member sees the areas inside their
    own; the command centre edits inside its street; only superusers delete."""

    area_field = ""  # the row is the area itself
    write_roles = frozenset({Role.COMMAND_CENTRE})
    form = AreaForm
    list_display = ["code", "name", "level", "parent", "ref", "valid_from", "valid_to"]
    list_filter = ["level", ValidityFilter]
    search_fields = ["code", "name", "ref"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["min_lon", "min_lat", "max_lon", "max_lat", "created_at", "updated_at"]
    list_select_related = ["parent"]
    ordering = ["code"]
    fieldsets = [
        (None, {"fields": ["code", "name", "level", "parent", "ref"]}),
        (_("Validity"), {"fields": ["valid_from", "valid_to"]}),
        (
            _("Boundary"),
            {
                "fields": ["boundary", ("min_lon", "min_lat", "max_lon", "max_lat")],
                "description": _(
                    "GeoJSON Polygon or MultiPolygon in WGS84, coordinates as [longitude, "
                    "latitude]. The bounding box is computed when you save."
                ),
            },
        ),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "parent":
            kwargs["queryset"] = self.writable_areas(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Area | None = None) -> list[str]:
        # Code, level and parent are the area's identity: a redrawn grid gets a new code.
        identity = ["code", "level", "parent"] if obj is not None else []
        return [*identity, *self.readonly_fields]

    def save_model(
        self, request: HttpRequest, obj: Area, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            saved = area_update(
                area=Area.objects.get(pk=obj.pk),
                boundary=data.get("boundary"),
                name=data.get("name") or "",
                ref=data.get("ref") or "",
                valid_from=data.get("valid_from"),
                valid_to=data.get("valid_to"),
            )
        else:
            saved = area_create(
                code=data["code"],
                name=data["name"],
                level=data["level"],
                parent=data.get("parent"),
                boundary=data.get("boundary"),
                ref=data.get("ref") or "",
                valid_from=data.get("valid_from"),
                valid_to=data.get("valid_to"),
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: Area) -> None:
        try:
            area_delete(area=obj)
        except GridgovError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Area]) -> None:
        # Deepest first, so that a selected parent and its children can go together.
        for area in sorted(queryset, key=lambda a: -len(a.code)):
            self.delete_model(request, area)
