"""``{% iot_nav_link %}``: the "Alarms" link of the top bar (for the manager roles), with
the number of open critical alarms in the user's areas."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from gridgov.iot.selectors import alarm_list_visible_to

register = template.Library()


@register.simple_tag(takes_context=True)
def iot_nav_link(context: Any) -> SafeString:
    request = context.get("request")
    if request is None:
        return mark_safe("")
    current = getattr(request, "resolver_match", None)
    here = current is not None and current.namespace == "iot"
    critical = alarm_list_visible_to(request.user).filter(severity="critical").count()
    badge = format_html(' <span class="badge badge-red">{}</span>', critical) if critical else ""
    return format_html(
        '<a href="{}"{}>{}{}</a>',
        reverse("iot:alarms"),
        mark_safe(' aria-current="page"') if here else "",
        _("Alarms"),
        badge,
    )


@register.simple_tag(takes_context=True)
def iot_open_alarm_count(context: Any) -> int | None:
    """The number of open (active or acknowledged) alarms in the user's areas, for the
    managers' home; ``None`` without a request."""
    request = context.get("request")
    if request is None:
        return None
    return alarm_list_visible_to(request.user).count()
