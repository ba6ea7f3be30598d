"""Reads of the API app."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from gridgov.api.models import ApiToken
from gridgov.core.errors import NotFound, ValidationFailed


def api_token_list(*, user: Any | None = None) -> QuerySet[ApiToken]:
    """Return tokens (newest first), only ``user``'s when given."""
    qs = ApiToken.objects.select_related("user")
    return qs if user is None else qs.filter(user=user)


def api_token_get(*, ref: str) -> ApiToken:
    """Return the token whose id or prefix is ``ref``.

    ``ref``: the numeric id, or the clear prefix (``ggv_…``, as listed). Raises
    ``NotFound`` when none matches and ``ValidationFailed`` when a prefix matches several.
    """
    query = Q(prefix=ref)
    if ref.isdigit():
        query |= Q(pk=int(ref))
    matches = list(ApiToken.objects.select_related("user").filter(query)[:2])
    if not matches:
        raise NotFound(_("no API token has id or prefix %(ref)s") % {"ref": ref})
    if len(matches) > 1:
        raise ValidationFailed(
            _("several API tokens match %(ref)s; give the token's id") % {"ref": ref}
        )
    return matches[0]
