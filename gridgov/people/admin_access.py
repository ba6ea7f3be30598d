"""How the admin decides who may see and change what: memberships, not Django's model
permissions, so that every staff member's admin follows their areas and roles.

- ``ScopedAdmin``: rows that belong to an area (households, areas themselves…). Reading
  needs a membership over the row's area; adding and changing need one of ``write_roles``
  over it; deleting is for superusers.
- ``ReferenceDataAdmin``: street-wide reference data (the catalogue, the calendar). Every
  staff member with a role reads it; superusers and ``change_roles`` (the command centre)
  change it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from gridgov.areas.models import Area
from gridgov.people import selectors
from gridgov.people.choices import Role
from gridgov.people.rules import WRITE_ROLES


def _is_superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


class ScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose rows, permissions and FK choices follow the user's areas.

    ``area_field``: the lookup path to the row's ``Area``. Reading needs any membership
    over the row; adding and changing need a role of ``write_roles`` over it; deleting
    is for superusers (records are retired through the services, not deleted).
    """

    area_field = "area"
    write_roles: frozenset[str] = WRITE_ROLES

    def row_area(self, obj: Any) -> Area:
        if not self.area_field:  # the row is an Area itself
            return obj
        for part in self.area_field.split("__"):
            obj = getattr(obj, part)
        return obj

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        return selectors.scope_queryset(qs, request.user, area_field=self.area_field)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request) or bool(selectors.user_memberships(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return selectors.user_can_access_area(request.user, self.row_area(obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return selectors.user_holds_role(request.user, self.write_roles)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return selectors.user_holds_role(request.user, self.write_roles)
        return selectors.user_can_access_area(
            request.user, self.row_area(obj), roles=self.write_roles
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_superuser(request)

    def writable_areas(self, request: HttpRequest) -> QuerySet[Area]:
        return selectors.scope_queryset(
            Area.objects.all(), request.user, area_field="", roles=self.write_roles
        )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        # A fresh class per call: safe to carry the request's user.
        form.actor = request.user  # type: ignore[attr-defined]
        return form


class ReferenceDataPermissions:
    """Permissions of street-wide reference data, for a ModelAdmin or an inline: read by
    every staff member with a role, changed by superusers and holders of ``change_roles``."""

    change_roles: frozenset[str] = frozenset({Role.COMMAND_CENTRE})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request) or bool(selectors.user_memberships(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def _may_change(self, request: HttpRequest) -> bool:
        return _is_superuser(request) or selectors.user_holds_role(request.user, self.change_roles)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._may_change(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_change(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_change(request)


class ReferenceDataAdmin(ReferenceDataPermissions, admin.ModelAdmin):
    """A ModelAdmin for street-wide reference data (see ``ReferenceDataPermissions``)."""
