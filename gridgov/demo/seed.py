"""Build a demo street: areas, staff with their roles, households, residents, places, and
the default catalogue — through the same services the product uses.

Everything is generated and deterministic for a seed: names, ID numbers and phones come
from ``gridgov.people.fakes`` (valid in form, obviously fake). Every object has a stable
key (area code, username, ``ref``), so a rerun creates only what is missing, and the whole
seed runs in one transaction: a crash leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import Point, Polygon

from gridgov.areas.models import Area, AreaLevel
from gridgov.areas.services import area_create
from gridgov.catalog.services import catalog_import_default
from gridgov.demo import geometry
from gridgov.iot.demo import kits_seed
from gridgov.open311.services import report_fields_load_default
from gridgov.people import fakes
from gridgov.people.choices import PlaceKind, ResidentTag, Role
from gridgov.people.models import Department, Household, Place, Resident
from gridgov.people.services import (
    department_create,
    household_create,
    membership_grant,
    place_create,
    resident_create,
)

#: The one password of every demo account. Demo data only: never in production.
DEMO_PASSWORD = "gridgov-demo"  # noqa: S105

#: Demo street: Gudang street (古荡街道), Xihu district, Hangzhou — the seed article's street.
DISTRICT = ("330106", "西湖区")
STREET = ("330106004", "古荡街道")
#: Street outline (WGS84): west, south, east, north.
OUTLINE = (120.095, 30.268, 120.135, 30.298)
#: Functional departments named by the default catalogue's ``handler_department``.
DEPARTMENTS = [
    ("law_enforcement", "综合行政执法队"),
    ("municipal", "市政设施管理所"),
    ("market_supervision", "市场监管所"),
]
#: Handlers of the departments besides law enforcement's ``he``: (username, name, department).
DEPARTMENT_HANDLERS = [("ma", "马市政", "municipal"), ("shi", "施市监", "market_supervision")]
COMMUNITY_NAMES = [
    "古荡新村社区", "嘉绿苑社区", "华星社区", "益乐新村社区", "古荡湾社区", "文鼎苑社区",
    "莲花街社区", "紫荆社区", "马塍社区", "嘉南社区", "世纪新城社区", "东岳社区",
]  # fmt: skip


@dataclass(frozen=True)
class Scale:
    """Size of the demo street. Communities form a ``community_cols × community_rows``
    block lattice, each of ``grid_cols × grid_rows`` grids; ``micro_grids`` are spread over
    the grids as evenly as possible (at least one each)."""

    community_cols: int
    community_rows: int
    grid_cols: int
    grid_rows: int
    micro_grids: int
    households_per_micro_grid: int
    grid_workers: int
    party_members: int

    @property
    def communities(self) -> int:
        return self.community_cols * self.community_rows

    @property
    def grids(self) -> int:
        return self.communities * self.grid_cols * self.grid_rows


SCALES: dict[str, Scale] = {
    # A street small enough for tests and a first look.
    "small": Scale(2, 1, 2, 2, micro_grids=16, households_per_micro_grid=5,
                   grid_workers=8, party_members=16),
    # The seed's Gudang street: 550 micro-grids, 246 grid workers, 1,512 party members.
    "full": Scale(4, 3, 4, 3, micro_grids=550, households_per_micro_grid=30,
                  grid_workers=246, party_members=1512),
}  # fmt: skip


#: What a run counts, in the order it reports them.
CREATED_KEYS = (
    "areas", "task_types", "task_rules", "users", "memberships", "departments",
    "households", "residents", "places",
)  # fmt: skip


@dataclass
class SeedReport:
    """What a run created (a rerun reports zeros) and the demo logins."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CREATED_KEYS, 0))
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, area)

    def count(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n


def seed_demo(
    *, scale: str = "small", seed: int = 2026, progress: Callable[[str], None] | None = None
) -> SeedReport:
    """Create the demo street at ``scale`` (a key of ``SCALES``) and return what was made.

    Idempotent: objects are keyed by area code, username and ``ref``; existing ones are
    left as they are. Raises ``KeyError`` for an unknown scale.
    """
    spec = SCALES[scale]
    say = progress or (lambda _msg: None)
    report = SeedReport()
    with transaction.atomic():
        say(_("areas"))
        # Only the demo's own areas are filled: areas a user added to the street stay empty.
        street, grids, micro_grids = _seed_areas(spec, seed, report)
        say(_("catalogue"))
        summary = catalog_import_default()
        report.count("task_types", summary.task_types.created)
        report.count("task_rules", summary.rules.created)
        report_fields_load_default()  # what residents are asked (Open311, /resident/)
        say(_("staff"))
        _seed_staff(spec, seed, street, grids, micro_grids, report)
        say(_("households and residents"))
        _seed_households(spec, seed, micro_grids, report)
        kits_seed(area_code=street.code)  # digital-family kits of the elderly households
        say(_("places"))
        _seed_places(seed, street, grids, micro_grids, report)
    return report


# --- areas ------------------------------------------------------------------------------


def _get_or_create_area(
    report: SeedReport, *, code: str, name: str, level: str, parent: Area | None, poly: Any
) -> Area:
    existing = Area.objects.filter(code=code).first()
    if existing is not None:
        return existing
    report.count("areas")
    return area_create(
        code=code,
        name=name,
        level=level,
        parent=parent,
        boundary=None if poly is None else geometry.geojson(poly),
    )


def _seed_areas(spec: Scale, seed: int, report: SeedReport) -> tuple[Area, list[Area], list[Area]]:
    rng = random.Random(f"{seed}:areas")
    west, south, east, north = OUTLINE
    cols, rows = spec.community_cols * spec.grid_cols, spec.community_rows * spec.grid_rows
    lattice = geometry.Lattice.build(
        west=west, south=south, east=east, north=north, cols=cols, rows=rows,
        jitter=0.18, rng=rng,
    )  # fmt: skip
    district = _get_or_create_area(
        report, code=DISTRICT[0], name=DISTRICT[1], level=AreaLevel.DISTRICT, parent=None,
        poly=None,
    )  # fmt: skip
    street = _get_or_create_area(
        report, code=STREET[0], name=STREET[1], level=AreaLevel.STREET, parent=district,
        poly=Polygon([(west, north), (east, north), (east, south), (west, south)]),
    )  # fmt: skip
    # Micro-grids per grid: spread evenly, the first grids taking one more.
    base, extra = divmod(spec.micro_grids, spec.grids)
    grids: list[Area] = []
    micro_grids: list[Area] = []
    index = 0
    # Communities and grids are numbered north→south, then west→east (CJ/T 349 practice).
    for crow in range(spec.community_rows):
        for ccol in range(spec.community_cols):
            cnum = crow * spec.community_cols + ccol + 1
            cells = [
                (crow * spec.grid_rows + r, ccol * spec.grid_cols + c)
                for r in range(spec.grid_rows)
                for c in range(spec.grid_cols)
            ]
            community = _get_or_create_area(
                report,
                code=f"{street.code}{cnum:03d}",
                name=COMMUNITY_NAMES[(cnum - 1) % len(COMMUNITY_NAMES)],
                level=AreaLevel.COMMUNITY,
                parent=street,
                poly=geometry.union([lattice.cell(r, c) for r, c in cells]),
            )
            for gnum, (r, c) in enumerate(cells, start=1):
                cell = lattice.cell(r, c)
                grid = _get_or_create_area(
                    report,
                    code=f"{community.code}{gnum:03d}",
                    name=f"{community.name[:-2]}第{gnum}网格",
                    level=AreaLevel.GRID,
                    parent=community,
                    poly=cell,
                )
                grids.append(grid)
                n_micro = max(1, base + (1 if index < extra else 0))
                index += 1
                for mnum, strip in enumerate(geometry.strips(cell, n_micro), start=1):
                    micro = _get_or_create_area(
                        report,
                        code=f"{grid.code}{mnum:03d}",
                        name=f"{grid.name}{mnum}号微网格",
                        level=AreaLevel.MICRO_GRID,
                        parent=grid,
                        poly=strip,
                    )
                    micro_grids.append(micro)
    return street, grids, micro_grids


def _communities_of(grids: list[Area]) -> list[Area]:
    """The communities of ``grids``, ordered by code."""
    by_code = {grid.parent.code: grid.parent for grid in grids if grid.parent is not None}
    return [by_code[code] for code in sorted(by_code)]


# --- staff ------------------------------------------------------------------------------


def _user(report: SeedReport, username: str, full_name: str, password_hash: str) -> Any:
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username,
        defaults={
            "first_name": full_name[1:],
            "last_name": full_name[0],
            "password": password_hash,
            "is_staff": True,
        },
    )
    if created:
        report.count("users")
    return user


