"""Validation of national ID numbers and phone numbers.

- National ID (公民身份号码): GB 11643-1999. 18 characters: a 6-digit address code
  (GB/T 2260 region), an 8-digit birth date YYYYMMDD, a 3-digit sequence (odd for men,
  even for women) and a check character computed by ISO 7064:1983 MOD 11-2 over the
  first 17 digits (``X`` stands for 10).
- Phones: a mainland mobile number ``1[3-9]`` + 9 digits (the MIIT numbering plan's
  mobile ranges), optionally written with ``+86``; or a landline, a long-distance area
  code (3 digits for 010 and 02x, 4 for the rest) + a 7–8 digit local number starting
  2–9 (normalised ``0571-88001234``), or a bare 7–8 digit local number.

Each checker returns the normalised value or raises ``ValidationFailed`` naming the input;
``*_field`` wrappers raise Django's ``ValidationError`` for model and form fields.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed
from gridgov.people.choices import Sex

# ISO 7064 MOD 11-2: weight of position i (1-based from the left, 17 digits) is
# 2^(18-i) mod 11; the check value is (12 - sum mod 11) mod 11, 10 written as "X".
_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CHECK_CHARS = "10X98765432"  # indexed by (sum mod 11)

# First two digits of GB/T 2260 codes: provinces, plus 71 (Taiwan), 81/82 (Hong Kong,
# Macao) and 83 (Taiwan residents' residence permits).
_PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)
_EARLIEST_BIRTH = dt.date(1890, 1, 1)

_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# Area codes: 010 and 02x have 3 digits, all others 4 (the national long-distance plan).
_LANDLINE_RE = re.compile(r"(0[12]\d|0[3-9]\d{2})-?([2-9]\d{6,7})")
_LOCAL_RE = re.compile(r"[2-9]\d{6,7}")


@dataclass(frozen=True)
class NationalId:
    """The parts of a valid 18-character national ID number."""

    number: str
    region_code: str
    birth_date: dt.date
    sequence: str
    sex: str


def national_id_check_char(first17: str) -> str:
    """Return the GB 11643-1999 check character for 17 digits (ISO 7064 MOD 11-2).

    ``first17``: the first 17 digits of the number. Returns one of ``0-9`` or ``X``.
    Raises ``ValueError`` if ``first17`` is not 17 digits.
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_national_id(value: str, *, today: dt.date | None = None) -> NationalId:
    """Check a national ID number and return its parts (GB 11643-1999).

    ``value``: the number; spaces are stripped and a final ``x`` is upper-cased.
    ``today``: the date a birth date may not be after (default: today).
    Raises ``ValidationFailed`` with a message that names the number and the problem:
    length, non-digits, unknown province, impossible or future birth date, check character.
    """
    number = value.strip().replace(" ", "").upper()
    if len(number) != 18:
        raise ValidationFailed(
            _("National ID number %(value)s must have 18 characters, not %(n)d.")
            % {"value": value, "n": len(number)}
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationFailed(
            _("National ID number %(value)s must be 17 digits followed by a digit or X.")
            % {"value": value}
        )
    if number[:2] not in _PROVINCE_PREFIXES:
        raise ValidationFailed(
            _("National ID number %(value)s starts with an unknown region code %(code)s.")
            % {"value": value, "code": number[:6]}
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    today = today or timezone.localdate()
    if birth is None or not (_EARLIEST_BIRTH <= birth <= today):
        raise ValidationFailed(
            _("National ID number %(value)s contains an impossible birth date %(date)s.")
            % {"value": value, "date": number[6:14]}
        )
    expected = national_id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationFailed(
            _(
                "National ID number %(value)s has a wrong check character: "
                "expected %(expected)s, got %(got)s."
            )
            % {"value": value, "expected": expected, "got": number[17]}
        )
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return NationalId(
        number=number,
        region_code=number[:6],
        birth_date=birth,
        sequence=number[14:17],
        sex=sex,
    )


def normalize_phone(value: str) -> str:
    """Check a phone number and return it normalised.

    Accepts a mainland mobile (``1[3-9]`` + 9 digits, with an optional ``+86``/``86``
    prefix, spaces and hyphens ignored) → 11 digits; a landline with area code
    (``0571-88001234``, ``057188001234``) → ``0571-88001234``; a local 7–8 digit number
    → as is. Raises ``ValidationFailed`` naming the input otherwise.
    """
    raw = value.strip()
    compact = re.sub(r"[\s()]", "", raw)
    digits_only = compact.replace("-", "")
    mobile = re.sub(r"-", "", compact)
    if mobile.startswith("+86"):
        mobile = mobile[3:]
    elif mobile.startswith("86") and len(mobile) == 13:
        mobile = mobile[2:]
    if _MOBILE_RE.fullmatch(mobile):
        return mobile
    if m := _LANDLINE_RE.fullmatch(digits_only):
        return f"{m.group(1)}-{m.group(2)}"
    if _LOCAL_RE.fullmatch(compact):
        return compact
    raise ValidationFailed(
        _(
            "Phone number %(value)s is neither a mainland mobile number (11 digits "
            "starting 13–19) nor a landline (0 + area code + 7–8 digits)."
        )
        % {"value": value}
    )


def validate_national_id_field(value: str) -> None:
    """Django field validator wrapping :func:`parse_national_id`."""
    if value:
        try:
            parse_national_id(value)
        except ValidationFailed as exc:
            raise ValidationError(exc.message, code="invalid_national_id") from exc


def validate_phone_field(value: str) -> None:
    """Django field validator wrapping :func:`normalize_phone`."""
    if value:
        try:
            normalize_phone(value)
        except ValidationFailed as exc:
            raise ValidationError(exc.message, code="invalid_phone") from exc
