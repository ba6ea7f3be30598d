"""Template tags of the manager pages' navigation."""

from __future__ import annotations

from typing import Any

from django import template
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

register = template.Library()

#: The admin changelists the top bar links to: (label, app label, model name).
ADMIN_LINKS: tuple[tuple[Any, str, str], ...] = (
    (_("Areas"), "areas", "area"),
    (_("People and roles"), "people", "membership"),
    (_("Catalogue"), "catalog", "tasktype"),
)


@register.simple_tag(takes_context=True)
def manage_admin_links(context: Any) -> list[tuple[str, str]]:
    """Return ``[(label, url)]`` of the area, people-and-roles and catalogue changelists
    the signed-in user may view in the admin (staff, and the model admin's own
    ``has_view_permission``, which scopes by the user's roles); no query for a user who is
    not staff."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not (getattr(user, "is_active", False) and getattr(user, "is_staff", False)):
        return []
    links = []
    for label, app_label, model_name in ADMIN_LINKS:
        model = apps.get_model(app_label, model_name)
        model_admin = admin.site._registry.get(model)
        if model_admin is None or not model_admin.has_view_permission(request):
            continue
        links.append((str(label), reverse(f"admin:{app_label}_{model_name}_changelist")))
    return links
