"""The mapping file of ``gridgov import-cases``: which CSV column means what.

A YAML file (the safe subset, no key twice in a mapping — ``catalog_parse_yaml``) checked
by the pydantic models below; docs/imports.md describes every key with the LA 311 example
(``examples/la311/mapping.yaml``). ``mapping_load(path=…)`` reads and checks one and
returns a ``CaseMapping``; anything wrong raises ``ValidationFailed`` naming every problem
by its key path (``status.map.Closed: …``) before a single row is read.
"""

from __future__ import annotations

import datetime as dt
import string
import zoneinfo
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gridgov.catalog.schema import catalog_parse_yaml
from gridgov.core.errors import ValidationFailed
from gridgov.tasks.choices import TaskState

__all__ = [
    "IMPORT_STATES",
    "AreaFallback",
    "CaseMapping",
    "Location",
    "StatusMap",
    "TimeColumn",
    "TypeMap",
    "mapping_load",
    "mapping_parse",
]

#: The states an imported case may be given. Dispatched, accepted, handled and the other
#: in-hand states need today's assignee; an open case is imported ``registered`` (立案, it
#: waits for a dispatcher) or ``reported`` instead, and nobody is notified.
IMPORT_STATES = (
    TaskState.REPORTED,
    TaskState.REGISTERED,
    TaskState.CLOSED,
    TaskState.CANCELLED,
    TaskState.REJECTED,
)
ImportState = Literal["reported", "registered", "closed", "cancelled", "rejected"]
#: ``format: iso`` reads ISO 8601 (``2017-12-31T23:59:58``, with or without an offset).
ISO = "iso"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)"
        ) from None
    return name


class TimeColumn(_Strict):
    """A column of times: its ``format`` (``strptime`` codes, or ``iso``) and the time
    zone of values without an offset (default: the mapping's ``timezone``)."""

    column: str = Field(min_length=1)
    format: str = ISO
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _zone(value)

    @field_validator("format")
    @classmethod
    def _has_codes(cls, value: str) -> str:
        if value != ISO and "%" not in value:
            raise ValueError("a strptime format such as '%m/%d/%Y %I:%M:%S %p', or 'iso'")
        return value


class TypeMap(_Strict):
    """Source type value → catalogue code: a 4-digit task type code (its event-driven rule
    with the lowest code gives time limit and priority), or a 6-digit rule code.
    ``default``: the code for values not in ``map``; without it such rows are rejected."""

    column: str = Field(min_length=1)
    map: dict[str, str] = Field(default_factory=dict)
    default: str | None = None

    @field_validator("map", "default", mode="before")
    @classmethod
    def _unquoted(cls, value: Any) -> Any:
        """YAML reads an unquoted 0502 as a number (octal 322): say so, not "not a string"."""
        values = value.values() if isinstance(value, dict) else [value]
        for code in values:
            if isinstance(code, int | float) and not isinstance(code, bool):
                raise ValueError(
                    f'{code!r} is a number to YAML: write catalogue codes in quotes, e.g. "0502"'
                )
        return value

    @field_validator("map")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        for key, code in value.items():
            _catalogue_code(code, f"map.{key}")
        return value

    @field_validator("default")
    @classmethod
    def _default_code(cls, value: str | None) -> str | None:
        return None if value is None else _catalogue_code(value, "default")


def _catalogue_code(code: str, where: str) -> str:
    if not (code.isdigit() and len(code) in (4, 6)):
        raise ValueError(
            f"{where}: {code!r} is not a 4-digit task type or 6-digit rule code "
            '(quote it in YAML: "0502")'
        )
    return code


class StatusMap(_Strict):
    """Source status value → one of ``IMPORT_STATES``; ``default`` as for types."""

    column: str = Field(min_length=1)
    map: dict[str, ImportState] = Field(default_factory=dict)
    default: ImportState | None = None


class Location(_Strict):
    """The WGS84 longitude and latitude columns (decimal degrees)."""

    lon: str = Field(min_length=1)
    lat: str = Field(min_length=1)


class AreaFallback(_Strict):
    """The column naming the row's area when its coordinates are missing or lie in no
    area: an area ``code``, or the source system's id kept in ``Area.ref`` (``match:
    ref``), looked up among the areas whose code starts with ``under`` (default: all)."""

    column: str = Field(min_length=1)
    match: Literal["code", "ref"] = "code"
    under: str | None = Field(default=None, pattern=r"^\d+$")


