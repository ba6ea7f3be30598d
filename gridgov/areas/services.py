"""Writes to the area tree: create, update, retire, delete and import areas.

Every service runs in one transaction and bumps the area tree version (``index.py``) so that
the point → area index of every process is rebuilt on its next lookup.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import shape

from gridgov.areas.geometry import CleanBoundary, boundary_clean
from gridgov.areas.index import area_index_bump
from gridgov.areas.models import CODE_LENGTH, PARENT_LEVEL, Area, AreaLevel
from gridgov.core.errors import Conflict, ValidationFailed

#: Sentinel for "leave this field as it is" in ``area_update``.
UNSET: Any = object()
NAME_MAX = Area._meta.get_field("name").max_length or 100
REF_MAX = Area._meta.get_field("ref").max_length or 64


def area_code_validate(*, code: str, level: str, parent: Area | None) -> None:
    """Check an area code against its level and its parent; raise if it does not fit.

    Rules (statistical division code for district/street/community; GB/T 2260 for the
    district; CJ/T 349-2010 and Beijing's 15-digit practice for grids; micro-grids add 3
    more): digits only; length 6/9/12/15/18 for district/street/community/grid/micro-grid;
    the parent is exactly one level up (only the district, the top level, has none); the
    code starts with the parent's code; the digits it appends are not all zero (zero is the
    parent itself in the statistical code), and a district code does not end in ``00``
    (GB/T 2260: that is a prefecture or a province). Raises ``ValidationFailed``.
    """
    if level not in CODE_LENGTH:
        raise ValidationFailed(
            _("unknown area level %(level)s; expected one of %(levels)s")
            % {"level": level, "levels": ", ".join(AreaLevel.values)}
        )
    label = AreaLevel(level).label
    if not code or not code.isascii() or not code.isdigit():
        raise ValidationFailed(
            _("area code %(code)r must contain digits 0-9 only") % {"code": code}
        )
    if len(code) != CODE_LENGTH[level]:
        raise ValidationFailed(
            _("a %(level)s code has %(length)d digits; %(code)s has %(actual)d")
            % {
                "level": label,
                "length": CODE_LENGTH[level],
                "code": code,
                "actual": len(code),
            }
        )
    parent_level = PARENT_LEVEL[level]
    if parent_level is None:
        if parent is not None:
            raise ValidationFailed(
                _("a %(level)s is the top level and cannot have a parent (got %(parent)s)")
                % {"level": label, "parent": parent}
            )
        if code.endswith("00"):
            raise ValidationFailed(
                _(
                    "district code %(code)s ends in 00, which GB/T 2260 uses for a "
                    "prefecture or province, not a county-level district"
                )
                % {"code": code}
            )
        return
    if parent is None:
        raise ValidationFailed(
            _("%(code)s: a %(level)s needs a parent %(parent_level)s (give its code)")
            % {"level": label, "parent_level": AreaLevel(parent_level).label, "code": code}
        )
    if parent.level != parent_level:
        raise ValidationFailed(
            _("the parent of a %(level)s must be a %(parent_level)s; %(parent)s is a %(actual)s")
            % {
                "level": label,
                "parent_level": AreaLevel(parent_level).label,
                "parent": parent,
                "actual": AreaLevel(parent.level).label,
            }
        )
    if not code.startswith(parent.code):
        raise ValidationFailed(
            _("area code %(code)s does not start with its parent's code %(parent)s")
            % {"code": code, "parent": parent.code}
        )
    if set(code[len(parent.code) :]) == {"0"}:
        raise ValidationFailed(
            _("area code %(code)s appends only zeros to %(parent)s; the sequence starts at 1")
            % {"code": code, "parent": parent.code}
        )


def _validity_check(valid_from: dt.date | None, valid_to: dt.date | None) -> None:
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise ValidationFailed(
            _("valid to (%(to)s) must be after valid from (%(from)s); valid to is exclusive")
            % {"to": valid_to, "from": valid_from}
        )


def _text_check(*, name: str, ref: str, code: str) -> None:
    if not name.strip():
        raise ValidationFailed(_("area %(code)s needs a name") % {"code": code})
    if len(name) > NAME_MAX:
        raise ValidationFailed(
            _("the name of area %(code)s is longer than %(max)d characters")
            % {"code": code, "max": NAME_MAX}
        )
    if len(ref) > REF_MAX:
        raise ValidationFailed(
            _("the external reference of area %(code)s is longer than %(max)d characters")
            % {"code": code, "max": REF_MAX}
        )


def _clean_or_none(boundary: dict[str, Any] | None) -> CleanBoundary | None:
    return None if boundary is None else boundary_clean(boundary)


def _bbox_fields(clean: CleanBoundary | None) -> dict[str, float | None]:
    if clean is None:
        return {"min_lon": None, "min_lat": None, "max_lon": None, "max_lat": None}
    return dict(clean.bbox)


#: Share of a child's area that may lie outside its parent (digitising slivers along shared
#: edges); more than this and the child is refused as drawn in the wrong place.
OUTSIDE_PARENT_TOLERANCE = 0.01


def _within_parent_check(clean: CleanBoundary | None, parent: Area | None, code: str) -> None:
    """Refuse a boundary that lies (more than a sliver) outside its parent's boundary.

    Without this, a micro-grid drawn inside another grid would make ``area_locate`` answer
    with the wrong parent path. Skipped when either side has no boundary.
    """
    if clean is None or parent is None or not parent.boundary:
        return
    from shapely.geometry import shape

    child = clean.geometry
    outside = child.difference(shape(parent.boundary)).area
    if child.area > 0 and outside / child.area > OUTSIDE_PARENT_TOLERANCE:
        raise ValidationFailed(
            _("%(code)s lies %(share).0f%% outside its parent %(parent)s")
            % {"code": code, "share": 100 * outside / child.area, "parent": parent},
            code="outside_parent",
        )


def area_validate(
    *,
    code: str,
    name: str,
    level: str,
    parent: Area | None = None,
    boundary: dict[str, Any] | None = None,
    ref: str = "",
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> CleanBoundary | None:
    """Check a new area's fields without writing; return its cleaned boundary (or ``None``).

    Same inputs and rules as ``area_create`` (the admin form calls it). Also refuses a code
    that already exists. Raises ``ValidationFailed``.
    """
    area_code_validate(code=code, level=level, parent=parent)
    _text_check(name=name, ref=ref, code=code)
    _validity_check(valid_from, valid_to)
    clean = _clean_or_none(boundary)
    _within_parent_check(clean, parent, code)
    existing = Area.objects.filter(code=code).first()
    if existing is not None:
        raise ValidationFailed(
            _("area code %(code)s already exists (%(area)s)") % {"code": code, "area": existing},
            code="already_exists",
        )
    return clean


@transaction.atomic
def area_create(
    *,
    code: str,
    name: str,
    level: str,
    parent: Area | None = None,
    boundary: dict[str, Any] | None = None,
    ref: str = "",
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> Area:
    """Create one area after checking its code, boundary and validity dates.

    ``code``: digits, length per ``level`` (see ``area_code_validate``); ``boundary``: GeoJSON
    Polygon/MultiPolygon in WGS84 (lon, lat), stored with its bounding box; ``valid_to`` is
    exclusive. Returns the saved ``Area``. Raises ``ValidationFailed`` (bad code, boundary,
    dates, or a code that already exists).
    """
    clean = area_validate(
        code=code,
        name=name,
        level=level,
        parent=parent,
        boundary=boundary,
        ref=ref,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    try:
        with transaction.atomic():
            area = Area.objects.create(
                code=code,
                name=name.strip(),
                level=level,
                parent=parent,
                ref=ref,
                boundary=None if clean is None else clean.geojson,
                valid_from=valid_from,
                valid_to=valid_to,
                **_bbox_fields(clean),
            )
    except IntegrityError as exc:  # a concurrent create of the same code
        raise ValidationFailed(
            _("area code %(code)s already exists") % {"code": code}, code="already_exists"
        ) from exc
    area_index_bump()
    return area


def area_update_validate(
    *,
    area: Area,
    boundary: Any = UNSET,
    name: Any = UNSET,
    ref: Any = UNSET,
    valid_from: Any = UNSET,
    valid_to: Any = UNSET,
) -> CleanBoundary | None:
    """Check an update of ``area`` without writing; return the cleaned new boundary if any.

    Raises ``ValidationFailed``.
    """
    _text_check(
        name=area.name if name is UNSET else name,
        ref=area.ref if ref is UNSET else ref,
        code=area.code,
    )
    _validity_check(
        area.valid_from if valid_from is UNSET else valid_from,
        area.valid_to if valid_to is UNSET else valid_to,
    )
    if boundary is UNSET:
        return None
    clean = _clean_or_none(boundary)
    _within_parent_check(clean, area.parent, area.code)
    return clean


@transaction.atomic
def area_update(
    *,
    area: Area,
    boundary: Any = UNSET,
    name: Any = UNSET,
    ref: Any = UNSET,
    valid_from: Any = UNSET,
    valid_to: Any = UNSET,
) -> Area:
    """Change an area's boundary, name, external reference or validity dates.

    Arguments left out are unchanged; ``boundary=None`` removes the boundary. The code,
    level and parent never change: a redrawn grid is retired (``area_retire``) and its
    successor created with a new code. Returns the saved area. Raises ``ValidationFailed``.
    """
    clean = area_update_validate(
        area=area, boundary=boundary, name=name, ref=ref, valid_from=valid_from, valid_to=valid_to
    )
    fields = ["updated_at"]
    if boundary is not UNSET:
        area.boundary = None if clean is None else clean.geojson
        for key, value in _bbox_fields(clean).items():
            setattr(area, key, value)
        fields += ["boundary", "min_lon", "min_lat", "max_lon", "max_lat"]
    for key, value in (
        ("name", name),
        ("ref", ref),
        ("valid_from", valid_from),
        ("valid_to", valid_to),
    ):
        if value is not UNSET:
            setattr(area, key, value.strip() if key == "name" else value)
            fields.append(key)
    area.save(update_fields=fields)
    area_index_bump()
    return area


@transaction.atomic
def area_retire(*, area: Area, on: dt.date) -> int:
    """Retire an area and its descendants from date ``on`` (``valid_to = on``, exclusive).

    Descendants already retired before ``on`` keep their date. Returns the number of areas
    changed. Raises ``ValidationFailed`` when ``on`` is not after an affected area's
    ``valid_from`` (it would never have been valid).
    """
    affected = Area.objects.filter(Q(pk=area.pk) | Q(code__startswith=area.code)).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=on)
    )
    too_young = affected.filter(valid_from__gte=on).first()
    if too_young is not None:
        raise ValidationFailed(
            _("cannot retire %(area)s on %(on)s: it only becomes valid on %(from)s")
            % {"area": too_young, "on": on, "from": too_young.valid_from}
        )
    count = affected.update(valid_to=on, updated_at=timezone.now())
    area.refresh_from_db(fields=["valid_to", "updated_at"])
    area_index_bump()
    return count


@transaction.atomic
def area_delete(*, area: Area) -> None:
    """Delete an area that has no children and nothing else refers to.

    Prefer ``area_retire`` for areas that were ever used: history keeps pointing at them.
    Raises ``Conflict`` when children or other records still refer to the area.
    """
    children = area.children.count()
    if children:
        raise Conflict(
            _("%(area)s has %(count)d child areas; retire it or delete them first")
            % {"area": area, "count": children}
        )
    try:
        with transaction.atomic():
            area.delete()
    except ProtectedError as exc:
        raise Conflict(
            _("%(area)s is still used by other records; retire it instead") % {"area": area}
        ) from exc
    area_index_bump()


# --- Import ------------------------------------------------------------------------------


@dataclass
class AreaImportReport:
    """What an import did: codes created, codes found unchanged, and repairs per feature."""

    created: list[Area] = field(default_factory=list)
    unchanged: list[Area] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)


@dataclass
class _Row:
    index: int  # 1-based position in the file
    label: str  # how to name the feature in messages
    code: str | None
    name: str
    ref: str
    boundary: CleanBoundary
    valid_from: dt.date | None
    valid_to: dt.date | None
    existing: Area | None = None


def _property_text(properties: dict[str, Any], key: str | None) -> str:
    if not key:
        return ""
    value = properties.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _feature_label(index: int, properties: dict[str, Any], keys: list[str | None]) -> str:
    shown = [
        f'{key} "{properties[key]}"'
        for key in dict.fromkeys(k for k in keys if k)
        if properties.get(key) not in (None, "")
    ]
    return _("feature #%(index)d") % {"index": index} + (f" ({', '.join(shown)})" if shown else "")


def _date_property(properties: dict[str, Any], key: str) -> dt.date | None:
    value = properties.get(key)
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ValidationFailed(
            _("property %(key)s %(value)r is not an ISO date (YYYY-MM-DD)")
            % {"key": key, "value": value}
        ) from exc


def _sequence_order(rows: list[_Row]) -> list[_Row]:
    """Order features as grids are numbered: rows north→south, then west→east in a row.

    A feature's row is ``floor((north edge of all features − centroid latitude) / h)``,
    where ``h`` is the median height of the features' bounding boxes, so features of one
    band of a regular grid share a row; inside a row, by centroid longitude (west first),
    then latitude (north first), then file order.
    """
    if not rows:
        return rows
    heights = sorted(r.boundary.geometry.bounds[3] - r.boundary.geometry.bounds[1] for r in rows)
    band = heights[len(heights) // 2] or 1e-9
    north = max(r.boundary.geometry.bounds[3] for r in rows)

    def key(row: _Row) -> tuple[int, float, float, int]:
        centroid = row.boundary.geometry.centroid
        return (math.floor((north - centroid.y) / band), centroid.x, -centroid.y, row.index)

    return sorted(rows, key=key)


def _bbox_key(bbox: Mapping[str, float | None]) -> tuple[float, ...]:
    keys = ("min_lon", "min_lat", "max_lon", "max_lat")
    return tuple(round(float(bbox[k] or 0.0), 9) for k in keys)


def _same_content(area: Area, row: _Row) -> bool:
    """Whether ``area`` already is this feature: same ref, name (if given) and boundary."""
    if area.ref != row.ref or (row.name and area.name != row.name) or area.boundary is None:
        return False
    area_bbox = {k: getattr(area, k) for k in ("min_lon", "min_lat", "max_lon", "max_lat")}
    if _bbox_key(area_bbox) != _bbox_key(row.boundary.bbox):
        return False
    return bool(shape(area.boundary).equals(row.boundary.geometry))


def _match_existing(
    rows: list[_Row], *, level: str, parent: Area | None, errors: list[str]
) -> None:
    """Find the areas a rerun would duplicate; refuse those that differ."""
    by_code = {a.code: a for a in Area.objects.filter(code__in=[r.code for r in rows if r.code])}
    siblings = Area.objects.filter(level=level, parent=parent, valid_to__isnull=True)
    by_ref: dict[str, Area] = {}
    for area in siblings.exclude(ref=""):
        by_ref.setdefault(area.ref, area)
    unnamed: dict[tuple[float, ...], list[Area]] = {}
    for area in siblings.filter(ref="", min_lon__isnull=False):
        bbox = {k: getattr(area, k) for k in ("min_lon", "min_lat", "max_lon", "max_lat")}
        unnamed.setdefault(_bbox_key(bbox), []).append(area)
    for row in rows:
        if row.code:
            existing = by_code.get(row.code)
        elif row.ref:
            existing = by_ref.get(row.ref)
        else:
            candidates = unnamed.get(_bbox_key(row.boundary.bbox), [])
            existing = next((a for a in candidates if _same_content(a, row)), None)
        if existing is None:
            continue
        if existing.level != level or existing.parent_id != (parent.pk if parent else None):
            errors.append(
                _("%(feature)s: area code %(code)s already exists as %(area)s elsewhere")
                % {"feature": row.label, "code": existing.code, "area": existing}
            )
        elif not _same_content(existing, row):
            errors.append(
                _(
                    "%(feature)s: already exists as %(area)s with a different name, "
                    "reference or boundary; retire it and import the new boundary, or "
                    "change it in the admin"
                )
                % {"feature": row.label, "area": existing}
            )
        else:
            row.existing = existing


@transaction.atomic
def area_import_features(
    *,
    features: list[dict[str, Any]],
    level: str,
    parent: Area | None = None,
    code_property: str | None = None,
    name_property: str | None = None,
    ref_property: str | None = None,
    repair: bool = False,
    valid_from: dt.date | None = None,
) -> AreaImportReport:
    """Import GeoJSON features as areas of ``level`` under ``parent``: all or nothing.

    Each feature's geometry is its boundary (checked by ``boundary_clean``; ``repair`` fixes
    unclosed rings and invalid polygons and reports each change). Code from
    ``code_property``; without it, sequence codes after the parent's highest existing child,
    numbered north→south then west→east (``_sequence_order``), 3 digits for street,
    community, grid and micro-grid. Name from ``name_property`` (default ``name``), else
    "<level> <code>"; ``ref`` from ``ref_property``. ``valid_from``/``valid_to`` properties
    (ISO dates, as ``export-areas`` writes them) win over the ``valid_from`` argument.

    Every feature is checked before anything is written; any error (bad geometry, bad or
    duplicate code, code already used by a different area, missing parent) raises one
    ``ValidationFailed`` listing every offending feature (``details``: list of messages),
    and nothing is imported. Rerunning an import is safe: a feature that already exists —
    matched by its code, else by its ``ref`` among the parent's unretired children of that
    level, else by an equal boundary — with the same ref, name (when given) and boundary is
    reported in ``unchanged`` instead of duplicated; one that exists with different
    content is an error.
    """
    if level not in CODE_LENGTH:
        raise ValidationFailed(
            _("unknown area level %(level)s; expected one of %(levels)s")
            % {"level": level, "levels": ", ".join(AreaLevel.values)}
        )
    parent_level = PARENT_LEVEL[level]
    if parent_level is not None and parent is None:
        raise ValidationFailed(
            _("importing %(level)s areas needs a parent %(parent_level)s (--parent CODE)")
            % {"level": AreaLevel(level).label, "parent_level": AreaLevel(parent_level).label}
        )
    if parent is not None and parent.level != parent_level:
        raise ValidationFailed(
            _("the parent of a %(level)s must be a %(parent_level)s; %(parent)s is a %(actual)s")
            % {
                "level": AreaLevel(level).label,
                "parent_level": AreaLevel(parent_level).label if parent_level else "-",
                "parent": parent,
                "actual": AreaLevel(parent.level).label,
            }
        )
    if parent_level is None and not code_property:
        raise ValidationFailed(
            _("top-level areas cannot be numbered automatically: give --code-property")
        )

    # A property named on the command line that no feature has is a typo, not a choice.
    present = {
        str(key)
        for feature in features
        if isinstance(feature, dict) and isinstance(feature.get("properties"), dict)
        for key in feature["properties"]
    }
    for key, option in ((name_property, "--name-property"), (ref_property, "--ref-property")):
        if key and key not in present:
            raise ValidationFailed(
                _("no feature has the property %(key)s (%(option)s); the properties are: %(keys)s")
                % {"key": key, "option": option, "keys": ", ".join(sorted(present)) or "—"}
            )

    name_key = name_property or "name"
    label_keys = [name_key, ref_property, code_property]
    errors: list[str] = []
    rows: list[_Row] = []
    report = AreaImportReport()
    for index, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        label = _feature_label(index, properties, label_keys)
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise ValidationFailed(_("not a GeoJSON Feature"))
            if feature.get("geometry") is None:
                raise ValidationFailed(_("the feature has no geometry"))
            clean = boundary_clean(feature["geometry"], repair=repair)
            code = _property_text(properties, code_property) or None
            if code_property and not code:
                raise ValidationFailed(
                    _("property %(key)s (the code) is missing") % {"key": code_property}
                )
            if code is not None:
                area_code_validate(code=code, level=level, parent=parent)
            _within_parent_check(clean, parent, code or label)
            ref = _property_text(properties, ref_property)
            name = _property_text(properties, name_key)
            parent_code = _property_text(properties, "parent_code")
            if parent_code and parent is not None and parent_code != parent.code:
                raise ValidationFailed(
                    _("its parent_code %(code)s is not the import's parent %(parent)s")
                    % {"code": parent_code, "parent": parent.code}
                )
            row_from = _date_property(properties, "valid_from") or valid_from
            row_to = _date_property(properties, "valid_to")
            _validity_check(row_from, row_to)
            _text_check(name=name or "-", ref=ref, code=code or label)
        except ValidationFailed as exc:
            errors.append(f"{label}: {exc.message}")
            continue
        rows.append(_Row(index, label, code, name, ref, clean, row_from, row_to))
        report.repairs += [f"{label}: {note}" for note in clean.repairs]

    seen_code: dict[str, _Row] = {}
    seen_ref: dict[str, _Row] = {}
    for row in rows:
        if row.code and row.code in seen_code:
            errors.append(
                _("%(feature)s: code %(code)s is used twice in the file (also %(other)s)")
                % {"feature": row.label, "code": row.code, "other": seen_code[row.code].label}
            )
        if row.ref and row.ref in seen_ref:
            errors.append(
                _("%(feature)s: reference %(ref)s is used twice in the file (also %(other)s)")
                % {"feature": row.label, "ref": row.ref, "other": seen_ref[row.ref].label}
            )
        if row.code:
            seen_code.setdefault(row.code, row)
        if row.ref:
            seen_ref.setdefault(row.ref, row)
    _match_existing(rows, level=level, parent=parent, errors=errors)

    new_rows = [r for r in rows if r.existing is None]
    to_number = _sequence_order([r for r in new_rows if r.code is None])
    if to_number and parent is not None:
        width = CODE_LENGTH[level] - len(parent.code)
        used = Area.objects.filter(code__startswith=parent.code, level=level).values_list(
            "code", flat=True
        )
        taken = {int(c[len(parent.code) :]) for c in used} | {
            int(r.code[len(parent.code) :]) for r in new_rows if r.code
        }
        start = max(taken, default=0) + 1
        if start + len(to_number) - 1 >= 10**width:
            errors.append(
                _("%(count)d new areas do not fit in the %(width)d-digit sequence of %(parent)s")
                % {"count": len(to_number), "width": width, "parent": parent.code}
            )
        else:
            for seq, row in enumerate(to_number, start=start):
                row.code = f"{parent.code}{seq:0{width}d}"

    if errors:
        summary = _("nothing was imported; %(count)d problem(s):") % {"count": len(errors)}
        raise ValidationFailed("\n".join([summary, *errors]), details=errors)

    label_of_level = AreaLevel(level).label
    for row in rows:
        if row.existing is not None:
            report.unchanged.append(row.existing)
            continue
        report.created.append(
            Area(
                code=str(row.code),
                name=row.name or f"{label_of_level} {row.code}",
                level=level,
                parent=parent,
                ref=row.ref,
                boundary=row.boundary.geojson,
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                **row.boundary.bbox,
            )
        )
    if report.created:
        try:
            with transaction.atomic():
                report.created = Area.objects.bulk_create(report.created, batch_size=500)
        except IntegrityError as exc:  # a concurrent import took one of the codes
            raise Conflict(
                _("another import created some of these codes at the same time; rerun it")
            ) from exc
        area_index_bump()
    return report
