"""API tokens: bearer credentials for phones and scripts.

Only the SHA-256 hash of a token is stored; the token itself is shown once, when it is
created (``gridgov api-token create``). A revoked token stays as a row (who had it, when it
was last used) but no longer authenticates.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from gridgov.core.models import TimeStampedModel


class ApiToken(TimeStampedModel):
    """One bearer token of one user.

    ``key_hash`` is the hex SHA-256 of the whole token; ``prefix`` is its first characters,
    kept in clear so that a person can tell their tokens apart and revoke the right one.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("What the token is for, e.g. a phone.")
    )
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True, editable=False)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(Exact(Length("key_hash"), 64)), name="apitoken_key_hash_sha256_hex"
            ),
        ]

    def __str__(self) -> str:
        label = f"{self.prefix}… ({self.user})"
        return f"{self.name}: {label}" if self.name else label

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
