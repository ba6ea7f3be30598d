"""Writes of the API app: creating, using and revoking API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.api.models import ApiToken
from gridgov.core.errors import Conflict, ValidationFailed

#: Tokens read ``ggv_`` + 43 URL-safe characters (32 random bytes): the prefix tells a
#: secret scanner, and a person, what the string is.
TOKEN_SCHEME = "ggv_"  # noqa: S105 - a public prefix, not a secret
PREFIX_LENGTH = 12
#: ``last_used_at`` is written at most once per this interval, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def token_hash(raw: str) -> str:
    """Return the hex SHA-256 of a raw token (what ``ApiToken.key_hash`` stores)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(*, user: Any, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for ``user``; return the row and the raw token (shown once).

    ``user``: an active ``auth.User``; ``name``: a label of up to 100 characters.
    Only the SHA-256 of the raw token is stored. Raises ``ValidationFailed`` for an
    inactive user or a name too long.
    """
    if not user.is_active:
        raise ValidationFailed(
            _("user %(username)s is inactive; activate them first") % {"username": user}
        )
    name = name.strip()
    if len(name) > 100:
        raise ValidationFailed(_("a token name has at most 100 characters"))
    raw = TOKEN_SCHEME + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:PREFIX_LENGTH], key_hash=token_hash(raw)
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, now: dt.datetime | None = None) -> ApiToken:
    """Revoke ``token`` so that it no longer authenticates; return it.

    Raises ``Conflict`` (code ``already_revoked``) when it was revoked before.
    """
    now = now or timezone.now()
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, updated_at=now
    )
    if not changed:
        raise Conflict(
            _("token %(prefix)s… is already revoked") % {"prefix": token.prefix},
            code="already_revoked",
        )
    token.refresh_from_db()
    return token


def api_token_authenticate(*, raw: str, now: dt.datetime | None = None) -> Any | None:
    """Return the active user a raw bearer token belongs to, or ``None``.

    ``None`` for an unknown, malformed or revoked token, and for an inactive user. Records
    ``last_used_at`` (at most once per ``LAST_USED_RESOLUTION``, with one conditional
    ``UPDATE`` so that concurrent requests do not pile up writes).
    """
    if not raw.startswith(TOKEN_SCHEME) or len(raw) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).exclude(
            last_used_at__gt=now - LAST_USED_RESOLUTION
        ).update(last_used_at=now)
    return token.user
