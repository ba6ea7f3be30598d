"""Template tags of the resident pages."""

from __future__ import annotations

from django import template

from gridgov.open311.selectors import STATUS_LABELS

register = template.Library()


@register.simple_tag
def open311_status_label(status: str) -> str:
    """What a resident reads for an Open311 status (``STATUS_LABELS``)."""
    return str(STATUS_LABELS.get(status, status))