def _grant(report: SeedReport, user: Any, area: Area, role: str, **kwargs: Any) -> None:
    before = user.memberships.count()
    membership_grant(actor=None, user=user, area=area, role=role, **kwargs)
    if user.memberships.count() > before:
        report.count("memberships")


def _seed_staff(
    spec: Scale,
    seed: int,
    street: Area,
    grids: list[Area],
    micro_grids: list[Area],
    report: SeedReport,
) -> None:
    rng = random.Random(f"{seed}:staff")
    password_hash = make_password(DEMO_PASSWORD)  # hashed once: Argon2 is slow on purpose
    communities = _communities_of(grids)
    first_community, first_grid = communities[0], grids[0]

    admin = get_user_model().objects.filter(username="admin").first()
    if admin is None:
        admin = _user(report, "admin", "管理员", password_hash)
        admin.is_superuser = True
        admin.save(update_fields=["is_superuser"])
    report.logins.append(("admin", "superuser", "—"))

    named = [
        ("zhou", "周指挥", street, Role.COMMAND_CENTRE),
        ("lin", "林社区", first_community, Role.COMMUNITY_ADMIN),
        ("wu", "吴网格长", first_community, Role.GRID_LEADER),
        ("chen", "陈网格员", first_grid, Role.GRID_WORKER),
    ]
    for username, full_name, area, role in named:
        _grant(report, _user(report, username, full_name, password_hash), area, role)
        report.logins.append((username, Role(role).value, area.name))

    # Grid workers: one per grid first (chen has grid 1), the rest spread round the grids.
    for i in range(1, spec.grid_workers):
        grid = grids[i % len(grids)]
        user = _user(report, f"gw{i:04d}", fakes.fake_name(rng), password_hash)
        _grant(report, user, grid, Role.GRID_WORKER)
    # Every community's grid leader (the first community has wu).
    for community in communities[1:]:
        user = _user(report, f"gl{community.code[-3:]}", fakes.fake_name(rng), password_hash)
        _grant(report, user, community, Role.GRID_LEADER)
    # Every community's admin, who supervises and verifies (the first community has lin).
    for community in communities[1:]:
        user = _user(report, f"ca{community.code[-3:]}", fakes.fake_name(rng), password_hash)
        _grant(report, user, community, Role.COMMUNITY_ADMIN)

    # In-service party members, placed into micro-grids round-robin.
    for i in range(spec.party_members):
        user = _user(report, f"pm{i + 1:04d}", fakes.fake_name(rng), password_hash)
        _grant(report, user, micro_grids[i % len(micro_grids)], Role.PARTY_MEMBER)
    if spec.party_members:
        report.logins.append(("pm0001", Role.PARTY_MEMBER.value, micro_grids[0].name))

    # The functional departments the default catalogue routes to, and one handler.
    departments = {}
    for code, name in DEPARTMENTS:
        department = Department.objects.filter(code=code).first()
        if department is None:
            department = department_create(actor=None, code=code, name=name, area=street)
            report.count("departments")
        departments[code] = department
    handler = _user(report, "he", "何执法", password_hash)
    _grant(
        report, handler, street, Role.DEPARTMENT_HANDLER, department=departments["law_enforcement"]
    )
    # One handler for each of the other departments, so that no queue stands unattended.
    for username, full_name, code in DEPARTMENT_HANDLERS:
        user = _user(report, username, full_name, password_hash)
        _grant(report, user, street, Role.DEPARTMENT_HANDLER, department=departments[code])
    report.logins.append(("he", Role.DEPARTMENT_HANDLER.value, departments["law_enforcement"].name))


