"""Writes of the people app. Each service takes an explicit ``actor`` (an ``auth.User``;
``None`` = the system, e.g. the demo seeder or an import) and raises ``PermissionDenied``
when the record lies outside the actor's areas or the actor's role may not do it.

The rules themselves (who writes, who grants what, who reveals what) are the tables in
``gridgov.people.rules``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from gridgov.areas.models import Area, AreaLevel
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.people.choices import PersonalDataSubject, PlaceKind, ResidentTag, Role, Sex
from gridgov.people.models import (
    Department,
    Household,
    Membership,
    PersonalDataAccess,
    Place,
    Resident,
    ResidentTagAssignment,
)
from gridgov.people.rules import (
    DEPARTMENT_ROLES,
    DWELLING_LEVELS,
    GRANTABLE_ROLES,
    PERSONAL_FIELDS,
    ROLE_LEVELS,
)
from gridgov.people.selectors import (
    clear_membership_cache,
    user_can_access_area,
    user_can_write_area,
    user_memberships,
    user_reveal_classes,
    user_roles_in_area,
)
from gridgov.people.validators import normalize_phone, parse_national_id

audit_logger = logging.getLogger("gridgov.audit")

Subject = Resident | Household | Place


# --- helpers ------------------------------------------------------------------------------


def _actor_label(actor: Any) -> str:
    return "system" if actor is None else f"{actor.get_username()}#{actor.pk}"


def _full_clean(obj: Model, *, exclude: Iterable[str] = ()) -> None:
    """Run the model's field validators and unique checks; raise ``ValidationFailed``."""
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        messages = [
            f"{field}: {msg}" if field != "__all__" else str(msg)
            for field, msgs in exc.message_dict.items()
            for msg in msgs
        ]
        raise ValidationFailed("; ".join(messages), details=exc.message_dict) from exc


def require_write(actor: Any, area: Area) -> None:
    """Raise ``PermissionDenied`` unless ``actor`` (``None`` = system) may create or change
    households, residents and places in ``area`` (``rules.WRITE_ROLES``)."""
    if actor is None or user_can_write_area(actor, area):
        return
    if not user_can_access_area(actor, area):
        raise PermissionDenied(
            _("%(area)s is outside your areas.") % {"area": area},
            details={"area": area.code},
        )
    raise PermissionDenied(
        _("Your role in %(area)s may not change households, residents or places.") % {"area": area},
        details={"area": area.code},
    )


def _phone_or_blank(value: str | None) -> str:
    return normalize_phone(value) if value and value.strip() else ""


def resolve_dwelling_area(
    *,
    area: Area | None,
    lon: float | None,
    lat: float | None,
    on: dt.date | None = None,
) -> Area:
    """Return the area a household or place belongs to.

    With a location (WGS84 ``lon``, ``lat`` in degrees) it is the deepest area containing
    it (``areas.selectors.area_locate``: a micro-grid where there is one), which must lie
    inside ``area`` when both are given; without one it is ``area``. The result must be a
    grid or a micro-grid. Raises ``ValidationFailed`` (half a location, a location inside
    no area, a location outside the given area, no area at all, a level above grid).
    """
    from gridgov.areas.selectors import area_locate

    if (lon is None) != (lat is None):
        raise ValidationFailed(_("Give both longitude and latitude, or neither."))
    if lon is not None and lat is not None:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationFailed(
                _("Location (%(lon)s, %(lat)s) is not a WGS84 longitude, latitude pair.")
                % {"lon": lon, "lat": lat}
            )
        located = area_locate(lon, lat, on=on)
        if located is None:
            raise ValidationFailed(
                _("Location (%(lon)s, %(lat)s) is inside no known area.") % {"lon": lon, "lat": lat}
            )
        if area is not None and not located.code.startswith(area.code):
            raise ValidationFailed(
                _("Location (%(lon)s, %(lat)s) lies in %(located)s, not inside %(area)s.")
                % {"lon": lon, "lat": lat, "located": located, "area": area}
            )
        resolved = located
    elif area is None:
        raise ValidationFailed(_("Give a location or a grid."))
    else:
        resolved = area
    if resolved.level not in DWELLING_LEVELS:
        raise ValidationFailed(
            _("%(area)s is a %(level)s; households and places belong to a grid or a micro-grid.")
            % {"area": resolved, "level": AreaLevel(resolved.level).label}
        )
    return resolved


