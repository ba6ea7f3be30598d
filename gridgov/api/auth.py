"""How API callers prove who they are.

- **Bearer token** (phones, scripts): ``Authorization: Bearer ggv_…``; see
  ``services.api_token_authenticate``.
- **Session** (the web pages): Django's login cookie; unsafe methods (POST…) must carry
  the CSRF token (``X-CSRFToken`` header), as Django's own forms do.

A request with neither gets ``401 not_authenticated``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from gridgov.api.services import api_token_authenticate
from gridgov.core.errors import PermissionDenied


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a token from ``gridgov api-token create``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = api_token_authenticate(raw=token.strip())
        if user is not None:
            # Views and selectors read ``request.user`` whatever the credential.
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """Django's session cookie, with the CSRF check on unsafe methods.

    Unlike Ninja's ``SessionAuth`` the CSRF check runs only for a logged-in session, so an
    anonymous request gets 401 (not a CSRF 403) and a token request is never affected.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not getattr(request, "user", None) or not request.user.is_authenticated:
            return None
        if self.csrf and check_csrf(request):
            raise PermissionDenied(
                _("CSRF check failed: send the X-CSRFToken header with a session request."),
                code="csrf_failed",
            )
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        return request.user if key is not None and request.user.is_authenticated else None
