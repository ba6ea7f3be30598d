"""factory_boy factories for the people app.

Personal data comes from ``gridgov.people.fakes`` fed by factory_boy's own random
generator, so ``factory.random.reseed_random(...)`` makes a run repeatable. Rows are
created directly (the services are what the tests test); ``area`` must be a grid or a
micro-grid for households and places, as the services require.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import factory
import factory.random
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from gridgov.areas.models import Area
from gridgov.areas.tests.factories import make_area
from gridgov.people import fakes
from gridgov.people.choices import PlaceKind, Role
from gridgov.people.models import (
    Department,
    Household,
    Membership,
    Place,
    Resident,
    ResidentTagAssignment,
)

_grid_numbers = itertools.count(1)
_TODAY = dt.date(2025, 6, 1)  # fixed, so that ages do not drift with the wall clock


def _rng() -> Any:
    return factory.random.randgen


def default_grid() -> Area:
    """A fresh grid (no boundary) under a fresh community, for rows that need some area."""
    n = next(_grid_numbers)
    community = make_area(code=f"990000{n:03d}{n:03d}")
    return make_area(code=f"{community.code}001", parent=community)


class UserFactory(DjangoModelFactory):
    """A staff user with an unusable password (hashing Argon2 for every user is slow);
    pass ``password="…"`` to set a real one."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if extracted:
            self.set_password(extracted)
        else:
            self.set_unusable_password()
        if create:
            self.save(update_fields=["password"])


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"职能部门{n}")
    area = factory.LazyFunction(default_grid)


class MembershipFactory(DjangoModelFactory):
    """A membership created directly; give ``area`` and ``role`` that fit each other."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    area = factory.LazyFunction(default_grid)
    role = Role.GRID_WORKER
    department = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role == Role.DEPARTMENT_HANDLER),
        yes_declaration=factory.SubFactory(DepartmentFactory, area=factory.SelfAttribute("..area")),
        no_declaration=None,
    )


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = Household

    address = factory.LazyFunction(lambda: fakes.fake_flat_address(_rng()))
    area = factory.LazyFunction(default_grid)
    phone = factory.LazyFunction(lambda: fakes.fake_mobile(_rng()))


class ResidentFactory(DjangoModelFactory):
    """A resident with a consistent fake name, sex, birth date and national ID.

    ``tags=[...]`` adds tags; ``age=N`` (a factory parameter) pins the age on 2025-06-01.
    """

    class Meta:
        model = Resident
        skip_postgeneration_save = True

    class Params:
        age = None
        region_code = "330106"

    household = factory.SubFactory(HouseholdFactory)
    name = factory.LazyFunction(lambda: fakes.fake_name(_rng()))
    sex = factory.LazyFunction(lambda: fakes.fake_sex(_rng()))
    birth_date = factory.LazyAttribute(
        lambda o: fakes.fake_birth_date(
            _rng(),
            today=_TODAY,
            min_age=o.age if o.age is not None else 0,
            max_age=o.age if o.age is not None else 95,
        )
    )
    national_id = factory.LazyAttribute(
        lambda o: fakes.fake_national_id(
            _rng(), birth_date=o.birth_date, region_code=o.region_code, sex=o.sex
        )
    )
    phone = factory.LazyFunction(lambda: fakes.fake_mobile(_rng()))
    emergency_contact_name = factory.LazyFunction(lambda: fakes.fake_name(_rng()))
    emergency_contact_phone = factory.LazyFunction(lambda: fakes.fake_mobile(_rng()))

    @factory.post_generation
    def tags(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            ResidentTagAssignment.objects.bulk_create(
                [ResidentTagAssignment(resident=self, tag=t) for t in extracted]
            )


class PlaceFactory(DjangoModelFactory):
    class Meta:
        model = Place

    kind = PlaceKind.SHOP
    name = factory.Sequence(lambda n: f"示例商店{n}")
    address = factory.Sequence(lambda n: f"演示路{n}号")
    area = factory.LazyFunction(default_grid)
    contact_phone = factory.LazyFunction(lambda: fakes.fake_mobile(_rng()))
