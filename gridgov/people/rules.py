"""The access rules of the people app, as data: who may hold which role where, who may
write, who may see which personal data unmasked, who may grant which role.

Everything that decides access reads these tables, and ``docs/people.md`` describes them;
change them here and the docs together.
"""

from __future__ import annotations

from gridgov.areas.models import AreaLevel
from gridgov.people.choices import PersonalDataSubject, Role

#: Levels of the area a membership of each role may sit on. A department handler's
#: membership may sit on any level, but must lie inside its department's area.
ROLE_LEVELS: dict[str, frozenset[str]] = {
    Role.COMMAND_CENTRE: frozenset({AreaLevel.DISTRICT, AreaLevel.STREET}),
    Role.COMMUNITY_ADMIN: frozenset({AreaLevel.COMMUNITY}),
    Role.GRID_LEADER: frozenset({AreaLevel.COMMUNITY, AreaLevel.GRID}),
    Role.GRID_WORKER: frozenset({AreaLevel.GRID}),
    Role.PARTY_MEMBER: frozenset({AreaLevel.GRID, AreaLevel.MICRO_GRID}),
    Role.DEPARTMENT_HANDLER: frozenset(AreaLevel.values),
}

#: Roles that may create and change households, residents and places inside their areas.
#: Party members (volunteers) and department handlers read only.
WRITE_ROLES: frozenset[str] = frozenset(
    {Role.COMMAND_CENTRE, Role.COMMUNITY_ADMIN, Role.GRID_LEADER, Role.GRID_WORKER}
)

#: Roles that may manage departments (create, rename) inside their areas.
DEPARTMENT_ROLES: frozenset[str] = frozenset({Role.COMMAND_CENTRE})

#: Roles each role may grant and revoke, inside its own areas. Only a superuser grants
#: ``command_centre``.
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    Role.COMMAND_CENTRE: frozenset(
        {
            Role.COMMUNITY_ADMIN,
            Role.GRID_LEADER,
            Role.GRID_WORKER,
            Role.PARTY_MEMBER,
            Role.DEPARTMENT_HANDLER,
        }
    ),
    Role.COMMUNITY_ADMIN: frozenset({Role.GRID_LEADER, Role.GRID_WORKER, Role.PARTY_MEMBER}),
    Role.GRID_LEADER: frozenset({Role.GRID_WORKER, Role.PARTY_MEMBER}),
    Role.GRID_WORKER: frozenset(),
    Role.PARTY_MEMBER: frozenset(),
    Role.DEPARTMENT_HANDLER: frozenset(),
}

# Personal data comes in a few classes; each personal field belongs to one.
NAME = "name"
NATIONAL_ID = "national_id"
PHONE = "phone"
ADDRESS = "address"
BIRTH_DATE = "birth_date"

#: Personal fields of each kind of record, and the class each belongs to.
PERSONAL_FIELDS: dict[str, dict[str, str]] = {
    PersonalDataSubject.RESIDENT: {
        "name": NAME,
        "national_id": NATIONAL_ID,
        "phone": PHONE,
        "birth_date": BIRTH_DATE,
        "emergency_contact_name": NAME,
        "emergency_contact_phone": PHONE,
    },
    PersonalDataSubject.HOUSEHOLD: {"address": ADDRESS, "phone": PHONE},
    PersonalDataSubject.PLACE: {"contact_phone": PHONE},
}

_ALL_CLASSES = frozenset({NAME, NATIONAL_ID, PHONE, ADDRESS, BIRTH_DATE})

#: Classes of personal data each role may reveal (see unmasked), inside its own areas.
#: The grid team that visits residents sees everything; the command centre may reveal
#: names and phones, to call someone when an alarm or an urgent case needs it; party
#: members (volunteers) and department handlers never see personal data unmasked.
REVEAL_CLASSES: dict[str, frozenset[str]] = {
    Role.COMMAND_CENTRE: frozenset({NAME, PHONE}),
    Role.COMMUNITY_ADMIN: _ALL_CLASSES,
    Role.GRID_LEADER: _ALL_CLASSES,
    Role.GRID_WORKER: _ALL_CLASSES,
    Role.PARTY_MEMBER: frozenset(),
    Role.DEPARTMENT_HANDLER: frozenset(),
}
SUPERUSER_REVEAL_CLASSES = _ALL_CLASSES

#: Levels an area of a household or a place may have: they belong to a grid, or to a
#: micro-grid inside one, so that the grid's team sees them.
DWELLING_LEVELS: frozenset[str] = frozenset({AreaLevel.GRID, AreaLevel.MICRO_GRID})
