"""Middleware shared by the whole project."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header


class ClientLanguageMiddleware:
    """Machine interfaces speak the client's language (its ``Accept-Language`` header).

    Django's ``LocaleMiddleware`` gives every path outside ``i18n_patterns`` the default
    ``LANGUAGE_CODE`` when the default language is not prefixed, whatever the client
    asks for. The paths starting with one of ``GRIDGOV_CLIENT_LANGUAGE_PATHS`` (the REST
    API and Open311) are not pages a user navigates with a language switch: there the
    language is the header's best match among ``LANGUAGES`` (else the default), and the
    response varies on ``Accept-Language``. Place it right after ``LocaleMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefixes = tuple(settings.GRIDGOV_CLIENT_LANGUAGE_PATHS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(self.prefixes):
            return self.get_response(request)
        header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
        language = settings.LANGUAGE_CODE
        for code, _quality in parse_accept_lang_header(header):
            if code == "*":
                break
            try:
                language = translation.get_supported_language_variant(code)
                break
            except LookupError:
                continue
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response


class NulCharacter(SuspiciousOperation):
    """A request carried a NUL character (U+0000), which no text field may hold
    (PostgreSQL refuses it in text columns; Django's form fields refuse it too)."""


def text_has_nul(value: Any) -> bool:
    """Whether ``value`` — a string, or lists and dicts of them (keys included) — holds a
    NUL character anywhere."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(text_has_nul(k) or text_has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(text_has_nul(v) for v in value)
    return False


class RejectNulMiddleware:
    """Refuse a request whose path, query string or form fields hold a NUL character.

    It raises ``NulCharacter`` (a ``SuspiciousOperation``), which Django answers with
    ``handler400`` (``gridgov.views.bad_request``: the API's envelope, Open311's error
    list, or the 400 page) — before any view could pass the character on to the database.
    JSON bodies of the API are checked by its parser (``gridgov.api.v1``).
    """

    FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info or text_has_nul(dict(request.GET.lists())):
            raise NulCharacter("NUL character in the URL")
        form = request.method == "POST" and request.content_type in self.FORMS
        if form and text_has_nul(dict(request.POST.lists())):
            raise NulCharacter("NUL character in a form field")
        return self.get_response(request)
