"""Fixtures for the people tests: one street with a member of every role, and records
inside and outside each member's areas."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import factory.random
import pytest
from django.utils import translation

from gridgov.areas.models import Area
from gridgov.areas.tests.factories import make_street_tree
from gridgov.people.choices import PlaceKind, ResidentTag, Role
from gridgov.people.models import Department, Household, Place, Resident
from gridgov.people.tests.factories import (
    DepartmentFactory,
    HouseholdFactory,
    MembershipFactory,
    PlaceFactory,
    ResidentFactory,
    UserFactory,
)

#: Where each test member sits: (area key in make_street_tree, role).
MEMBERS: dict[str, tuple[str, str]] = {
    "command_centre": ("street", Role.COMMAND_CENTRE),
    "community_admin": ("c1", Role.COMMUNITY_ADMIN),
    "grid_leader": ("g11", Role.GRID_LEADER),
    "grid_worker": ("g11", Role.GRID_WORKER),
    "party_member": ("m11", Role.PARTY_MEMBER),
    "department_handler": ("c1", Role.DEPARTMENT_HANDLER),
}
#: Every actor of the matrix: the members, a superuser, and a staff user with no role.
ACTORS = [*MEMBERS, "superuser", "nobody"]
#: Record locations: micro-grid 1-1, grid 1-1 outside its micro-grid, grid 1-2 (same
#: community), grid 2-1 (the other community).
TARGETS = ["m11", "g11", "g12", "g21"]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Assert on English messages (the zh-hans catalogue is checked by its own test)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _seeded_fakes() -> None:
    factory.random.reseed_random("gridgov-people")


@dataclass
class World:
    tree: dict[str, Area]
    department: Department
    users: dict[str, Any] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)


@pytest.fixture
def tree(db: Any) -> dict[str, Area]:
    return make_street_tree()


@pytest.fixture
def world(tree: dict[str, Area]) -> World:
    """The street tree, one member per role, a superuser, a role-less staff user, and a
    household (with one resident tagged elderly) and a shop in each of ``TARGETS``."""
    department = DepartmentFactory(code="CG", name="城管", area=tree["street"])
    w = World(tree=tree, department=department)
    for name, (area_key, role) in MEMBERS.items():
        user = UserFactory(username=name)
        MembershipFactory(
            user=user,
            area=tree[area_key],
            role=role,
            department=department if role == Role.DEPARTMENT_HANDLER else None,
        )
        w.users[name] = user
    w.users["superuser"] = UserFactory(username="root", is_superuser=True)
    w.users["nobody"] = UserFactory(username="nobody")
    for key in TARGETS:
        household = HouseholdFactory(area=tree[key], address=f"古荡新村{key}幢1单元101室")
        w.households[key] = household
        w.residents[key] = ResidentFactory(household=household, tags=[ResidentTag.ELDERLY], age=75)
        w.places[key] = PlaceFactory(area=tree[key], kind=PlaceKind.SHOP, name=f"商店{key}")
    return w


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def audit_records() -> Iterator[list[logging.LogRecord]]:
    """The records emitted on the ``gridgov.audit`` logger during the test (it does not
    propagate to the root logger, so ``caplog`` would not see them)."""
    handler = _ListHandler()
    logger = logging.getLogger("gridgov.audit")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