#: One demo login per role, in the order they are listed.
DEMO_LOGINS = ("admin", "zhou", "lin", "wu", "chen", "pm0001", "he")


def demo_logins() -> list[tuple[str, str, str]]:
    """The demo logins that exist: ``(username, role, area or department name)``, one per
    role (``DEMO_LOGINS``; the superuser's role is ``"superuser"``)."""
    users = {
        u.username: u
        for u in get_user_model()
        .objects.filter(username__in=DEMO_LOGINS)
        .prefetch_related("memberships__area", "memberships__department")
    }
    logins = []
    for username in DEMO_LOGINS:
        user = users.get(username)
        if user is None:
            continue
        membership = next(iter(user.memberships.all()), None)
        if membership is None:
            logins.append((username, "superuser" if user.is_superuser else "", "—"))
            continue
        where = membership.department.name if membership.department else membership.area.name
        logins.append((username, membership.role, where))
    return logins


# --- households and residents -----------------------------------------------------------

#: Household kinds with their shares. Elderly (60+) are about a fifth of residents, as in
#: Hangzhou's 2020 census (60+: 17.9% city-wide, higher in old estates); elderly living
#: alone about one in ten of the elderly.
HOUSEHOLD_KINDS: list[tuple[str, float]] = [
    ("elderly_alone", 0.07),
    ("empty_nest", 0.10),
    ("family_with_elder", 0.18),
    ("family", 0.45),
    ("young_single", 0.12),
    ("floating_tenants", 0.08),
]