def _check_update_keys(data: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(
            _("Cannot change %(fields)s of a %(what)s; allowed: %(allowed)s.")
            % {"fields": ", ".join(unknown), "what": what, "allowed": ", ".join(sorted(allowed))}
        )


# --- households ---------------------------------------------------------------------------

_HOUSEHOLD_FIELDS = {"address", "area", "lon", "lat", "phone", "away_until", "ref"}


@transaction.atomic
def household_create(
    *,
    actor: Any,
    address: str,
    area: Area | None = None,
    lon: float | None = None,
    lat: float | None = None,
    phone: str = "",
    away_until: dt.date | None = None,
    ref: str = "",
) -> Household:
    """Register a household at ``address``, in the area its location resolves to.

    ``lon``/``lat``: WGS84 degrees; the area is found by ``area_locate`` (see
    ``resolve_dwelling_area``), else ``area`` (a grid or micro-grid) is used.
    ``phone``: optional, normalised (``validators.normalize_phone``).
    Raises ``ValidationFailed`` (bad address, phone or location) and ``PermissionDenied``
    (the area is outside ``actor``'s areas, or the actor's role may not write).
    """
    resolved = resolve_dwelling_area(area=area, lon=lon, lat=lat)
    require_write(actor, resolved)
    household = Household(
        address=(address or "").strip(),
        area=resolved,
        lon=lon,
        lat=lat,
        phone=_phone_or_blank(phone),
        away_until=away_until,
        ref=ref,
    )
    _full_clean(household)
    household.save()
    return household


@transaction.atomic
def household_update(*, actor: Any, household: Household, data: Mapping[str, Any]) -> Household:
    """Change a household's fields given in ``data`` (keys: address, area, lon, lat,
    phone, away_until, ref) and return it.

    A changed location (or area) is resolved again as in ``household_create``. The actor
    must be allowed to write both where the household is and where it goes.
    Raises ``ValidationFailed`` and ``PermissionDenied`` as ``household_create`` does.
    """
    _check_update_keys(data, _HOUSEHOLD_FIELDS, "household")
    require_write(actor, household.area)
    if {"area", "lon", "lat"} & set(data):
        lon = data.get("lon", household.lon)
        lat = data.get("lat", household.lat)
        area = data.get("area") if "area" in data else (household.area if lon is None else None)
        resolved = resolve_dwelling_area(area=area, lon=lon, lat=lat)
        require_write(actor, resolved)
        household.area, household.lon, household.lat = resolved, lon, lat
    if "address" in data:
        household.address = (data["address"] or "").strip()
    if "phone" in data:
        household.phone = _phone_or_blank(data["phone"])
    for key in ("away_until", "ref"):
        if key in data:
            setattr(household, key, data[key])
    _full_clean(household)
    household.save()
    return household


# --- residents ----------------------------------------------------------------------------

_RESIDENT_FIELDS = {
    "household",
    "name",
    "national_id",
    "phone",
    "birth_date",
    "sex",
    "tags",
    "emergency_contact_name",
    "emergency_contact_phone",
}


def _check_tags(tags: Iterable[str]) -> list[str]:
    tags = list(dict.fromkeys(tags))
    unknown = [t for t in tags if t not in ResidentTag.values]
    if unknown:
        raise ValidationFailed(
            _("Unknown resident tag(s): %(tags)s.") % {"tags": ", ".join(unknown)}
        )
    return tags


def resolve_identity(
    *, national_id: str | None, birth_date: dt.date | None, sex: str
) -> tuple[str | None, dt.date | None, str]:
    """Normalise a national ID and fill or check the birth date and sex against it.

    Returns ``(national_id or None, birth_date, sex)``; without an ID the birth date and
    sex are returned as given. Raises ``ValidationFailed`` for a bad ID (GB 11643-1999)
    or a birth date / sex that disagrees with it.
    """
    if not national_id or not national_id.strip():
        return None, birth_date, sex or ""
    parsed = parse_national_id(national_id)
    if birth_date is None:
        birth_date = parsed.birth_date
    elif birth_date != parsed.birth_date:
        raise ValidationFailed(
            _("Birth date %(date)s does not match the one in the national ID number (%(id_date)s).")
            % {"date": birth_date, "id_date": parsed.birth_date}
        )
    if not sex:
        sex = parsed.sex
    elif sex != parsed.sex:
        raise ValidationFailed(
            _("Sex %(sex)s does not match the national ID number (%(id_sex)s).")
            % {"sex": Sex(sex).label, "id_sex": Sex(parsed.sex).label}
        )
    return parsed.number, birth_date, sex


def _apply_identity(resident: Resident) -> None:
    resident.national_id, resident.birth_date, resident.sex = resolve_identity(
        national_id=resident.national_id, birth_date=resident.birth_date, sex=resident.sex
    )


def _set_tags(resident: Resident, tags: list[str]) -> None:
    current = set(resident.tag_assignments.values_list("tag", flat=True))
    wanted = set(tags)
    if stale := current - wanted:
        resident.tag_assignments.filter(tag__in=stale).delete()
    ResidentTagAssignment.objects.bulk_create(
        [ResidentTagAssignment(resident=resident, tag=t) for t in sorted(wanted - current)]
    )


@transaction.atomic
def resident_create(
    *,
    actor: Any,
    household: Household,
    name: str,
    national_id: str = "",
    phone: str = "",
    birth_date: dt.date | None = None,
    sex: str = "",
    tags: Iterable[str] = (),
    emergency_contact_name: str = "",
    emergency_contact_phone: str = "",
) -> Resident:
    """Register a resident of ``household`` and return it.

    ``national_id``: optional, checked by GB 11643-1999 (``validators.parse_national_id``);
    when given, ``birth_date`` and ``sex`` are taken from it or must agree with it.
    ``phone``/``emergency_contact_phone``: optional, normalised. ``tags``: values of
    ``ResidentTag``. Raises ``ValidationFailed`` (bad or duplicate ID, bad phone, unknown
    tag, empty name) and ``PermissionDenied`` (household outside the actor's areas, or a
    role that may not write).
    """
    require_write(actor, household.area)
    tag_list = _check_tags(tags)
    resident = Resident(
        household=household,
        name=(name or "").strip(),
        national_id=(national_id or "").strip() or None,
        phone=_phone_or_blank(phone),
        birth_date=birth_date,
        sex=sex or "",
        emergency_contact_name=(emergency_contact_name or "").strip(),
        emergency_contact_phone=_phone_or_blank(emergency_contact_phone),
    )
    _apply_identity(resident)
    _full_clean(resident)
    resident.save()
    _set_tags(resident, tag_list)
    return resident


@transaction.atomic
def resident_update(*, actor: Any, resident: Resident, data: Mapping[str, Any]) -> Resident:
    """Change a resident's fields given in ``data`` and return it.

    Keys: household (moves the resident), name, national_id, phone, birth_date, sex,
    tags (replaces the set), emergency_contact_name, emergency_contact_phone. The actor
    must be allowed to write both the current and the new household's area.
    Raises ``ValidationFailed`` and ``PermissionDenied`` as ``resident_create`` does.
    """
    _check_update_keys(data, _RESIDENT_FIELDS, "resident")
    require_write(actor, resident.household.area)
    if "household" in data:
        require_write(actor, data["household"].area)
        resident.household = data["household"]
    if "name" in data:
        resident.name = (data["name"] or "").strip()
    if "national_id" in data:
        resident.national_id = (data["national_id"] or "").strip() or None
        if resident.national_id:
            # A new ID number brings its own birth date and sex unless both are given.
            if "birth_date" not in data:
                resident.birth_date = None
            if "sex" not in data:
                resident.sex = ""
    for key in ("birth_date", "sex"):
        if key in data:
            setattr(resident, key, data[key] or ("" if key == "sex" else None))
    for key in ("phone", "emergency_contact_phone"):
        if key in data:
            setattr(resident, key, _phone_or_blank(data[key]))
    if "emergency_contact_name" in data:
        resident.emergency_contact_name = (data["emergency_contact_name"] or "").strip()
    _apply_identity(resident)
    _full_clean(resident)
    resident.save()
    if "tags" in data:
        _set_tags(resident, _check_tags(data["tags"] or ()))
    return resident


# --- places -------------------------------------------------------------------------------

_PLACE_FIELDS = {"kind", "name", "address", "area", "lon", "lat", "contact_phone", "ref"}


def _check_kind(kind: str) -> str:
    if kind not in PlaceKind.values:
        raise ValidationFailed(_("Unknown place kind %(kind)r.") % {"kind": kind})
    return kind


@transaction.atomic
def place_create(
    *,
    actor: Any,
    kind: str,
    name: str,
    address: str = "",
    area: Area | None = None,
    lon: float | None = None,
    lat: float | None = None,
    contact_phone: str = "",
    ref: str = "",
) -> Place:
    """Register a place of ``kind`` (a ``PlaceKind`` value) and return it.

    The area is resolved as for households (``resolve_dwelling_area``).
    Raises ``ValidationFailed`` (unknown kind, empty name, bad phone or location) and
    ``PermissionDenied`` (outside the actor's areas, or a role that may not write).
    """
    resolved = resolve_dwelling_area(area=area, lon=lon, lat=lat)
    require_write(actor, resolved)
    place = Place(
        kind=_check_kind(kind),
        name=(name or "").strip(),
        address=(address or "").strip(),
        area=resolved,
        lon=lon,
        lat=lat,
        contact_phone=_phone_or_blank(contact_phone),
        ref=ref,
    )
    _full_clean(place)
    place.save()
    return place


@transaction.atomic
def place_update(*, actor: Any, place: Place, data: Mapping[str, Any]) -> Place:
    """Change a place's fields given in ``data`` (keys: kind, name, address, area, lon,
    lat, contact_phone, ref) and return it; location and permissions as for households."""
    _check_update_keys(data, _PLACE_FIELDS, "place")
    require_write(actor, place.area)
    if {"area", "lon", "lat"} & set(data):
        lon = data.get("lon", place.lon)
        lat = data.get("lat", place.lat)
        area = data.get("area") if "area" in data else (place.area if lon is None else None)
        resolved = resolve_dwelling_area(area=area, lon=lon, lat=lat)
        require_write(actor, resolved)
        place.area, place.lon, place.lat = resolved, lon, lat
    if "kind" in data:
        place.kind = _check_kind(data["kind"])
    for key in ("name", "address"):
        if key in data:
            setattr(place, key, (data[key] or "").strip())
    if "contact_phone" in data:
        place.contact_phone = _phone_or_blank(data["contact_phone"])
    if "ref" in data:
        place.ref = data["ref"]
    _full_clean(place)
    place.save()
    return place


# --- departments and memberships ----------------------------------------------------------


def require_department_role(actor: Any, area: Area) -> None:
    """Raise ``PermissionDenied`` unless ``actor`` may manage departments serving ``area``
    (the system, a superuser, or a role of ``rules.DEPARTMENT_ROLES`` over it)."""
    if actor is None or (actor.is_active and actor.is_superuser):
        return
    if not user_roles_in_area(actor, area) & DEPARTMENT_ROLES:
        raise PermissionDenied(
            _("Only the command centre over %(area)s may manage its departments.") % {"area": area}
        )


@transaction.atomic
def department_create(*, actor: Any, code: str, name: str, area: Area) -> Department:
    """Create a functional department serving ``area`` and return it.

    Only the system, a superuser or the command centre over ``area`` may. Raises
    ``ValidationFailed`` (empty or duplicate code, empty name) and ``PermissionDenied``.
    """
    require_department_role(actor, area)
    department = Department(code=(code or "").strip(), name=(name or "").strip(), area=area)
    _full_clean(department)
    department.save()
    return department


@transaction.atomic
def department_update(*, actor: Any, department: Department, data: Mapping[str, Any]) -> Department:
    """Change a department's ``name``, ``is_active`` or ``area`` (keys of ``data``).

    The actor must be the system, a superuser or the command centre over the current and
    the new area. Raises ``ValidationFailed`` and ``PermissionDenied``.
    """
    _check_update_keys(data, {"name", "is_active", "area"}, "department")
    for area in (department.area, data.get("area", department.area)):
        require_department_role(actor, area)
    for key, value in data.items():
        setattr(department, key, value.strip() if isinstance(value, str) else value)
    _full_clean(department)
    department.save()
    return department


def _require_grant(actor: Any, area: Area, role: str) -> None:
    if actor is None or (actor.is_active and actor.is_superuser):
        return
    grantable: set[str] = set()
    for held in user_roles_in_area(actor, area):
        grantable |= GRANTABLE_ROLES[held]
    if role not in grantable:
        if not user_can_access_area(actor, area):
            raise PermissionDenied(_("%(area)s is outside your areas.") % {"area": area})
        raise PermissionDenied(
            _("Your role in %(area)s may not grant or revoke the role %(role)s.")
            % {"area": area, "role": Role(role).label}
        )


def membership_grant_check(
    *, actor: Any, area: Area, role: str, department: Department | None = None
) -> None:
    """Raise ``ValidationFailed`` or ``PermissionDenied`` if ``membership_grant`` would.

    The rules: ``rules.ROLE_LEVELS`` (the role fits the area's level), a department
    handler's department (active, serving an area that contains ``area``), and
    ``rules.GRANTABLE_ROLES`` (the actor holds, over ``area``, a role that may grant it).
    """
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role %(role)r.") % {"role": role})
    if area.level not in ROLE_LEVELS[role]:
        allowed = ", ".join(str(AreaLevel(lv).label) for lv in AreaLevel if lv in ROLE_LEVELS[role])
        raise ValidationFailed(
            _("The role %(role)s cannot be held on a %(level)s (%(area)s); it fits: %(allowed)s.")
            % {
                "role": Role(role).label,
                "level": AreaLevel(area.level).label,
                "area": area,
                "allowed": allowed,
            }
        )
    if role == Role.DEPARTMENT_HANDLER:
        if department is None:
            raise ValidationFailed(_("A department handler needs a department."))
        if not department.is_active:
            raise ValidationFailed(
                _("Department %(department)s is not active.") % {"department": department}
            )
        if not area.code.startswith(department.area.code):
            raise ValidationFailed(
                _("%(area)s is outside the area served by %(department)s.")
                % {"area": area, "department": department}
            )
    elif department is not None:
        raise ValidationFailed(_("Only a department handler belongs to a department."))
    _require_grant(actor, area, role)


@transaction.atomic
def membership_grant(
    *,
    actor: Any,
    user: Any,
    area: Area,
    role: str,
    department: Department | None = None,
) -> Membership:
    """Give ``user`` ``role`` over ``area`` and return the membership (idempotent: an
    existing one is returned unchanged).

    Rules (``rules.ROLE_LEVELS``, ``rules.GRANTABLE_ROLES``): the role must fit the area's
    level; a department handler needs an active ``department`` and an area inside the
    department's; the actor must hold, over ``area``, a role that may grant ``role``
    (superusers and the system may grant anything). The user becomes ``is_staff`` so that
    they can sign in to the admin. Raises ``ValidationFailed`` and ``PermissionDenied``.
    """
    membership_grant_check(actor=actor, area=area, role=role, department=department)
    membership, created = Membership.objects.get_or_create(
        user=user,
        area=area,
        role=role,
        defaults={"department": department, "granted_by": actor},
    )
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    clear_membership_cache(user)
    if created:
        audit_logger.info(
            "membership_grant actor=%s user=%s role=%s area=%s",
            _actor_label(actor),
            _actor_label(user),
            role,
            area.code,
        )
    return membership


@transaction.atomic
def membership_revoke(*, actor: Any, membership: Membership) -> None:
    """Take a membership away. The actor must be allowed to grant its role over its area.

    A user left without memberships (and not a superuser) loses ``is_staff``.
    Raises ``PermissionDenied``.
    """
    _require_grant(actor, membership.area, membership.role)
    user = membership.user
    audit_logger.info(
        "membership_revoke actor=%s user=%s role=%s area=%s",
        _actor_label(actor),
        _actor_label(user),
        membership.role,
        membership.area.code,
    )
    membership.delete()
    clear_membership_cache(user)
    if user.is_staff and not user.is_superuser and not user_memberships(user):
        user.is_staff = False
        user.save(update_fields=["is_staff"])


# --- personal data ------------------------------------------------------------------------


def _subject_kind(subject: Subject) -> str:
    if isinstance(subject, Resident):
        return PersonalDataSubject.RESIDENT
    if isinstance(subject, Household):
        return PersonalDataSubject.HOUSEHOLD
    if isinstance(subject, Place):
        return PersonalDataSubject.PLACE
    raise TypeError(f"no personal data on {type(subject).__name__}")


def _subject_area(subject: Subject) -> Area:
    return subject.household.area if isinstance(subject, Resident) else subject.area


@transaction.atomic
def personal_data_reveal(
    *,
    actor: Any,
    subject: Subject,
    fields: Iterable[str],
    purpose: str,
    context: str = "",
    ip_address: str | None = None,
) -> dict[str, str]:
    """Return the unmasked ``fields`` of a resident, household or place, and log the read.

    ``fields``: names from ``rules.PERSONAL_FIELDS`` for the subject's kind.
    ``purpose``: why (required, ≤ 200 characters; e.g. "home visit", "alarm call").
    ``context``: where from (``"admin"``, ``"api"``, ``"task:123"``…).
    Returns ``{field: value}`` with values as strings (``""`` when empty, dates ISO).
    Writes one ``PersonalDataAccess`` row and one INFO line on the ``gridgov.audit``
    logger. Raises ``ValidationFailed`` (no or unknown fields, no purpose) and
    ``PermissionDenied`` (no actor, subject outside the actor's areas, or a field the
    actor's roles there may not reveal; refusals are logged as WARNING lines).
    """
    kind = _subject_kind(subject)
    wanted = list(dict.fromkeys(fields))
    known = PERSONAL_FIELDS[kind]
    if not wanted:
        raise ValidationFailed(_("Name at least one field to reveal."))
    if unknown := [f for f in wanted if f not in known]:
        raise ValidationFailed(
            _("%(fields)s are not personal fields of a %(kind)s; they are: %(known)s.")
            % {
                "fields": ", ".join(unknown),
                "kind": PersonalDataSubject(kind).label,
                "known": ", ".join(known),
            }
        )
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationFailed(_("Say why you need to see the data (purpose)."))
    if len(purpose) > 200:
        raise ValidationFailed(_("Keep the purpose within 200 characters."))
    if actor is None or not getattr(actor, "is_active", False):
        raise PermissionDenied(_("Only a signed-in staff member may reveal personal data."))

    # Read the current values (not the caller's copy) under the row's current area.
    subject = (
        type(subject)
        .objects.select_related(
            "household__area" if kind == PersonalDataSubject.RESIDENT else "area"
        )
        .get(pk=subject.pk)
    )
    area = _subject_area(subject)

    def refuse(message: str) -> PermissionDenied:
        audit_logger.warning(
            "personal_data_reveal_refused user=%s subject=%s#%s fields=%s area=%s reason=%r",
            _actor_label(actor),
            kind,
            subject.pk,
            ",".join(wanted),
            area.code,
            message,
        )
        return PermissionDenied(message, details={"fields": wanted})

    if not user_can_access_area(actor, area):
        raise refuse(_("This record is outside your areas."))
    allowed = user_reveal_classes(actor, area)
    if denied := [f for f in wanted if known[f] not in allowed]:
        raise refuse(
            _("Your role may not see %(fields)s unmasked.") % {"fields": ", ".join(denied)}
        )

    PersonalDataAccess.objects.create(
        user=actor,
        subject_kind=kind,
        subject_id=subject.pk,
        resident=subject if isinstance(subject, Resident) else None,
        household=subject if isinstance(subject, Household) else None,
        place=subject if isinstance(subject, Place) else None,
        area=area,
        fields=wanted,
        purpose=purpose,
        context=context[:64],
        ip_address=ip_address,
    )
    audit_logger.info(
        "personal_data_reveal user=%s subject=%s#%s fields=%s area=%s purpose=%r context=%s",
        _actor_label(actor),
        kind,
        subject.pk,
        ",".join(wanted),
        area.code,
        purpose,
        context,
    )
    values: dict[str, str] = {}
    for field in wanted:
        value = getattr(subject, field)
        values[field] = (
            ""
            if value is None
            else (value.isoformat() if hasattr(value, "isoformat") else str(value))
        )
    return values


def resident_reveal(
    *,
    actor: Any,
    resident: Resident,
    fields: Iterable[str],
    purpose: str,
    context: str = "",
    ip_address: str | None = None,
) -> dict[str, str]:
    """Return a resident's unmasked ``fields`` and log the read (``personal_data_reveal``).

    Fields: name, national_id, phone, birth_date, emergency_contact_name,
    emergency_contact_phone.
    """
    return personal_data_reveal(
        actor=actor,
        subject=resident,
        fields=fields,
        purpose=purpose,
        context=context,
        ip_address=ip_address,
    )


def household_reveal(
    *,
    actor: Any,
    household: Household,
    fields: Iterable[str],
    purpose: str,
    context: str = "",
    ip_address: str | None = None,
) -> dict[str, str]:
    """Return a household's unmasked ``fields`` (address, phone) and log the read."""
    return personal_data_reveal(
        actor=actor,
        subject=household,
        fields=fields,
        purpose=purpose,
        context=context,
        ip_address=ip_address,
    )


def place_reveal(
    *,
    actor: Any,
    place: Place,
    fields: Iterable[str],
    purpose: str,
    context: str = "",
    ip_address: str | None = None,
) -> dict[str, str]:
    """Return a place's unmasked ``fields`` (contact_phone) and log the read."""
    return personal_data_reveal(
        actor=actor,
        subject=place,
        fields=fields,
        purpose=purpose,
        context=context,
        ip_address=ip_address,
    )
