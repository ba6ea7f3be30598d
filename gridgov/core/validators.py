"""Input bounds shared by forms, commands and services."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gridgov.core.errors import ValidationFailed

#: Dates and times outside these years are refused wherever they enter: nothing in
#: gridgov happens before the Unix epoch, and 9999 leaves no room for the day after the
#: last one of a period (Python's ``datetime`` ends with year 9999). The API's schemas
#: (``gridgov.api.schemas``) apply the same bounds.
YEAR_MIN, YEAR_MAX = 1970, 9998
#: The largest database id accepted from a client (JavaScript's safe integer).
ID_MAX = 2**53

_MESSAGE = _("The year must be between %(min)d and %(max)d.")


def year_in_range(value: dt.date) -> bool:
    """Whether the year of ``value`` (a date or datetime) lies in ``YEAR_MIN…YEAR_MAX``."""
    return YEAR_MIN <= value.year <= YEAR_MAX


def year_check(value: dt.date, *, name: str = "") -> None:
    """Raise ``ValidationFailed`` (with ``details={name: value}``) when the year of
    ``value`` is outside ``YEAR_MIN…YEAR_MAX``."""
    if not year_in_range(value):
        message = str(_MESSAGE) % {"min": YEAR_MIN, "max": YEAR_MAX}
        raise ValidationFailed(
            f"{name}: {message}" if name else message,
            details={name or "date": value.isoformat()},
        )


def validate_year(value: dt.date) -> None:
    """A Django validator: ``ValidationError`` outside ``YEAR_MIN…YEAR_MAX``."""
    if not year_in_range(value):
        raise ValidationError(_MESSAGE, code="year", params={"min": YEAR_MIN, "max": YEAR_MAX})


class DateField(forms.DateField):
    """``forms.DateField`` refusing years outside ``YEAR_MIN…YEAR_MAX``."""

    default_validators = [validate_year]


# --- characters no text may hold -------------------------------------------------------------

#: The one definition of the characters refused in every text gridgov accepts and removed
#: from every document it writes: the C0 controls but TAB, LF and CR (U+0000–U+0008,
#: U+000B, U+000C, U+000E–U+001F), DEL (U+007F), lone surrogates (U+D800–U+DFFF, which
#: UTF-8 cannot encode) and the non-characters U+FFFE and U+FFFF. Sources: PostgreSQL
#: refuses NUL in text; XML 1.0 (§2.2 ``Char``) forbids the C0 controls but TAB, LF, CR,
#: the surrogates, U+FFFE and U+FFFF, so a stored one would make every XML answer
#: (Open311, xlsx) ill-formed; DEL is invisible and means nothing in text. TAB, LF and CR
#: stay allowed: multi-line text (a description) needs them.
FORBIDDEN_CHARACTERS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

_CONTROL_MESSAGE = _("The text holds a control character (%(character)s), which is not allowed.")


def character_name(character: str) -> str:
    """``character`` as ``U+XXXX`` (for messages)."""
    return f"U+{ord(character):04X}"


def text_forbidden_character(value: str) -> str | None:
    """The first character of ``FORBIDDEN_CHARACTERS_RE`` in ``value``, or ``None``."""
    found = FORBIDDEN_CHARACTERS_RE.search(value)
    return found.group() if found else None


def data_forbidden_character(value: Any, where: str = "") -> tuple[str, str] | None:
    """Search ``value`` — a string, or dicts, lists and tuples of them, keys included —
    for a character of ``FORBIDDEN_CHARACTERS_RE``. Return ``(where, character)`` for the
    first one, ``where`` the dotted path to it (``attribute.colour``, ``items.2``; empty
    for ``value`` itself), or ``None``. Other types (numbers, booleans, ``None``) are clean."""
    if isinstance(value, str):
        character = text_forbidden_character(value)
        return None if character is None else (where, character)
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{where}.{key}" if where else str(key)
            found = data_forbidden_character(key, path) or data_forbidden_character(child, path)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, child in enumerate(value):
            found = data_forbidden_character(child, f"{where}.{index}" if where else str(index))
            if found:
                return found
    return None


def text_without_forbidden(value: str) -> str:
    """``value`` with every character of ``FORBIDDEN_CHARACTERS_RE`` removed — for
    writers of documents that cannot hold them (XML), as defence for values stored before
    the input checks existed."""
    return FORBIDDEN_CHARACTERS_RE.sub("", value)


def control_character_message(character: str) -> str:
    """The message (in the active language) saying ``character`` is not allowed."""
    return str(_CONTROL_MESSAGE) % {"character": character_name(character)}


def validate_text(value: str) -> None:
    """A Django validator: ``ValidationError`` (code ``control_character``) when
    ``value`` holds a character of ``FORBIDDEN_CHARACTERS_RE``."""
    character = text_forbidden_character(value)
    if character is not None:
        raise ValidationError(
            _CONTROL_MESSAGE,
            code="control_character",
            params={"character": character_name(character)},
        )
