"""Residents' reports: Open311 clients' api keys, one ``ServiceRequest`` per report (the
resident's side of a ``resident_report`` task) and the resident page's SMS codes.

A report's public number is its task's number (``YYYYMMDD-NNNNNN``), the Open311
``service_request_id``. Only the SHA-256 of an api key or an SMS code is stored.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from gridgov.catalog.models import TaskType
from gridgov.core.models import TimeStampedModel


class Service(TaskType):
    """A task type seen as an Open311 service: whether residents may report it
    (``public``) and what they are asked (``report_fields``). A proxy: the data stays on
    the catalogue's ``TaskType``; this gives the admin its own page for it."""

    class Meta:
        proxy = True
        verbose_name = _("Open311 service")
        verbose_name_plural = _("Open311 services")


class ApiKey(TimeStampedModel):
    """One Open311 client's key (FixMyStreet, a city app, a script), revocable.

    ``key_hash`` is the hex SHA-256 of the whole key; ``prefix`` its first characters in
    clear, so that a person can tell keys apart. Created in the admin or with
    ``gridgov open311-key create``; the key itself is shown once.
    """

    name = models.CharField(
        _("client"), max_length=100, help_text=_("Who uses the key, e.g. a city app.")
    )
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True, editable=False)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Open311 api key")
        verbose_name_plural = _("Open311 api keys")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(Exact(Length("key_hash"), 64)), name="open311_apikey_hash_sha256_hex"
            ),
            # One live key per client; revoked keys stay as history, so a client's key
            # is rotated by revoking it and creating a new one under the same name.
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(revoked_at__isnull=True),
                name="open311_apikey_one_live_key_per_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Channel(models.TextChoices):
    OPEN311 = "open311", _("Open311 client")
    RESIDENT_PAGE = "resident_page", _("Resident page")


class ServiceRequest(TimeStampedModel):
    """A resident's report as received: who sent it, how to reach them, the answers to the
    service's attributes and the media URL. The work itself is ``task``.

    ``phone``, ``email`` and names are personal data: shown masked outside the admin's
    change page, never in the public timeline or the Open311 answers.
    """

    task = models.OneToOneField(
        "tasks.Task",
        verbose_name=_("task"),
        on_delete=models.PROTECT,
        related_name="service_request",
    )
    token = models.CharField(_("token"), max_length=40, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    api_key = models.ForeignKey(
        ApiKey,
        verbose_name=_("api key"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    address_string = models.CharField(_("address"), max_length=400, blank=True)
    address_id = models.CharField(_("address id"), max_length=100, blank=True)
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    account_id = models.CharField(_("account id"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["phone"], name="open311_request_phone_idx")]

    def __str__(self) -> str:
        return self.task.number if self.task_id else self.token


class SmsCode(models.Model):
    """A verification code sent to a phone by the resident page (hash only, one use)."""

    phone = models.CharField(_("phone"), max_length=32, db_index=True)
    code_hash = models.CharField(_("code hash (SHA-256)"), max_length=64)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} @ {self.created_at:%Y-%m-%d %H:%M}"
