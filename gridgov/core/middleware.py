"""Middleware shared by the whole project."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
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
