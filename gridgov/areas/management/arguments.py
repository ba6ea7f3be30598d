"""Argument types shared by the areas commands."""

from __future__ import annotations

import argparse
import datetime as dt

from django.utils.translation import gettext as _


def date_argument(value: str) -> dt.date:
    """Parse a YYYY-MM-DD command-line date; argparse shows the error on failure."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _("%(value)r is not a date (YYYY-MM-DD)") % {"value": value}
        ) from exc
