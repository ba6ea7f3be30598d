"""Shared model pieces."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Abstract base: ``created_at`` / ``updated_at`` (timezone-aware, stored in UTC)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class CalendarSource(models.TextChoices):
    """Where a row of the working calendar came from."""

    PACKAGE = "package", _("chinesecalendar package")
    MANUAL = "manual", _("entered by hand")


class CalendarYear(TimeStampedModel):
    """A year whose official holiday arrangement the working calendar knows.

    A year without a row here is "unknown": the calendar counts Monday–Friday as working
    days for it (plus any ``CalendarDay`` rows already entered) and warns. The State
    Council's General Office publishes each year's arrangement (国务院办公厅关于××年部分节假日
    安排的通知), usually in November or December of the year before.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(
        _("source"), max_length=16, choices=CalendarSource.choices, default=CalendarSource.MANUAL
    )
    note = models.CharField(
        _("note"),
        max_length=200,
        blank=True,
        help_text=_("E.g. the notice the year's holidays come from."),
    )

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source__in=CalendarSource.values),
                name="calendaryear_source_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(year__gte=1900, year__lte=9999),
                name="calendaryear_year_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(TimeStampedModel):
    """One date whose status differs from the Monday–Friday week.

    Rows are the exceptions: a public holiday falling on a weekday (``is_working_day`` false)
    or a weekend day worked in exchange (调休上班, ``is_working_day`` true). A row restating
    the ordinary status (a holiday on a Sunday) is allowed and harmless: a row always states
    the day's status. Rows with ``source = manual`` are never overwritten by
    ``gridgov calendar sync``.
    """

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("The holiday, e.g. 春节 or 国庆节.")
    )
    source = models.CharField(
        _("source"), max_length=16, choices=CalendarSource.choices, default=CalendarSource.MANUAL
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source__in=CalendarSource.values),
                name="calendarday_source_valid",
            ),
        ]

    def __str__(self) -> str:
        status = _("working day") if self.is_working_day else _("day off")
        label = f"{self.date.isoformat()} {status}"
        return f"{label} ({self.name})" if self.name else label

    @property
    def year(self) -> int:
        return self.date.year
