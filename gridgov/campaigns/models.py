"""Remediation campaigns (整治行动): batches of assignment slips (交办单).

A ``Campaign`` is one batch: issued together, with one deadline, optionally part of a
month's "三个一" cycle (one assignment, one rectification, one ranking each month). Each
``AssignmentSlip`` is one item of the batch — a place or a location, a problem, a photo —
and becomes one ``tasks.Task`` of source ``campaign`` (source key ``campaign:<slip id>``)
that goes through the inspect → supervise → rectify → verify loop (查督改验) of the one
task life cycle. See docs/campaigns.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.core.models import TimeStampedModel


class Campaign(TimeStampedModel):
    """One batch of assignment slips issued together with one deadline.

    ``area`` is the smallest area containing every slip (usually the street or a
    community): who may see the batch. ``month`` is the first day of the month of the
    "三个一" cycle the batch belongs to, or ``None`` for a batch outside the cycle.
    """

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    task_type = models.ForeignKey(
        "catalog.TaskType", verbose_name=_("task type"), on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="campaigns"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"))
    deadline = models.DateTimeField(_("deadline"))
    month = models.DateField(
        _("month"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("The month of the monthly cycle (its first day); empty outside the cycle."),
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("issued_at")),
                name="campaign_deadline_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return self.title


def slip_photo_path(instance: AssignmentSlip, filename: str) -> str:
    return f"campaigns/{instance.campaign_id}/{filename}"


class AssignmentSlip(TimeStampedModel):
    """One item of a batch (交办单): where, what is wrong, a photo, and the task it became.

    ``area`` is the grid the slip was routed to (the place's grid, or the grid containing
    the location). ``lon``/``lat`` are WGS84 degrees. ``number`` counts from 1 within the
    batch. ``task`` is set in the same transaction that creates the slip.
    """

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="slips"
    )
    number = models.PositiveIntegerField(_("number"))
    place = models.ForeignKey(
        "people.Place",
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignment_slips",
    )
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    problem = models.TextField(_("problem"))
    photo = models.FileField(_("photo"), upload_to=slip_photo_path, max_length=255)
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="assignment_slips",
    )
    task = models.OneToOneField(
        "tasks.Task",
        verbose_name=_("task"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignment_slip",
    )

    class Meta:
        verbose_name = _("assignment slip")
        verbose_name_plural = _("assignment slips")
        ordering = ["campaign_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "number"], name="assignment_slip_number_unique"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="assignment_slip_number_gte_1"),
            models.CheckConstraint(
                condition=Q(lon__isnull=True, lat__isnull=True)
                | Q(lon__gte=-180, lon__lte=180, lat__gte=-90, lat__lte=90),
                name="assignment_slip_location_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} #{self.number}"
