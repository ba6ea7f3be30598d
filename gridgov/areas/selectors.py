"""Reads of the area tree: point → area lookup, paths, validity, GeoJSON export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.areas.index import PREDICATE, area_index_get
from gridgov.areas.models import Area
from gridgov.core.errors import NotFound

__all__ = [
    "PREDICATE",
    "area_export_geojson",
    "area_get_by_code",
    "area_list_valid",
    "area_locate",
    "area_locate_many",
    "area_locate_many_ids",
    "area_path",
    "area_valid_q",
]


def _day(on: dt.date | None) -> dt.date:
    return timezone.localdate() if on is None else on


def area_valid_q(on: dt.date) -> Q:
    """The filter "valid on ``on``": ``valid_from`` null or ≤ on, ``valid_to`` null or > on."""
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gt=on)
    )


def area_list_valid(*, on: dt.date | None = None) -> QuerySet[Area]:
    """Return the areas valid on ``on`` (default: today in ``TIME_ZONE``), ordered by code."""
    return Area.objects.filter(area_valid_q(_day(on)))


def area_get_by_code(*, code: str) -> Area:
    """Return the area with this code. Raises ``NotFound``."""
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise NotFound(_("no area has code %(code)s") % {"code": code})
    return area


def area_locate_many_ids(
    lons: Sequence[float] | npt.ArrayLike,
    lats: Sequence[float] | npt.ArrayLike,
    *,
    on: dt.date | None = None,
) -> npt.NDArray[np.int64]:
    """Return, for each point, the id of the deepest valid area covering it (0 if none).

    ``lons``, ``lats``: equal-length sequences or numpy arrays of WGS84 degrees; NaN marks a
    point without coordinates (never located). ``on``: the date of validity (default today).
    Overlap rule: deepest level, then smallest polygon area, then lowest code. A point on a
    boundary is inside (``covers``). One change-check query, then pure numpy/GEOS work.
    Raises ``ValueError`` when ``lons`` and ``lats`` differ in length.
    """
    return area_index_get().locate_ids(lons, lats, on=_day(on))


def area_locate_many(
    lons: Sequence[float] | npt.ArrayLike,
    lats: Sequence[float] | npt.ArrayLike,
    *,
    on: dt.date | None = None,
) -> list[Area | None]:
    """Return, for each point, the area ``area_locate`` would return (``None`` outside).

    Same inputs and rules as ``area_locate_many_ids``; the list is aligned with the input.
    Points in one area share one ``Area`` instance, loaded in one query with ``boundary``
    deferred (it loads on access).
    """
    ids = area_locate_many_ids(lons, lats, on=on)
    unique = np.unique(ids)
    unique = unique[unique != 0]
    by_id: dict[int, Area | None] = {0: None}
    by_id.update(Area.objects.defer("boundary").in_bulk(unique.tolist()))
    return [by_id[i] for i in ids.tolist()]


def area_locate(lon: float, lat: float, *, on: dt.date | None = None) -> Area | None:
    """Return the deepest area valid on ``on`` (default today) that covers (lon, lat).

    ``lon``, ``lat``: WGS84 degrees. Where areas of one level overlap, the smallest polygon
    wins, then the lowest code; a point on a boundary counts as inside. ``None`` when no
    area covers the point. Two queries (change check, the area row, boundary deferred).
    """
    return area_locate_many([lon], [lat], on=on)[0]


def area_path(area: Area) -> list[Area]:
    """Return the areas from the top of the tree down to ``area`` (inclusive), one query."""
    prefixes = [area.code[:n] for n in range(1, len(area.code) + 1)]
    by_id = {a.pk: a for a in Area.objects.defer("boundary").filter(code__in=prefixes)}
    path: list[Area] = [area]
    # Follow parent ids, not prefixes alone: a prefix is an ancestor only by the code rule.
    while path[-1].parent_id is not None and len(path) <= len(by_id):
        parent = by_id.get(path[-1].parent_id)
        if parent is None:
            break
        path.append(parent)
    return path[::-1]


def area_export_geojson(
    *, level: str | None = None, parent: Area | None = None, on: dt.date | None = None
) -> dict[str, Any]:
    """Return areas as a GeoJSON FeatureCollection (RFC 7946, WGS84 lon/lat).

    ``level`` filters by level; ``parent`` keeps its descendants (all levels below it unless
    ``level`` is given); ``on`` keeps only areas valid that day (default: every area).
    Properties: ``code``, ``name``, ``level``, ``parent_code``, ``ref``, ``valid_from``,
    ``valid_to`` (ISO dates or null). Areas without a boundary get a null geometry.
    """
    qs = Area.objects.select_related("parent").order_by("code")
    if level:
        qs = qs.filter(level=level)
    if parent is not None:
        qs = qs.filter(code__startswith=parent.code).exclude(pk=parent.pk)
    if on is not None:
        qs = qs.filter(area_valid_q(on))
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": area.code,
                "name": area.name,
                "level": area.level,
                "parent_code": area.parent.code if area.parent else None,
                "ref": area.ref,
                "valid_from": area.valid_from.isoformat() if area.valid_from else None,
                "valid_to": area.valid_to.isoformat() if area.valid_to else None,
            },
            "geometry": area.boundary,
        }
        for area in qs.iterator(chunk_size=500)
    ]
    return {"type": "FeatureCollection", "features": features}
