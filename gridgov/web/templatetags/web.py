"""Template tags of the web pages: the top bar's facts about the signed-in user."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from gridgov.notifications.selectors import notification_unread_count
from gridgov.people.selectors import user_holds_role
from gridgov.tasks.choices import TaskState
from gridgov.tasks.selectors import task_list_visible_to
from gridgov.tasks.services import DISPATCHER_ROLES
from gridgov.web.selectors import user_has_task_list, user_is_grid_worker, user_role_labels

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
def web_has_task_list(user: Any) -> bool:
    """Whether the user's home is a today list (grid worker, department handler)."""
    return user_has_task_list(user)


@register.simple_tag
def web_unread(user: Any) -> int:
    """How many of the user's notifications are unread (for the inbox badge)."""
    return notification_unread_count(user)


@register.simple_tag
def web_is_manager(user: Any) -> bool:
    """Whether the user sees the manager pages (command centre, community admin, grid
    leader; ``tasks.services.DISPATCHER_ROLES``)."""
    return user_holds_role(user, DISPATCHER_ROLES)


@register.simple_tag
def web_verify_count(user: Any) -> int:
    """How many handled tasks in the user's areas wait for the check (the queue's badge)."""
    return task_list_visible_to(user, state=TaskState.HANDLED).count()


@register.simple_tag
def web_dashboard_url() -> str:
    """The analytics dashboard's address, or "" while that app is not installed."""
    try:
        return reverse("analytics:dashboard")
    except NoReverseMatch:
        return ""


@register.filter
def web_unprefixed(path: str) -> str:
    """``path`` without its language prefix (``/en/inbox/?a=1`` → ``/inbox/?a=1``), for the
    ``next`` field of the language switch. Django's ``set_language`` translates ``next``
    by resolving it in the active language, which on ``/i18n/setlang/`` is the default
    one (``prefix_default_language=False``): ``/en/…`` does not resolve there and the
    switch back to Chinese stayed on English. An unprefixed path resolves and is
    translated to the chosen language."""
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if path.startswith(prefix):
            return path[len(prefix) - 1 :]
    return path
