"""The area tree: district → street → community → grid → micro-grid.

Codes are hierarchical: each level appends digits to its parent's code (GB/T 2260 for the
district's 6 digits, the statistical division code for street and community, CJ/T 349-2010 /
Beijing practice for the 3-digit grid and micro-grid sequences). A descendant's code starts
with its ancestor's, so "everything inside area X" is ``code__startswith=X.code``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gridgov.core.models import TimeStampedModel


class AreaLevel(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")
    MICRO_GRID = "micro_grid", _("Micro-grid")


#: Code length in digits of each level, and each level's parent level.
CODE_LENGTH: dict[str, int] = {
    AreaLevel.DISTRICT: 6,
    AreaLevel.STREET: 9,
    AreaLevel.COMMUNITY: 12,
    AreaLevel.GRID: 15,
    AreaLevel.MICRO_GRID: 18,
}
PARENT_LEVEL: dict[str, str | None] = {
    AreaLevel.DISTRICT: None,
    AreaLevel.STREET: AreaLevel.DISTRICT,
    AreaLevel.COMMUNITY: AreaLevel.STREET,
    AreaLevel.GRID: AreaLevel.COMMUNITY,
    AreaLevel.MICRO_GRID: AreaLevel.GRID,
}
#: Depth of each level, 0 for the district.
LEVEL_DEPTH: dict[str, int] = {level: depth for depth, level in enumerate(CODE_LENGTH)}


class Area(TimeStampedModel):
    """One node of the area tree, with an optional GeoJSON boundary.

    ``boundary`` is a GeoJSON geometry (Polygon or MultiPolygon) in WGS84, coordinates in
    (lon, lat) order; ``min_lon``…``max_lat`` are its bounding box. ``valid_from`` /
    ``valid_to`` (dates, ``valid_to`` exclusive, ``None`` = open) bound when the area is in
    force: a redrawn grid gets ``valid_to`` and its successor a new code.
    """

    code = models.CharField(_("code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    ref = models.CharField(
        _("external reference"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("The source system's own id, so that legacy ids still join."),
    )
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    min_lon = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lon = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["level", "code"]),
            models.Index(fields=["min_lon", "max_lon", "min_lat", "max_lat"]),
            # MAX(updated_at) is part of the locate index's change signature (see index.py).
            models.Index(fields=["updated_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__in=AreaLevel.values), name="area_level_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gt=models.F("valid_from")),
                name="area_valid_to_after_valid_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self.level]


class AreaTreeVersion(models.Model):
    """One row whose ``version`` every area service bumps in the same transaction.

    The point → area index of each process (web server, worker, CLI) compares it, with the
    area count and latest ``updated_at``, to the values it was built from, and rebuilds when
    they differ: a cheap cross-process change signal (see ``docs/areas.md``).
    """

    version = models.BigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("area tree version")
        verbose_name_plural = _("area tree versions")

    def __str__(self) -> str:
        return str(self.version)
