"""Masks for personal data: what everyone sees unless they reveal a value.

The formats follow common Chinese government practice (and GB/T 35273-2020 §A on
de-identification by partial masking):

- national ID: first 4 and last 4 characters shown — ``3301**********1234``;
- phone: mobile ``138****5678`` (first 3, last 4); landline keeps its area code and the
  last 4 digits — ``0571-****1234``;
- name: surname and, for 3+ characters, the last character — ``王*华``, ``王*``,
  ``欧**华``;
- address: kept up to the building and unit (幢/栋/号楼/座/单元); what follows (the flat)
  becomes ``***``; an address without a building keeps everything but its last number,
  whose digits become ``*`` (``大关路**号``);
- birth date: the year only — ``1950-**-**``.
"""

from __future__ import annotations

import datetime as dt
import re

MASK = "*"

_BUILDING_RE = re.compile(r"(幢|栋|号楼|座|单元)")
_LAST_NUMBER_RE = re.compile(r"\d+(?=\D*$)")


def mask_national_id(value: str) -> str:
    """Mask a national ID number: keep the first 4 and last 4 characters.

    ``"330106199001011234"`` → ``"3301**********1234"``; values of 8 characters or fewer
    are masked whole; ``""`` stays ``""``.
    """
    if not value:
        return ""
    if len(value) <= 8:
        return MASK * len(value)
    return value[:4] + MASK * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """Mask a phone number: ``13812345678`` → ``138****5678``, ``0571-88001234`` →
    ``0571-****1234``; short values are masked whole; ``""`` stays ``""``."""
    if not value:
        return ""
    if "-" in value:
        area, _sep, local = value.partition("-")
        return f"{area}-{mask_phone_local(local)}"
    if len(value) < 8:
        return MASK * len(value)
    return value[:3] + MASK * (len(value) - 7) + value[-4:]


def mask_phone_local(local: str) -> str:
    """Mask a local number but its last 4 digits: ``88001234`` → ``****1234``."""
    if len(local) <= 4:
        return MASK * len(local)
    return MASK * (len(local) - 4) + local[-4:]


def mask_name(value: str) -> str:
    """Mask a person's name: ``王小华`` → ``王*华``, ``王华`` → ``王*``, ``欧阳明华`` →
    ``欧**华``; a one-character name → ``*``; ``""`` stays ``""``."""
    name = value.strip()
    if not name:
        return ""
    if len(name) == 1:
        return MASK
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]


def mask_address(value: str) -> str:
    """Mask an address: keep the compound and building, hide the flat.

    ``古荡新村12幢3单元502室`` → ``古荡新村12幢3单元***``; ``大关路15号`` → ``大关路**号``;
    an address with neither a building nor a number is returned as is.
    """
    if not value:
        return ""
    markers = list(_BUILDING_RE.finditer(value))
    if markers:
        end = markers[-1].end()
        rest = value[end:]
        return value[:end] + ("***" if rest.strip() else "")
    if m := _LAST_NUMBER_RE.search(value):
        return value[: m.start()] + MASK * len(m.group()) + value[m.end() :]
    return value


def mask_birth_date(value: dt.date | None) -> str:
    """Mask a birth date to its year: ``1950-03-07`` → ``1950-**-**``; ``None`` → ``""``."""
    if value is None:
        return ""
    return f"{value.year:04d}-**-**"
