"""Vocabularies shared across apps."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeLimitUnit(models.TextChoices):
    """Units of a time limit (处置时限); see ``gridgov.core.calendar`` for the arithmetic.

    - ``urgent_hour``: start + N hours, round the clock.
    - ``work_hour``: N hours counted only inside working hours on working days.
    - ``work_day``: end of working hours of the Nth working day after the start day.
    - ``natural_day``: start + N × 24 hours.
    """

    URGENT_HOUR = "urgent_hour", _("urgent hours")
    WORK_HOUR = "work_hour", _("working hours")
    WORK_DAY = "work_day", _("working days")
    NATURAL_DAY = "natural_day", _("natural days")
