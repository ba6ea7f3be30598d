"""Writes of residents' reports: api keys, a report (a ``resident_report`` task and its
``ServiceRequest``), a client's update to a report, and the resident page's SMS codes.

Every service checks all of its input first and raises ``ValidationFailed`` with
``details={"problems": [...]}`` listing every problem; nothing is written then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from gridgov.api.services import token_hash
from gridgov.catalog.models import TaskType
from gridgov.catalog.schema import catalog_parse_yaml
from gridgov.core.errors import Conflict, GridgovError, NotFound, ValidationFailed
from gridgov.open311.attributes import TEXT_MAX, attributes_check, report_fields_problems
from gridgov.open311.models import ApiKey, Channel, ServiceRequest, SmsCode
from gridgov.tasks.choices import TaskAction, TaskSource
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.services import task_create, task_event_record

#: Keys read ``o311_`` + 43 URL-safe characters (32 random bytes).
KEY_SCHEME = "o311_"
PREFIX_LENGTH = 12
#: Longest description (GeoReport v2: "may not exceed 4,000 characters").
DESCRIPTION_MAX = TEXT_MAX
#: A phone number: digits with an optional leading + and inner dashes or spaces.
PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{5,30}$")
SMS_CODE_ATTEMPTS = 5
SMS_RESEND_SECONDS = 60
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def error_problems(error: GridgovError) -> list[str]:
    """The messages of an error, one per problem: ``details["problems"]`` (strings, or
    dicts with a ``message`` as the task engine gives for photos), else the message."""
    details = error.details if isinstance(error.details, dict) else {}
    problems = [
        str(p.get("message", p)) if isinstance(p, dict) else str(p)
        for p in details.get("problems", [])
    ]
    return problems or [error.message]


# --- api keys -------------------------------------------------------------------------------


@transaction.atomic
def api_key_create(*, name: str, contact: str = "") -> tuple[ApiKey, str]:
    """Create a key for the client ``name`` (≤ 100 characters); return the row and the raw
    key (shown once; only its SHA-256 is stored). A client has at most one live key: to
    rotate it, revoke the old one and create a new one under the same name. Raises
    ``ValidationFailed`` for a blank or long name, ``Conflict`` (``duplicate_client``) when
    the client has a live key."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed(_("A client name has 1 to 100 characters."))
    if ApiKey.objects.filter(name=name, revoked_at__isnull=True).exists():
        raise Conflict(
            _("The client %(name)s already has a live key; revoke it first or pick another name.")
            % {"name": name},
            code="duplicate_client",
        )
    raw = KEY_SCHEME + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name,
        contact=contact.strip()[:200],
        prefix=raw[:PREFIX_LENGTH],
        key_hash=token_hash(raw),
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, now: dt.datetime | None = None) -> ApiKey:
    """Revoke ``api_key``; it no longer authenticates. Raises ``Conflict``
    (``already_revoked``) when it was revoked before."""
    now = now or timezone.now()
    if not ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=now, updated_at=now
    ):
        raise Conflict(
            _("The key %(key)s is already revoked.") % {"key": api_key}, code="already_revoked"
        )
    api_key.refresh_from_db()
    return api_key


def api_key_authenticate(*, raw: str, now: dt.datetime | None = None) -> ApiKey | None:
    """The active key ``raw`` is, or ``None`` (unknown, malformed or revoked). Records
    ``last_used_at`` at most once a minute."""
    if not raw.startswith(KEY_SCHEME) or len(raw) > 100:
        return None
    key = ApiKey.objects.filter(key_hash=token_hash(raw), revoked_at__isnull=True).first()
    if key is None:
        return None
    now = now or timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


# --- a report -------------------------------------------------------------------------------


def _float(name: str, value: Any, low: float, high: float, problems: list[str]) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not low <= number <= high:  # NaN fails too
        problems.append(
            _("%(name)s must be a number from %(low)s to %(high)s (WGS84 degrees).")
            % {"name": name, "low": low, "high": high}
        )
        return None
    return number


def _contact_problems(phone: str, email: str, media_url: str) -> list[str]:
    problems = []
    if phone and not PHONE_RE.match(phone):
        problems.append(_("The phone number is not valid."))
    try:
        if email:
            EmailValidator()(email)
    except ValidationError:
        problems.append(_("The email address is not valid."))
    try:
        if media_url:
            if len(media_url) > 1000:
                raise ValidationError("long")
            URLValidator(schemes=["http", "https"])(media_url)
    except ValidationError:
        problems.append(_("media_url must be an http(s) URL of at most 1,000 characters."))
    return problems


