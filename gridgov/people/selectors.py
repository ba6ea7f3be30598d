"""Reads scoped by the reader's areas.

A user's **area codes** are the codes of the areas of their memberships; since a
descendant's code starts with its ancestor's, "inside the user's areas" is "the area code
starts with one of them". Every list here, and ``scope_queryset`` for other apps, filters
on that prefix. A superuser's codes are ``[""]`` (the empty prefix: everything); an
inactive or anonymous user has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import Any, TypeVar

from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from gridgov.areas.models import Area
from gridgov.people.choices import Role
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
    GRANTABLE_ROLES,
    REVEAL_CLASSES,
    SUPERUSER_REVEAL_CLASSES,
    WRITE_ROLES,
)

M = TypeVar("M", bound=Model)

_CACHE_ATTR = "_gridgov_memberships"


def _is_superuser(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_superuser", False))


def user_memberships(user: Any) -> list[Membership]:
    """Return the active user's memberships with their areas (cached on the user object).

    ``user``: an ``auth.User`` (or ``AnonymousUser``). Inactive and anonymous users have
    none. A membership of a retired area (``valid_to`` on or before today, local date)
    grants nothing: when a grid is redrawn, its people must be placed into its successor
    (docs/people.md). The cache lives as long as the user object (one request); the grant and revoke
    services clear it on the user object they are given.
    """
    if not getattr(user, "is_active", False) or not getattr(user, "pk", None):
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        today = timezone.localdate()
        cached = list(
            Membership.objects.filter(user=user)
            .exclude(area__valid_to__lte=today)
            .select_related("area", "department")
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def clear_membership_cache(user: Any) -> None:
    """Forget the memberships cached on ``user`` (after a grant or a revoke)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _minimal_prefixes(codes: Iterable[str]) -> list[str]:
    """Drop every code that another code in the set is a prefix of; sorted."""
    result: list[str] = []
    for code in sorted(set(codes)):
        if not result or not code.startswith(result[-1]):
            result.append(code)
    return result


def area_codes_visible_to(user: Any, *, roles: Iterable[str] | None = None) -> list[str]:
    """Return the code prefixes of the areas ``user`` may read, fewest and sorted.

    ``roles``: count only memberships with these roles (default: all). A superuser gets
    ``[""]`` (every code starts with it); a user without memberships gets ``[]``.
    """
    if _is_superuser(user):
        return [""]
    wanted = None if roles is None else set(roles)
    return _minimal_prefixes(
        m.area.code for m in user_memberships(user) if wanted is None or m.role in wanted
    )


def _prefix_q(field: str, codes: list[str]) -> Q:
    return reduce(or_, (Q(**{f"{field}__startswith": code}) for code in codes))


def scope_queryset(
    qs: QuerySet[M],
    user: Any,
    *,
    area_field: str = "area",
    roles: Iterable[str] | None = None,
) -> QuerySet[M]:
    """Filter any queryset to the rows whose area lies inside ``user``'s areas.

    ``area_field``: the lookup path from the model to its ``Area`` FK (e.g. ``"area"``,
    ``"household__area"``); the filter is ``<area_field>__code__startswith`` one of the
    user's codes. ``roles``: count only memberships with these roles. Superusers get
    ``qs`` unchanged; users without memberships get ``qs.none()``.
    """
    codes = area_codes_visible_to(user, roles=roles)
    if not codes:
        return qs.none()
    if codes == [""]:
        return qs
    return qs.filter(_prefix_q(f"{area_field}__code" if area_field else "code", codes))


def area_queryset_visible_to(user: Any) -> QuerySet[Area]:
    """Return the areas ``user`` may read: their membership areas and everything inside."""
    return scope_queryset(Area.objects.all(), user, area_field="")


def user_can_access_area(user: Any, area: Area, *, roles: Iterable[str] | None = None) -> bool:
    """Tell whether ``area`` lies inside (or is) one of ``user``'s areas.

    ``roles``: count only memberships with these roles (default: any role).
    """
    return any(area.code.startswith(code) for code in area_codes_visible_to(user, roles=roles))


def user_roles_in_area(user: Any, area: Area) -> set[str]:
    """Return the roles ``user`` holds over ``area`` (memberships on it or an ancestor).

    A superuser holds every role everywhere.
    """
    if _is_superuser(user):
        return set(Role.values)
    return {m.role for m in user_memberships(user) if area.code.startswith(m.area.code)}


def user_can_write_area(user: Any, area: Area) -> bool:
    """Tell whether ``user`` may create and change households, residents and places in
    ``area`` (a role from ``rules.WRITE_ROLES`` over it, or superuser)."""
    return _is_superuser(user) or bool(user_roles_in_area(user, area) & WRITE_ROLES)


def user_holds_role(user: Any, roles: Iterable[str]) -> bool:
    """Tell whether ``user`` holds any of ``roles`` anywhere (superusers: always)."""
    wanted = set(roles)
    return _is_superuser(user) or any(m.role in wanted for m in user_memberships(user))