#: Other key and special groups, each a share of the residents of at least an age. Orders of
#: magnitude of the national registers (design; CATALOGUE-FACTS §1.1 and §2.2 name the
#: groups and their visits, not their shares): veterans about 4% of the population,
#: registered severe mental disorders about 0.45%, community correction about 0.05%,
#: released prisoners under 安置帮教 about 0.1% (9% of them "key", CATALOGUE-FACTS §2.3).
KEY_GROUP_SHARES: list[tuple[str, float, int]] = [
    (ResidentTag.VETERAN, 0.04, 30),
    (ResidentTag.MENTAL_DISORDER_STABLE, 0.004, 18),
    (ResidentTag.MENTAL_DISORDER_UNSTABLE, 0.0005, 18),
    (ResidentTag.COMMUNITY_CORRECTION, 0.0005, 18),
    (ResidentTag.RELEASED_PRISONER, 0.001, 18),
    (ResidentTag.RELEASED_PRISONER_KEY, 0.0001, 18),
    (ResidentTag.DRUG_REHAB_Y1, 0.0002, 18),
    (ResidentTag.KEY_YOUTH, 0.002, 12),
    (ResidentTag.PETITIONER, 0.0003, 30),
    (ResidentTag.SPECIAL_FAMILY, 0.001, 50),
]


def _random_point(rng: random.Random, polygon: Polygon) -> tuple[float, float]:
    """A point strictly inside ``polygon`` (rejection sampling in its bounding box)."""
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    inner = polygon.buffer(-1e-5)
    while True:
        lon = round(rng.uniform(min_lon, max_lon), 6)
        lat = round(rng.uniform(min_lat, max_lat), 6)
        if inner.contains(Point(lon, lat)):
            return lon, lat


def _seed_households(spec: Scale, seed: int, micro_grids: list[Area], report: SeedReport) -> None:
    from shapely.geometry import shape

    today = timezone.localdate()
    kinds, weights = zip(*HOUSEHOLD_KINDS, strict=True)
    existing = set(Household.objects.filter(ref__startswith="demo-").values_list("ref", flat=True))
    # Fake ID numbers can collide (same birth date and sequence); redraw until unique.
    used_ids = {
        national_id
        for national_id in Resident.objects.values_list("national_id", flat=True)
        if national_id
    }
    for micro in micro_grids:
        polygon = shape(micro.boundary)
        compound = f"{micro.parent.parent.name[:-2]}{micro.parent.code[-1]}区"  # type: ignore[union-attr]
        for n in range(1, spec.households_per_micro_grid + 1):
            ref = f"demo-{micro.code}-{n:02d}"
            if ref in existing:
                continue
            rng = random.Random(f"{seed}:{ref}")
            lon, lat = _random_point(rng, polygon)
            household = household_create(
                actor=None,
                address=f"{compound}{micro.code[-2:].lstrip('0')}幢{n}单元{rng.randint(1, 6)}"
                f"0{rng.randint(1, 4)}室",
                lon=lon,
                lat=lat,
                phone=fakes.fake_landline(rng),
                ref=ref,
            )
            report.count("households")
            kind = rng.choices(kinds, weights)[0]
            for resident in _household_members(rng, kind, today, used_ids):
                resident_create(actor=None, household=household, **resident)
                report.count("residents")