def service_request_create(
    *,
    service_code: str,
    lat: Any,
    lon: Any,
    description: str = "",
    attributes: Mapping[str, Sequence[str]] | None = None,
    address_string: str = "",
    address_id: str = "",
    media_url: str = "",
    photos: Sequence[Any] = (),
    phone: str = "",
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    device_id: str = "",
    account_id: str = "",
    api_key: ApiKey | None = None,
    channel: str = Channel.OPEN311,
    now: dt.datetime | None = None,
) -> ServiceRequest:
    """Receive a resident's report: a ``resident_report`` task routed by its location,
    and its ``ServiceRequest``; return the latter (``.task.number`` is the
    ``service_request_id``).

    Input: a public task type's ``service_code``; ``lat``/``lon`` WGS84 degrees (strings
    or numbers; required — reports are routed by location); ``description`` ≤ 4,000
    characters; ``attributes``: code → values for the type's ``report_fields``; a
    ``media_url`` (http/https) and/or ``photos`` (uploads checked by
    ``tasks.evidence.photos_check``: JPEG/PNG/WebP/HEIC ≤ 10 MB); contact fields.
    A report of the same type near an open one is linked to it as a duplicate (see
    ``tasks.services.task_duplicate_find``). Raises ``NotFound`` (unknown or non-public
    service code) or ``ValidationFailed`` (every problem in ``details["problems"]``, a
    location in no area, a bad photo). One transaction: nothing is left on error.
    """
    task_type = TaskType.objects.filter(public=True, code=str(service_code or "").strip()).first()
    if task_type is None:
        raise NotFound(
            _("Unknown service_code %(code)s.") % {"code": str(service_code)[:20]},
            details={"service_code": str(service_code)[:20]},
        )
    problems: list[str] = []
    if lat in (None, "") or lon in (None, ""):
        problems.append(_("lat and long are required: reports are routed by their location."))
        lat_f = lon_f = None
    else:
        lat_f = _float("lat", lat, -90, 90, problems)
        lon_f = _float("long", lon, -180, 180, problems)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        problems.append(
            _("The description has %(n)d characters; at most %(max)d are allowed.")
            % {"n": len(description), "max": DESCRIPTION_MAX}
        )
    clean, wrong = attributes_check(task_type.report_fields or [], attributes or {})
    problems += wrong
    phone, email, media_url = phone.strip(), email.strip(), media_url.strip()
    problems += _contact_problems(phone, email, media_url)
    for name, value, limit in (
        ("address_string", address_string, 400),
        ("address_id", address_id, 100),
        ("first_name", first_name, 100),
        ("last_name", last_name, 100),
        ("device_id", device_id, 100),
        ("account_id", account_id, 100),
    ):
        if len(value or "") > limit:
            problems.append(
                _("%(name)s has at most %(max)d characters.") % {"name": name, "max": limit}
            )
    if problems:
        raise ValidationFailed("; ".join(problems), details={"problems": problems})
    phone = re.sub(r"[ -]", "", phone)  # stored as digits (and +), as follow compares it
    summary = description.splitlines()[0][:60] if description else ""
    name = task_type.name_stored  # the site's language, whatever the client's
    title = f"{name}: {summary}" if summary else name
    with transaction.atomic():
        task = task_create(
            actor=None,
            source=TaskSource.RESIDENT_REPORT,
            task_type=task_type,
            lon=lon_f,
            lat=lat_f,
            title=title[:200],
            description=description,
            photos=photos,
            now=now,
        )
        return ServiceRequest.objects.create(
            task=task,
            token=secrets.token_urlsafe(24),
            channel=channel,
            api_key=api_key,
            attributes=clean,
            address_string=address_string.strip(),
            address_id=address_id.strip(),
            media_url=media_url,
            phone=phone,
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            device_id=device_id.strip(),
            account_id=account_id.strip(),
        )


def service_request_update_post(
    *,
    api_key: ApiKey,
    service_request_id: str,
    description: str,
    status: str = "",
    update_id_ext: str = "",
    media_url: str = "",
    now: dt.datetime | None = None,
) -> TaskEvent:
    """FixMyStreet's POST servicerequestupdates: a resident's update (a comment) to a
    report, posted by the client ``api_key``; return the timeline row (its id is the
    ``update_id``). The task's state does not change (a resident cannot close a case);
    ``status`` (OPEN/CLOSED, what the resident said) is kept in the row's data.
    ``update_id_ext`` (the client's own id) makes a repost harmless. Raises ``NotFound``
    (unknown request), ``ValidationFailed`` (no or long description, bad media URL)."""
    task = Task.objects.filter(
        number=str(service_request_id).strip(), service_request__isnull=False
    ).first()
    if task is None:
        raise NotFound(
            _("Unknown service_request_id %(id)s.") % {"id": str(service_request_id)[:30]}
        )
    description = (description or "").strip()
    problems = _contact_problems("", "", media_url.strip())
    if not description:
        problems.append(_("A description is required."))
    if len(description) > DESCRIPTION_MAX:
        problems.append(
            _("The description has %(n)d characters; at most %(max)d are allowed.")
            % {"n": len(description), "max": DESCRIPTION_MAX}
        )
    if status and status.upper() not in ("OPEN", "CLOSED"):
        problems.append(_("status is OPEN or CLOSED."))
    if problems:
        raise ValidationFailed("; ".join(problems), details={"problems": problems})
    key = f"open311:{api_key.pk}:{update_id_ext.strip()}"[:100] if update_id_ext.strip() else None
    if key and (event := TaskEvent.objects.filter(task=task, idempotency_key=key).first()):
        return event
    with transaction.atomic():
        return task_event_record(
            task=task,
            action=TaskAction.COMMENT,
            actor=None,
            note=description,
            data={
                "client": api_key.name,
                **({"status": status.upper()} if status else {}),
                **({"media_url": media_url.strip()} if media_url.strip() else {}),
            },
            idempotency_key=key,
            at=now,
        )


