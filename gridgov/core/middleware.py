"""Middleware shared by the whole project."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

from gridgov.core.validators import character_name, data_forbidden_character


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


class ControlCharacter(SuspiciousOperation):
    """A request carried a character no text may hold
    (``gridgov.core.validators.FORBIDDEN_CHARACTERS_RE``: NUL and the other control
    characters but TAB, LF and CR, DEL, lone surrogates, U+FFFE, U+FFFF)."""


#: The former name, from when only NUL was refused.
NulCharacter = ControlCharacter


class RejectControlCharactersMiddleware:
    """Refuse a request whose path, query string or form fields (names and values) hold
    a character of ``gridgov.core.validators.FORBIDDEN_CHARACTERS_RE``.

    It raises ``ControlCharacter`` (a ``SuspiciousOperation``), which Django answers with
    ``handler400`` (``gridgov.views.bad_request``: the API's envelope, Open311's error
    list, or the 400 page) — before any view could store the character or write it into
    an export. TAB, LF and CR pass (a textarea's lines). JSON and XML bodies are checked
    by their parsers (``gridgov.api.v1.GridgovParser``,
    ``gridgov.open311.formats.post_read``); uploaded files are not text and not checked.
    """

    FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = data_forbidden_character(request.path_info) or data_forbidden_character(
            dict(request.GET.lists())
        )
        if found:
            raise ControlCharacter(f"{character_name(found[1])} in the URL")
        form = request.method == "POST" and request.content_type in self.FORMS
        if form and (found := data_forbidden_character(dict(request.POST.lists()))):
            raise ControlCharacter(f"{character_name(found[1])} in form field {found[0]!r}")
        return self.get_response(request)


#: The name ``settings.MIDDLEWARE`` uses.
RejectNulMiddleware = RejectControlCharactersMiddleware