def _household_members(
    rng: random.Random, kind: str, today: dt.date, used_ids: set[str]
) -> list[dict[str, Any]]:
    """Residents of one household: ages and key-group tags for its kind. ``used_ids``: the
    national ID numbers already taken; the new ones are added to it."""

    def person(min_age: int, max_age: int, tags: list[str]) -> dict[str, Any]:
        birth = fakes.fake_birth_date(rng, today=today, min_age=min_age, max_age=max_age)
        sex = fakes.fake_sex(rng)
        national_id = fakes.fake_national_id(rng, birth_date=birth, sex=sex)
        while national_id in used_ids:
            national_id = fakes.fake_national_id(rng, birth_date=birth, sex=sex)
        used_ids.add(national_id)
        age = (today - birth).days // 365
        tags = list(tags)
        if age >= 60:
            tags.append(ResidentTag.ELDERLY)
        if rng.random() < 0.02:
            tags.append(ResidentTag.DISABLED)
        if rng.random() < 0.015:
            tags.append(ResidentTag.LOW_INCOME)
        for tag, share, min_age in KEY_GROUP_SHARES:
            if age >= min_age and rng.random() < share:
                tags.append(tag)
        return {
            "name": fakes.fake_name(rng),
            "national_id": national_id,
            "phone": fakes.fake_mobile(rng),
            "sex": sex,
            "tags": sorted(set(tags)),
            "emergency_contact_name": fakes.fake_name(rng) if age >= 60 else "",
            "emergency_contact_phone": fakes.fake_mobile(rng) if age >= 60 else "",
        }

    if kind == "elderly_alone":
        elder = person(65, 95, [ResidentTag.LIVING_ALONE])
        age = today.year - int(elder["national_id"][6:10])
        elder["tags"].append(
            ResidentTag.ELDERLY_HIGH_RISK if age >= 80 else ResidentTag.ELDERLY_KEY
        )
        return [elder]
    if kind == "empty_nest":
        return [person(62, 90, [ResidentTag.EMPTY_NEST]) for _ in range(2)]
    if kind == "family_with_elder":
        return [person(60, 92, []), person(30, 55, []), person(30, 55, []), person(3, 17, [])]
    if kind == "family":
        members = [person(28, 58, []), person(28, 58, [])]
        members += [person(1, 17, []) for _ in range(rng.randint(0, 2))]
        return members
    if kind == "young_single":
        return [person(20, 35, [])]
    return [person(18, 45, [ResidentTag.FLOATING]) for _ in range(rng.randint(2, 4))]


# --- places -----------------------------------------------------------------------------

#: Places in every grid: (kind, how many, name pattern).
PLACES_PER_GRID: list[tuple[str, int, str]] = [
    (PlaceKind.SHOP, 2, "{grid}便利店{n}"),
    (PlaceKind.RENTAL_HOUSING, 2, "{grid}出租房{n}"),
    (PlaceKind.RESTAURANT, 1, "{grid}小吃店"),
    (PlaceKind.GARBAGE_STATION, 1, "{grid}垃圾分类投放点"),
]
#: Places in every community.
PLACES_PER_COMMUNITY: list[tuple[str, int, str]] = [
    (PlaceKind.GROUP_RENTAL, 1, "{community}群租房"),
    (PlaceKind.SMALL_VENUE, 1, "{community}小旅馆"),
    (PlaceKind.KEY_PLACE, 1, "{community}加油站"),
    (PlaceKind.SHELTER, 1, "{community}避灾安置点"),
]


def _seed_places(
    seed: int, street: Area, grids: list[Area], micro_grids: list[Area], report: SeedReport
) -> None:
    from shapely.geometry import shape

    existing = set(Place.objects.filter(ref__startswith="demo-").values_list("ref", flat=True))
    todo: list[tuple[str, str, str, Area]] = []
    for grid in grids:
        short = grid.name.replace("社区", "")
        for kind, count, pattern in PLACES_PER_GRID:
            for n in range(1, count + 1):
                todo.append(
                    (f"demo-{grid.code}-{kind}-{n}", kind, pattern.format(grid=short, n=n), grid)
                )
    for community in _communities_of(grids):
        first_grid = min((g for g in grids if g.parent == community), key=lambda g: g.code)
        for kind, count, pattern in PLACES_PER_COMMUNITY:
            for n in range(1, count + 1):
                name = pattern.format(community=community.name[:-2])
                todo.append((f"demo-{community.code}-{kind}-{n}", kind, name, first_grid))
    # Each micro-grid is a residential building (Zhejiang: 微网格 = a building or stairwell).
    for micro in micro_grids:  # the seed's own: areas a user added stay empty
        grid_code = micro.code[: len(micro.code) - 3]
        compound = f"{micro.name.split('第')[0]}{grid_code[-1]}区"  # as the households
        name = f"{compound}{micro.code[-2:].lstrip('0')}幢"
        todo.append((f"demo-{micro.code}-{PlaceKind.BUILDING}-1", PlaceKind.BUILDING, name, micro))
    for ref, kind, name, grid in todo:
        if ref in existing:
            continue
        rng = random.Random(f"{seed}:{ref}")
        lon, lat = _random_point(rng, shape(grid.boundary))
        place_create(
            actor=None,
            kind=kind,
            name=name,
            address=name
            if kind == PlaceKind.BUILDING
            else f"{grid.parent.name[:-2]}路{rng.randint(1, 300)}号",  # type: ignore[union-attr]
            lon=lon,
            lat=lat,
            contact_phone=fakes.fake_mobile(rng),
            ref=ref,
        )
        report.count("places")
