"""Schemas and input types shared by every router of the API.

Inputs use the constrained types below so that anything a database would choke on (a NUL
character, an integer beyond 64 bits, a naive or out-of-range date) is refused at the door
with ``422 validation_failed`` instead of surfacing as a server error.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, TypeVar

from django.db.models import QuerySet
from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints

T = TypeVar("T")

#: The largest page a list endpoint returns.
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
#: Offsets beyond this are refused (no list is that long; databases overflow at 2**63).
MAX_OFFSET = 10_000_000


def _aware(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if not 1970 <= value.year <= 9998:
        raise ValueError("the year must be between 1970 and 9998")
    return value


#: A free text input. The characters no text may hold (NUL and the other controls,
#: ``core.validators.FORBIDDEN_CHARACTERS_RE``) never get this far: the API's JSON
#: parser and the middleware refuse them. A plain ``str``, so that length constraints
#: on it speak of characters ("String should have at most 200 characters").
Text = str
#: An area code: 6 to 18 digits (see ``gridgov.areas.models.CODE_LENGTH``).
AreaCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6,18}$")]
#: A catalogue code: 2, 4 or 6 digits.
CatalogCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,6}$")]
#: A database id.
Id = Annotated[int, Field(ge=1, le=2**53)]
#: A timezone-aware moment (naive input is read in the server's ``TIME_ZONE``).
Moment = Annotated[dt.datetime, AfterValidator(_aware)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
#: The optional ``Idempotency-Key`` header: a client-chosen string, one per intended action.
IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[!-~]+$")
]


class ErrorDetail(Schema):
    code: str = Field(description="Stable machine-readable code, e.g. state_conflict.")
    message: str = Field(description="For people, in the request's language.")
    details: Any = Field(None, description="Structured context, e.g. the invalid fields.")


class ErrorOut(Schema):
    """The one error envelope every error response carries."""

    error: ErrorDetail


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Rows to skip.")


class Page(Schema, Generic[T]):
    count: int = Field(description="Rows matching the filters, over all pages.")
    limit: int
    offset: int
    items: list[T]


def paginate(qs: QuerySet[Any], page: PageParams) -> dict[str, Any]:
    """Return one page of ``qs`` as ``{"count", "limit", "offset", "items"}``."""
    return {
        "count": qs.count(),
        "limit": page.limit,
        "offset": page.offset,
        "items": list(qs[page.offset : page.offset + page.limit]),
    }