class CaseMapping(_Strict):
    """One mapping file. ``system`` names the source (``[a-z0-9_-]``): each task's
    ``source_key`` is ``import:<system>:<number>``, so a rerun imports nothing twice.
    ``deadline_from_rule``: a row without a deadline gets its rule's time limit counted
    from the created time on the working calendar (a "what if" for sources without
    deadlines; off by default: the deadline is the data's)."""

    system: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    encoding: str = "utf-8-sig"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    timezone: str = Field(default_factory=lambda: settings.TIME_ZONE)
    number: str = Field(min_length=1)
    created: TimeColumn
    closed: TimeColumn | None = None
    deadline: TimeColumn | None = None
    deadline_from_rule: bool = False
    type: TypeMap
    status: StatusMap
    location: Location | None = None
    area: AreaFallback | None = None
    title: str = Field(min_length=1)
    description: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)

    @model_validator(mode="after")
    def _can_place_rows(self) -> CaseMapping:
        if self.location is None and self.area is None:
            raise ValueError("give location (lon/lat columns), area (a fallback column) or both")
        for name in ("title", "description"):
            _template_fields(getattr(self, name), name)
        return self

    def columns(self) -> set[str]:
        """Every CSV column the mapping reads (to check against the file's header)."""
        wanted = {self.number, self.created.column, self.type.column, self.status.column}
        for optional in (self.closed, self.deadline, self.area):
            if optional is not None:
                wanted.add(optional.column)
        if self.location is not None:
            wanted |= {self.location.lon, self.location.lat}
        wanted |= _template_fields(self.title, "title")
        wanted |= _template_fields(self.description, "description")
        return wanted

    def zone(self, column: TimeColumn) -> dt.tzinfo:
        """The time zone of a time column's values without an offset."""
        return zoneinfo.ZoneInfo(column.timezone or self.timezone)

    def codes(self) -> set[str]:
        """Every catalogue code the type map names."""
        return set(self.type.map.values()) | ({self.type.default} if self.type.default else set())


def _template_fields(template: str, name: str) -> set[str]:
    """The column names a ``{Column}`` template uses (``{{`` is a literal brace)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    fields = set()
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field or spec or conversion:
            raise ValueError(f"{name}: write a column as {{Column}}, not {{{field}}}")
        fields.add(field)
    return fields


def _yaml_hint(error: Any) -> str:
    """For a string that YAML read as something else, why: an unquoted ``No``, ``yes``,
    ``off`` is a boolean to YAML 1.1, ``2017`` a number, ``null`` or nothing ``None``."""
    value = error.get("input")
    if error.get("type") != "string_type" or isinstance(value, str | dict | list):
        return ""
    return " " + _(
        '(YAML read %(value)r here: write column names and values in quotes, e.g. "No", '
        '"Yes", "2017", "null")'
    ) % {"value": value}


def mapping_parse(data: Any, *, source: str = "mapping") -> CaseMapping:
    """Check parsed YAML against the mapping format; return a ``CaseMapping``.

    Raises ``ValidationFailed`` listing every problem as ``key.path: message`` (details:
    ``{"problems": [...]}``); a string YAML read as a boolean, number or null (an
    unquoted ``No``) says so and asks for quotes.
    """
    try:
        return CaseMapping.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}{_yaml_hint(err)}"
            for err in exc.errors(include_url=False)
        ]
        raise ValidationFailed(
            _("%(source)s is not a valid mapping: %(problems)s")
            % {"source": source, "problems": "; ".join(problems)},
            details={"problems": problems},
        ) from None


def mapping_load(*, path: Path) -> CaseMapping:
    """Read and check a mapping YAML file (UTF-8). Raises ``ValidationFailed`` for a
    missing or unreadable file, malformed YAML, a key given twice or a bad mapping."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            _("Cannot read the mapping %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from None
    try:
        data = catalog_parse_yaml(text)
    except ValueError as exc:
        raise ValidationFailed(
            _("%(path)s is not valid YAML: %(error)s") % {"path": path, "error": exc}
        ) from None
    return mapping_parse(data, source=str(path))
