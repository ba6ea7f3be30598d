"""One application error hierarchy.

Services raise these; interfaces render them (the CLI as a message and exit code, the API
later as one JSON envelope ``{"error": {"code", "message", "details"}}``).
"""

from __future__ import annotations

from typing import Any


class GridgovError(Exception):
    """Base of every error gridgov raises on purpose.

    ``code`` is a stable machine-readable string; ``message`` is for people (translated
    where it reaches the UI); ``details`` carries structured context (e.g. per-row errors).
    """

    code = "error"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class ValidationFailed(GridgovError):
    """Input is malformed or violates a rule; nothing was changed."""

    code = "validation_failed"


class NotFound(GridgovError):
    """The object does not exist (or is outside the actor's areas)."""

    code = "not_found"


class PermissionDenied(GridgovError):
    """The actor's role or areas do not allow this."""

    code = "permission_denied"


class Conflict(GridgovError):
    """The object's state changed under us (e.g. a lost compare-and-set)."""

    code = "conflict"