# --- SMS codes (the resident page) ---------------------------------------------------------


def _code_hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


def phone_clean(phone: str) -> str:
    """A phone number without spaces and dashes. Raises ``ValidationFailed`` when it is
    not a phone number."""
    phone = (phone or "").strip()
    if not PHONE_RE.match(phone):
        raise ValidationFailed(_("Enter a valid phone number."), details={"field": "phone"})
    return re.sub(r"[ -]", "", phone)


@transaction.atomic
def sms_code_send(*, phone: str, now: dt.datetime | None = None) -> SmsCode:
    """Send a 6-digit verification code to ``phone`` through ``GRIDGOV_OPEN311_SMS_BACKEND``
    (valid ``GRIDGOV_OPEN311_SMS_CODE_MINUTES`` minutes; only its hash is stored). Raises
    ``ValidationFailed`` for a bad number, ``Conflict`` (``too_soon``) within 60 s of the
    last code to the same phone."""
    phone = phone_clean(phone)
    now = now or timezone.now()
    if SmsCode.objects.filter(
        phone=phone, created_at__gt=now - dt.timedelta(seconds=SMS_RESEND_SECONDS)
    ).exists():
        raise Conflict(
            _("A code was just sent; wait a minute before asking again."), code="too_soon"
        )
    code = f"{secrets.randbelow(10**6):06d}"
    row = SmsCode.objects.create(
        phone=phone,
        code_hash=_code_hash(phone, code),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.GRIDGOV_OPEN311_SMS_CODE_MINUTES),
    )
    backend = import_string(settings.GRIDGOV_OPEN311_SMS_BACKEND)()
    backend.send(
        phone=phone,
        text=_("Your gridgov verification code is %(code)s (valid %(minutes)d minutes).")
        % {"code": code, "minutes": settings.GRIDGOV_OPEN311_SMS_CODE_MINUTES},
    )
    return row


def sms_code_verify(*, phone: str, code: str, now: dt.datetime | None = None) -> None:
    """Accept ``code`` for ``phone`` once: the latest unused, unexpired code, at most
    5 attempts. Raises ``ValidationFailed`` otherwise (a wrong try counts)."""
    phone = phone_clean(phone)
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            SmsCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None or row.attempts >= SMS_CODE_ATTEMPTS:
            raise ValidationFailed(
                _("No valid code for this phone; ask for a new one."), details={"field": "code"}
            )
        if not secrets.compare_digest(row.code_hash, _code_hash(phone, (code or "").strip())):
            SmsCode.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
            wrong = True
        else:
            SmsCode.objects.filter(pk=row.pk).update(used_at=now)
            wrong = False
    if wrong:
        raise ValidationFailed(_("The code is not right."), details={"field": "code"})


# --- report fields ---------------------------------------------------------------------------


#: What residents are asked for the default catalogue's public types.
REPORT_FIELDS_DEFAULT = Path(__file__).resolve().parent / "data" / "report_fields.yaml"


def report_fields_load_default() -> dict[str, int]:
    """Load ``REPORT_FIELDS_DEFAULT`` with ``report_fields_load`` (same output and errors);
    ``seed-demo`` calls it after importing the default catalogue."""
    return report_fields_load(data=catalog_parse_yaml(REPORT_FIELDS_DEFAULT.read_text("utf-8")))


@transaction.atomic
def report_fields_load(*, data: Any) -> dict[str, int]:
    """Set the ``report_fields`` of public task types from ``data``: a mapping of task type
    code → a list of field definitions (``attributes.report_fields_problems``). Checks
    everything first (unknown or non-public codes, bad definitions) and raises
    ``ValidationFailed`` listing every problem, changing nothing. A rerun changes nothing.
    Output: ``{"updated": n, "unchanged": n}``."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("Expected a mapping of task type code to a list of fields."))
    types = {t.code: t for t in TaskType.objects.filter(code__in=[str(k) for k in data])}
    problems: list[str] = []
    for code, fields in data.items():
        task_type = types.get(str(code))
        if task_type is None or not task_type.public:
            problems.append(_("%(code)s: no public task type has this code.") % {"code": code})
        problems += [f"{code}: {p}" for p in report_fields_problems(fields)]
    if problems:
        raise ValidationFailed("; ".join(problems), details={"problems": problems})
    counts = {"updated": 0, "unchanged": 0}
    for code, fields in data.items():
        task_type = types[str(code)]
        if task_type.report_fields == fields:
            counts["unchanged"] += 1
            continue
        task_type.report_fields = fields
        task_type.save(update_fields=["report_fields", "updated_at"])
        counts["updated"] += 1
    return counts
