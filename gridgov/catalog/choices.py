"""Vocabularies owned by the catalogue: target kinds, priorities and form-field types.

Resident tags and place kinds come from ``gridgov.people.choices``, handler roles from
``gridgov.people.choices.Role`` and time-limit units from ``gridgov.core.choices``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TargetKind(models.TextChoices):
    """What a rule's tasks are about: one task per grid, per tagged household, per place."""

    GRID = "grid", _("Each grid")
    HOUSEHOLD = "household", _("Each household with a resident tag")
    PLACE = "place", _("Each place of a kind")
    NONE = "none", _("No target (created on demand)")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class FormFieldType(models.TextChoices):
    """Types of the questions a worker answers when submitting a task."""

    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    BOOLEAN = "boolean", _("Yes / no")
    CHOICE = "choice", _("Choice")
    DATE = "date", _("Date")
