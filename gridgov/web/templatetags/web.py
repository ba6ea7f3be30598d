"""Template tags of the web pages: the top bar's facts about the signed-in user."""

from __future__ import annotations

from typing import Any

from django import template

from gridgov.notifications.selectors import notification_unread_count
from gridgov.web.selectors import user_is_grid_worker, user_role_labels

register = template.Library()


@register.simple_tag
def web_roles(user: Any) -> str:
    """The user's roles, joined for display ("Grid worker · Grid leader")."""
    return " · ".join(str(label) for label in user_role_labels(user))


@register.simple_tag
def web_is_grid_worker(user: Any) -> bool:
    """Whether the user's navigation is the grid worker's."""
    return user_is_grid_worker(user)


@register.simple_tag
def web_unread(user: Any) -> int:
    """How many of the user's notifications are unread (for the inbox badge)."""
    return notification_unread_count(user)
