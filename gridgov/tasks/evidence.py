"""Evidence checks for feedback (回单): photos, the check-in location and form answers.

Pure functions: they read the uploaded bytes and the rule, collect every problem as a
``Problem`` (field + message), and never touch the database. ``task_submit_feedback``
raises one ``ValidationFailed`` listing them all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from gridgov.catalog.choices import FormFieldType

__all__ = [
    "EARTH_RADIUS_M",
    "PHOTO_MAX_BYTES",
    "PHOTO_TYPES",
    "CheckedPhoto",
    "Problem",
    "answers_check",
    "checkin_check",
    "haversine_m",
    "photo_sniff",
    "photos_check",
]

#: Largest photo accepted, in bytes (10 MiB): a phone's full-resolution JPEG is 2–6 MB.
PHOTO_MAX_BYTES = 10 * 1024 * 1024
#: Accepted photo types: content type → label.
PHOTO_TYPES: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/heic": "HEIC",
}
#: Declared content types that mean the same as a detected one.
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/heif": "image/heic"}
#: ISO BMFF brands of HEIF/HEIC still images (ISO/IEC 23008-12, Annex B).
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
#: Mean Earth radius R1 of the IUGG (Moritz, Geodetic Reference System 1980), metres.
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the evidence: ``field`` (``photos[0]``, ``location``,
    ``answers.health``…) and a translated ``message``."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass(frozen=True)
class CheckedPhoto:
    """A photo that passed: the upload, its detected content type, size and SHA-256."""

    upload: UploadedFile
    content_type: str
    size: int
    sha256: str


def photo_sniff(head: bytes) -> str | None:
    """Return the content type the first bytes of a file show, or ``None``.

    Magic numbers: JPEG ``FF D8 FF`` (ITU-T T.81 SOI marker), PNG's 8-byte signature
    (RFC 2083 §12.12), WebP ``RIFF····WEBP`` (RFC 9649), HEIC an ISO BMFF ``ftyp`` box at
    offset 4 with a HEIF brand (ISO/IEC 23008-12). ``head``: at least 12 bytes.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def photos_check(
    photos: Sequence[UploadedFile], *, min_photos: int
) -> tuple[list[CheckedPhoto], list[Problem]]:
    """Check the photos of a feedback: count, type by magic number, size.

    ``photos``: uploaded files (``UploadedFile``: ``name``, ``size``, ``content_type``,
    ``read``); ``min_photos``: the rule's minimum. Each must be a JPEG, PNG, WebP or HEIC
    by its bytes (the declared content type, if any, must agree) and 1 byte to
    ``PHOTO_MAX_BYTES`` long. Returns the photos that passed (detected type, size in bytes,
    SHA-256) and the problems.
    """
    checked: list[CheckedPhoto] = []
    problems: list[Problem] = []
    if len(photos) < min_photos:
        problems.append(
            Problem(
                "photos",
                _("At least %(min)d photo(s) are required; %(n)d given.")
                % {"min": min_photos, "n": len(photos)},
            )
        )
    for index, upload in enumerate(photos):
        where = f"photos[{index}]"
        name = getattr(upload, "name", "") or where
        size = upload.size or 0
        if size > PHOTO_MAX_BYTES:
            problems.append(
                Problem(
                    where,
                    _("%(name)s is %(mb).1f MB; the limit is %(max)d MB.")
                    % {"name": name, "mb": size / 1024 / 1024, "max": PHOTO_MAX_BYTES // 2**20},
                )
            )
            continue
        if size == 0:
            problems.append(Problem(where, _("%(name)s is empty.") % {"name": name}))
            continue
        upload.seek(0)
        head = upload.read(16)
        detected = photo_sniff(head)
        if detected is None:
            problems.append(
                Problem(
                    where,
                    _("%(name)s is not a JPEG, PNG, WebP or HEIC image.") % {"name": name},
                )
            )
            continue
        declared = (getattr(upload, "content_type", "") or "").lower()
        declared = _ALIASES.get(declared, declared)
        if declared and declared not in ("application/octet-stream", detected):
            problems.append(
                Problem(
                    where,
                    _("%(name)s is declared as %(declared)s but its content is %(actual)s.")
                    % {"name": name, "declared": declared, "actual": PHOTO_TYPES[detected]},
                )
            )
            continue
        digest = hashlib.sha256()
        upload.seek(0)
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        checked.append(CheckedPhoto(upload, detected, size, digest.hexdigest()))
    return checked, problems


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the great-circle distance in metres between two WGS84 points (lon, lat order).

    The haversine formula on a sphere of radius ``EARTH_RADIUS_M`` (the IUGG mean radius);
    the error against the WGS84 ellipsoid is below 0.5%, a metre at the 200 m scale of a
    check-in.
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlam = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def checkin_check(
    *,
    radius_m: int | None,
    lon: float | None,
    lat: float | None,
    target: tuple[float, float] | None,
) -> tuple[float | None, list[Problem]]:
    """Check the worker's location against the target's (a check-in, 打卡).

    ``radius_m``: the rule's ``checkin_radius_m`` (``None``: no check-in required);
    ``lon``/``lat``: where the worker says they are (WGS84); ``target``: (lon, lat) of the
    household, place or task, or ``None`` when unknown (then only a location is required).
    Returns the great-circle (haversine) distance in metres (``None`` if not computed)
    and the problems. A location, when given, must be valid degrees even without a rule.
    """
    problems: list[Problem] = []
    if (lon is None) != (lat is None):
        return None, [Problem("location", _("Give both longitude and latitude, or neither."))]
    if lon is not None and lat is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None, [
            Problem(
                "location",
                _("(%(lon)s, %(lat)s) is not a WGS84 longitude, latitude.")
                % {"lon": lon, "lat": lat},
            )
        ]
    if radius_m is None:
        return None, problems
    if lon is None or lat is None:
        return None, [
            Problem(
                "location",
                _("This task needs a check-in: send your location (within %(r)d m).")
                % {"r": radius_m},
            )
        ]
    if target is None:
        return None, problems
    distance = haversine_m(lon, lat, target[0], target[1])
    if distance > radius_m:
        problems.append(
            Problem(
                "location",
                _("You are %(d).0f m from the target; the check-in radius is %(r)d m.")
                % {"d": distance, "r": radius_m},
            )
        )
    return distance, problems


_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否"}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _coerce(kind: str, value: Any, spec: Mapping[str, Any]) -> tuple[Any, str | None]:
    """Return (normalised value, error message or None) for one answer."""
    if kind == FormFieldType.TEXT:
        if isinstance(value, str):
            return value.strip(), None
        return None, _("must be text")
    if kind == FormFieldType.NUMBER:
        if isinstance(value, bool):
            return None, _("must be a number")
        if isinstance(value, int | float | Decimal):
            number = Decimal(str(value))
        elif isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                return None, _("must be a number, not %(v)r") % {"v": value}
        else:
            return None, _("must be a number")
        if not number.is_finite():
            return None, _("must be a finite number")
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if kind == FormFieldType.BOOLEAN:
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE, None
        return None, _("must be yes or no")
    if kind == FormFieldType.CHOICE:
        allowed = [str(c.get("value")) for c in spec.get("choices") or []]
        if isinstance(value, str) and value in allowed:
            return value, None
        return None, _("%(v)r is not one of %(allowed)s") % {
            "v": value,
            "allowed": ", ".join(allowed),
        }
    if kind == FormFieldType.DATE:
        if isinstance(value, dt.datetime):
            return None, _("must be a date, not a date and time")
        if isinstance(value, dt.date):
            return value.isoformat(), None
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat(), None
            except ValueError:
                pass
        return None, _("must be a date like 2025-06-01, not %(v)r") % {"v": value}
    return None, _("has an unknown type %(t)s") % {"t": kind}


def answers_check(
    fields: Iterable[Mapping[str, Any]], answers: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[Problem]]:
    """Check answers against a rule's form fields.

    ``fields``: the rule's ``form_fields`` (``name``, ``type``, ``required``, ``choices``);
    ``answers``: ``{name: value}`` as sent (JSON values, or strings from an HTML form).
    Required fields must be answered; each answer must fit its type (text; number —
    a JSON number or a numeric string; boolean — true/false or yes/no; choice — one of the
    choice values; date — ISO 8601 ``YYYY-MM-DD``); names that are not fields of the rule
    are refused. Returns the normalised answers (numbers as numbers, dates as ISO strings,
    empty optional answers dropped) and the problems.
    """
    answers = dict(answers or {})
    specs = {str(f.get("name")): f for f in fields}
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    for name in sorted(set(answers) - set(specs)):
        problems.append(
            Problem(f"answers.{name}", _("%(name)s is not a field of this task.") % {"name": name})
        )
    for name, spec in specs.items():
        value = answers.get(name)
        if _empty(value):
            if spec.get("required"):
                problems.append(
                    Problem(f"answers.{name}", _("%(name)s is required.") % {"name": name})
                )
            continue
        normalised, error = _coerce(str(spec.get("type")), value, spec)
        if error is not None:
            problems.append(Problem(f"answers.{name}", f"{name}: {error}"))
        else:
            clean[name] = normalised
    return clean, problems