def user_grantable_roles(user: Any, area: Area | None = None) -> set[str]:
    """Return the roles ``user`` may grant over ``area`` (``None``: anywhere in their areas).

    From ``rules.GRANTABLE_ROLES``; a superuser may grant every role.
    """
    if _is_superuser(user):
        return set(Role.values)
    roles: set[str] = set()
    for m in user_memberships(user):
        if area is None or area.code.startswith(m.area.code):
            roles |= GRANTABLE_ROLES[m.role]
    return roles


def user_reveal_classes(user: Any, area: Area | None = None) -> frozenset[str]:
    """Return the classes of personal data ``user`` may reveal in ``area``.

    ``area=None``: in any of the user's areas (used to decide whether to offer a reveal
    link or an exact-value search at all). Classes are those of ``rules.PERSONAL_FIELDS``.
    """
    if _is_superuser(user):
        return SUPERUSER_REVEAL_CLASSES
    classes: set[str] = set()
    for m in user_memberships(user):
        if area is None or area.code.startswith(m.area.code):
            classes |= REVEAL_CLASSES[m.role]
    return frozenset(classes)


def household_list(
    *, area: Area | None = None, tag: str | None = None, tags: Iterable[str] | None = None
) -> QuerySet[Household]:
    """Return households, optionally inside ``area`` and having a resident with ``tag``
    (or any of ``tags``). Unscoped: for the system (``actor=None``) only.

    The tag test is an ``EXISTS`` over the indexed tag table, so no ``DISTINCT`` is needed.
    """
    qs = Household.objects.select_related("area")
    if area is not None:
        qs = qs.filter(area__code__startswith=area.code)
    wanted = ([tag] if tag else []) + list(tags or [])
    if wanted:
        qs = qs.filter(
            Exists(
                ResidentTagAssignment.objects.filter(
                    resident__household=OuterRef("pk"), tag__in=wanted
                )
            )
        )
    return qs


def household_list_visible_to(
    user: Any, *, area: Area | None = None, tag: str | None = None
) -> QuerySet[Household]:
    """Return the households ``user`` may read, optionally inside ``area`` / with ``tag``."""
    return scope_queryset(household_list(area=area, tag=tag), user)


def resident_list(*, area: Area | None = None, tag: str | None = None) -> QuerySet[Resident]:
    """Return residents (with household and tags), optionally inside ``area`` / tagged
    ``tag``. Unscoped: for the system only."""
    qs = Resident.objects.select_related("household__area").prefetch_related("tag_assignments")
    if area is not None:
        qs = qs.filter(household__area__code__startswith=area.code)
    if tag:
        qs = qs.filter(
            Exists(ResidentTagAssignment.objects.filter(resident=OuterRef("pk"), tag=tag))
        )
    return qs


def resident_list_visible_to(
    user: Any, *, area: Area | None = None, tag: str | None = None
) -> QuerySet[Resident]:
    """Return the residents ``user`` may read (scoped by their household's area)."""
    return scope_queryset(resident_list(area=area, tag=tag), user, area_field="household__area")


def place_list(*, area: Area | None = None, kind: str | None = None) -> QuerySet[Place]:
    """Return places, optionally inside ``area`` and of ``kind``. Unscoped: system only."""
    qs = Place.objects.select_related("area")
    if area is not None:
        qs = qs.filter(area__code__startswith=area.code)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def place_list_visible_to(
    user: Any, *, area: Area | None = None, kind: str | None = None
) -> QuerySet[Place]:
    """Return the places ``user`` may read, optionally inside ``area`` / of ``kind``."""
    return scope_queryset(place_list(area=area, kind=kind), user)


def membership_list_visible_to(user: Any) -> QuerySet[Membership]:
    """Return the memberships on areas inside ``user``'s areas (their own included)."""
    qs = Membership.objects.select_related("user", "area", "department", "granted_by")
    if _is_superuser(user):
        return qs
    return scope_queryset(qs, user) | qs.filter(user_id=getattr(user, "pk", None) or 0)


def department_list_visible_to(user: Any) -> QuerySet[Department]:
    """Return the departments serving an area inside ``user``'s areas, and the user's own."""
    qs = Department.objects.select_related("area")
    if _is_superuser(user):
        return qs
    own = [m.department_id for m in user_memberships(user) if m.department_id]
    return scope_queryset(qs, user) | qs.filter(pk__in=own)


def personal_data_access_list_visible_to(user: Any) -> QuerySet[PersonalDataAccess]:
    """Return the audit rows ``user`` may read: superusers all; command centre and
    community admins the reads of records in their areas; everyone their own reads."""
    qs = PersonalDataAccess.objects.select_related("user", "area")
    if _is_superuser(user):
        return qs
    supervised = scope_queryset(qs, user, roles={Role.COMMAND_CENTRE, Role.COMMUNITY_ADMIN})
    return supervised | qs.filter(user_id=getattr(user, "pk", None) or 0)
