"""Input bounds shared by forms, commands and services."""

from __future__ import annotations

import datetime as dt

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
