"""People: staff memberships scoped to areas, departments, households, residents, places,
and the audit of unmasked personal-data reads.

Staff are Django's ``auth.User``; what they may see and do follows from their
``Membership`` rows (role × area) and the tables in ``gridgov.people.rules``. Personal
fields are stored in plain text (the database is the trust boundary) and shown masked
everywhere (``__str__`` included); ``gridgov.people.services.personal_data_reveal`` is the
one way to read them unmasked, and it writes a ``PersonalDataAccess`` row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridgov.core.models import TimeStampedModel
from gridgov.people.choices import PersonalDataSubject, PlaceKind, ResidentTag, Role, Sex
from gridgov.people.masking import mask_address, mask_name
from gridgov.people.validators import validate_national_id_field, validate_phone_field


class Department(TimeStampedModel):
    """A functional department (职能部门) that handles cases beyond a grid's reach.

    ``area`` is the area it serves (usually the street); its handlers are users with a
    ``department_handler`` membership naming it.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area served"),
        on_delete=models.PROTECT,
        related_name="departments",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Membership(TimeStampedModel):
    """A staff user's role in an area (and everything inside it, by code prefix).

    Which role fits which area level is in ``rules.ROLE_LEVELS``; a department handler's
    membership names its department and lies inside the department's area.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["area__code", "role", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "area", "role"], name="membership_unique_user_area_role"
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
            models.CheckConstraint(
                condition=(
                    Q(role=Role.DEPARTMENT_HANDLER, department__isnull=False)
                    | (~Q(role=Role.DEPARTMENT_HANDLER) & Q(department__isnull=True))
                ),
                name="membership_department_iff_handler",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.area}"


class Household(TimeStampedModel):
    """A household (户): an address, an optional location, the grid or micro-grid it is in.

    ``lon``/``lat`` are WGS84 degrees; when set, ``area`` is the deepest area containing
    them (a micro-grid where there is one), else the grid the household was given.
    ``away_until`` marks a household known to be away (IoT rules may stay quiet until then).
    """

    address = models.CharField(_("address"), max_length=200)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="households",
    )
    phone = models.CharField(
        _("phone"), max_length=20, blank=True, validators=[validate_phone_field]
    )
    away_until = models.DateField(_("away until"), null=True, blank=True)
    ref = models.CharField(
        _("external reference"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("The source system's own id, so that legacy ids still join."),
    )

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["area__code", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lon__isnull=True, lat__isnull=True)
                | Q(lon__gte=-180, lon__lte=180, lat__gte=-90, lat__lte=90),
                name="household_location_valid",
            ),
        ]

    def __str__(self) -> str:
        return mask_address(self.address) or f"#{self.pk}"


class Resident(TimeStampedModel):
    """A resident (居民) of a household, with tags for the key groups they belong to."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.CASCADE,
        related_name="residents",
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    national_id = models.CharField(
        _("national ID number"),
        max_length=18,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_national_id_field],
        help_text=_("18 characters, GB 11643-1999; leave empty if unknown."),
    )
    phone = models.CharField(
        _("phone"), max_length=20, blank=True, validators=[validate_phone_field]
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, blank=True)
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=50, blank=True)
    emergency_contact_phone = models.CharField(
        _("emergency contact phone"),
        max_length=20,
        blank=True,
        validators=[validate_phone_field],
    )

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household_id", "id"]

    def __str__(self) -> str:
        return f"{mask_name(self.name)} (#{self.pk})"

    @property
    def tags(self) -> list[str]:
        """The resident's tag values (use ``prefetch_related("tag_assignments")``)."""
        return sorted(t.tag for t in self.tag_assignments.all())


class ResidentTagAssignment(models.Model):
    """One tag on one resident. A table rather than a JSON list, so that "households with
    a resident tagged X in area Y" is an indexed join on SQLite and PostgreSQL alike."""

    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        on_delete=models.CASCADE,
        related_name="tag_assignments",
    )
    tag = models.CharField(_("tag"), max_length=32, choices=ResidentTag.choices)

    class Meta:
        verbose_name = _("resident tag")
        verbose_name_plural = _("resident tags")
        constraints = [
            models.UniqueConstraint(fields=["resident", "tag"], name="resident_tag_unique"),
            models.CheckConstraint(
                condition=Q(tag__in=ResidentTag.values), name="resident_tag_valid"
            ),
        ]
        indexes = [models.Index(fields=["tag", "resident"])]

    def __str__(self) -> str:
        return f"{self.resident} · {self.get_tag_display()}"


class Place(TimeStampedModel):
    """A place (场所) watched by the grid: a shop, a rental flat, a small venue…"""

    kind = models.CharField(_("kind"), max_length=32, choices=PlaceKind.choices)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="places",
    )
    contact_phone = models.CharField(
        _("contact phone"), max_length=20, blank=True, validators=[validate_phone_field]
    )
    ref = models.CharField(
        _("external reference"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("The source system's own id, so that legacy ids still join."),
    )

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["area__code", "kind", "name"]
        indexes = [models.Index(fields=["kind", "area"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PlaceKind.values), name="place_kind_valid"),
            models.CheckConstraint(
                condition=Q(lon__isnull=True, lat__isnull=True)
                | Q(lon__gte=-180, lon__lte=180, lat__gte=-90, lat__lte=90),
                name="place_location_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class PersonalDataAccess(models.Model):
    """One read of unmasked personal data: who, when, which record, which fields, why.

    Append-only: written by ``services.personal_data_reveal`` and never changed. The
    subject is kept as kind + id even if the record is later deleted; ``area`` is the
    subject's area at the time, so that supervisors can see the reads in their areas.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="personal_data_accesses",
    )
    accessed_at = models.DateTimeField(_("accessed at"), default=timezone.now, db_index=True)
    subject_kind = models.CharField(
        _("record kind"), max_length=16, choices=PersonalDataSubject.choices
    )
    subject_id = models.BigIntegerField(_("record id"))
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    place = models.ForeignKey(
        Place,
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200)
    context = models.CharField(
        _("context"),
        max_length=64,
        blank=True,
        help_text=_("Where the read came from, e.g. admin, api, task:123."),
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-accessed_at", "-id"]
        indexes = [models.Index(fields=["subject_kind", "subject_id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject_kind__in=PersonalDataSubject.values),
                name="personal_data_access_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(purpose=""), name="personal_data_access_purpose_required"
            ),
        ]

    def __str__(self) -> str:
        when = f"{self.accessed_at:%Y-%m-%d %H:%M}"
        return f"{self.user} · {self.subject_kind}#{self.subject_id} · {when}"
