"""Template filters of the people app: ``{% load people %}``."""

from __future__ import annotations

from typing import Any

from django import template

from gridgov.people.names import user_display_name

register = template.Library()


@register.filter
def display_name(user: Any) -> str:
    """``{{ task.assignee|display_name }}``: see ``gridgov.people.names.user_display_name``."""
    return user_display_name(user)
