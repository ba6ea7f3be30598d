"""The one error envelope of the API, and the one place errors are mapped to it.

Every error the API returns — ours (``gridgov.core.errors``), Ninja's (validation, bad
JSON, authentication), Django's (404, 403) and any unexpected exception — is rendered as::

    {"error": {"code": "<stable machine code>", "message": "<for people>", "details": …}}

with the status from ``STATUS_BY_ERROR``. Unexpected exceptions are logged with their
traceback and answered ``500 server_error`` without one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from gridgov.core.errors import (
    Conflict,
    GridgovError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

logger = logging.getLogger("gridgov.api")

#: HTTP status of each application error (most specific class first wins by MRO).
STATUS_BY_ERROR: dict[type[GridgovError], int] = {
    GridgovError: 400,
    ValidationFailed: 422,
    NotFound: 404,
    PermissionDenied: 403,
    Conflict: 409,
}
#: Machine codes for statuses raised by Ninja or Django rather than by our services.
CODE_BY_STATUS: dict[int, str] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_failed",
    429: "throttled",
    500: "server_error",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Return the envelope ``{"error": {"code", "message", "details"}}``."""
    return {"error": {"code": code, "message": str(message), "details": details}}


def error_response(status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    """Return the envelope as a JSON response with ``status``."""
    return JsonResponse(
        error_body(code, message, details), status=status, json_dumps_params={"ensure_ascii": False}
    )


def _status_for(exc: GridgovError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 400


def _handle_gridgov(request: HttpRequest, exc: GridgovError) -> HttpResponse:
    return error_response(_status_for(exc), exc.code, exc.message, exc.details)


def _clean_validation_error(error: dict[str, Any]) -> dict[str, Any]:
    """Keep what a client needs of a pydantic error: where, what, which kind."""
    return {
        "loc": [str(part) for part in error.get("loc", ())],
        "msg": str(error.get("msg", "")),
        "type": str(error.get("type", "")),
    }


def _handle_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return error_response(
        422,
        "validation_failed",
        _("The request is not valid: see details."),
        [_clean_validation_error(e) for e in exc.errors],
    )


def _handle_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        401,
        "not_authenticated",
        _("Authentication required: send a bearer token, or log in."),
    )
    response["WWW-Authenticate"] = 'Bearer realm="gridgov"'
    return response


_HTTP_MESSAGES: dict[int, Callable[[], str]] = {
    400: lambda: _("The request body could not be parsed (malformed JSON or form)."),
    403: lambda: _("You are not allowed to do this."),
    404: lambda: _("Not found."),
    405: lambda: _("Method not allowed."),
    429: lambda: _("Too many requests; try again later."),
}


def _handle_http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, GridgovError):  # e.g. the body parser's refusal
        return _handle_gridgov(request, exc.__cause__)
    status = exc.status_code
    message = _HTTP_MESSAGES.get(status, lambda: str(exc))()
    return error_response(status, CODE_BY_STATUS.get(status, "http_error"), message)


def _handle_404(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(404, "not_found", _("Not found."))


def _handle_django_403(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(403, "permission_denied", _("You are not allowed to do this."))


def _handle_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The traceback goes to the log, never to the client.
    logger.exception("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return error_response(
        500, "server_error", _("An unexpected error occurred; it has been logged.")
    )


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace Ninja's default exception handlers of ``api`` by the envelope's."""
    handlers: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
        (Exception, _handle_unexpected),
        (GridgovError, _handle_gridgov),
        (NinjaValidationError, _handle_validation),
        (HttpError, _handle_http),
        (AuthenticationError, _handle_authentication),
        (Http404, _handle_404),
        (DjangoPermissionDenied, _handle_django_403),
    ]
    for exc_class, handler in handlers:
        # Ninja looks handlers up by the exception's MRO: the most specific class wins.
        api.add_exception_handler(exc_class, cast(Any, handler))


def envelope_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a Ninja path view so that its bare 405 answer becomes the envelope.

    Ninja answers a method no operation of a path accepts with Django's plain
    ``HttpResponseNotAllowed`` before any exception handler runs; this keeps its
    ``Allow`` header and replaces the body.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allow = response.get("Allow", "")
            response = error_response(
                405,
                "method_not_allowed",
                _("Method %(method)s is not allowed here; allowed: %(allow)s.")
                % {"method": request.method, "allow": allow},
                {"allowed": [m.strip() for m in allow.split(",") if m.strip()]},
            )
            response["Allow"] = allow
        return response

    return wrapper


def not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Answer any unknown URL under the API with the 404 envelope."""
    return error_response(
        404, "not_found", _("No API endpoint at %(path)s.") % {"path": request.path}
    )


not_found_view.csrf_exempt = True  # type: ignore[attr-defined]
