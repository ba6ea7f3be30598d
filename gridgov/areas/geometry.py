"""GeoJSON boundaries: check, repair and measure them (pure functions, no database).

Boundaries are GeoJSON geometries (RFC 7946): a ``Polygon`` or ``MultiPolygon`` in WGS84,
positions in (longitude, latitude) order, every linear ring closed (first position equals
the last) with at least four positions, and a valid OGC simple-features polygon (no
self-intersections). Shapely 2 (GEOS) does the geometry work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from gridgov.core.errors import ValidationFailed

POLYGONAL_TYPES = ("Polygon", "MultiPolygon")
#: Names a GeoJSON ``crs`` member may carry for WGS84 lon/lat (the only CRS we accept).
WGS84_CRS_NAMES = frozenset(
    {
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "CRS84",
        "EPSG:4326",
        "urn:ogc:def:crs:EPSG::4326",
        "urn:ogc:def:crs:EPSG:6.6:4326",
    }
)


@dataclass
class CleanBoundary:
    """A checked boundary: GeoJSON dict to store, its Shapely geometry, and repair notes."""

    geojson: dict[str, Any]
    geometry: BaseGeometry
    repairs: list[str] = field(default_factory=list)

    @property
    def bbox(self) -> dict[str, float]:
        """The bounding box as the ``Area`` columns ``min_lon``, ``min_lat``, ``max_lon``…"""
        min_lon, min_lat, max_lon, max_lat = self.geometry.bounds
        return {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}


def _as_lists(value: Any) -> Any:
    """Turn the nested tuples of ``shapely.geometry.mapping`` into JSON-friendly lists."""
    if isinstance(value, list | tuple):
        return [_as_lists(v) for v in value]
    return value


def _polygon_rings(geometry: dict[str, Any]) -> list[list[Any]]:
    """Return the polygons of a Polygon/MultiPolygon as lists of rings; check the nesting."""
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise ValidationFailed(_("the geometry has no coordinates"))
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValidationFailed(_("a polygon has no rings (wrong coordinate nesting)"))
        for ring in polygon:
            if not isinstance(ring, list) or not all(isinstance(p, list) for p in ring):
                raise ValidationFailed(_("a ring is not a list of positions"))
    return polygons


def _check_positions(polygons: list[list[Any]]) -> None:
    """Refuse positions that are not finite WGS84 (lon, lat) numbers."""
    for polygon in polygons:
        for ring in polygon:
            for position in ring:
                if len(position) < 2 or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in position
                ):
                    raise ValidationFailed(
                        _("position %(position)s is not a pair of numbers") % {"position": position}
                    )
                lon, lat = position[0], position[1]
                if not (math.isfinite(lon) and math.isfinite(lat)):
                    raise ValidationFailed(
                        _("position %(position)s is not finite") % {"position": position}
                    )
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise ValidationFailed(
                        _(
                            "position (%(lon)s, %(lat)s) is outside WGS84 longitude ±180 / "
                            "latitude ±90: the file looks projected (e.g. Web Mercator "
                            "EPSG:3857); reproject it to WGS84 lon/lat (EPSG:4326) first"
                        )
                        % {"lon": lon, "lat": lat}
                    )


def _check_rings(polygons: list[list[Any]], *, repair: bool, repairs: list[str]) -> None:
    """Refuse (or, with ``repair``, close) unclosed rings; refuse rings under 4 positions."""
    for pi, polygon in enumerate(polygons, start=1):
        for ri, ring in enumerate(polygon, start=1):
            if ring and ring[0][:2] != ring[-1][:2]:
                if not repair:
                    raise ValidationFailed(
                        _(
                            "ring %(ring)d of polygon %(polygon)d is not closed (its first "
                            "and last positions differ)"
                        )
                        % {"ring": ri, "polygon": pi}
                    )
                ring.append(list(ring[0]))
                repairs.append(
                    _("closed ring %(ring)d of polygon %(polygon)d") % {"ring": ri, "polygon": pi}
                )
            if len(ring) < 4:
                raise ValidationFailed(
                    _(
                        "ring %(ring)d of polygon %(polygon)d has %(count)d positions; a "
                        "closed ring needs at least 4"
                    )
                    % {"ring": ri, "polygon": pi, "count": len(ring)}
                )


def _polygonal_part(geometry: BaseGeometry) -> BaseGeometry:
    """Keep only the Polygon parts of a geometry (``make_valid`` may add lines or points)."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts = [
        part
        for part in shapely.get_parts(geometry)
        if isinstance(part, Polygon | MultiPolygon) and not part.is_empty
    ]
    polygons = [p for part in parts for p in shapely.get_parts(part)]
    if not polygons:
        return Polygon()
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def boundary_clean(geometry: Any, *, repair: bool = False) -> CleanBoundary:
    """Check a GeoJSON boundary and return it ready to store, with its Shapely geometry.

    ``geometry``: a GeoJSON geometry object (dict), ``Polygon`` or ``MultiPolygon``, WGS84
    (lon, lat) degrees (RFC 7946 §3.1.6: rings closed, ≥ 4 positions). With ``repair``,
    unclosed rings are closed and an invalid geometry (self-intersection, bow-tie…) is
    replaced by ``shapely.make_valid``'s polygonal part; each change is described in
    ``repairs``. Projected coordinates (outside lon ±180 / lat ±90) are never repaired.
    Raises ``ValidationFailed`` naming the first problem.
    """
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise ValidationFailed(_("the boundary is not a GeoJSON geometry object"))
    kind = geometry["type"]
    if kind not in POLYGONAL_TYPES:
        raise ValidationFailed(
            _("geometry type %(type)s is not a Polygon or MultiPolygon") % {"type": kind}
        )
    source = {"type": kind, "coordinates": _as_lists(geometry.get("coordinates"))}
    polygons = _polygon_rings(source)
    _check_positions(polygons)
    repairs: list[str] = []
    _check_rings(polygons, repair=repair, repairs=repairs)
    try:
        shp = shape(source)
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        raise ValidationFailed(
            _("the coordinates do not make a polygon: %(error)s") % {"error": exc}
        ) from exc
    if not shp.is_valid:
        reason = shapely.is_valid_reason(shp)
        if not repair:
            raise ValidationFailed(
                _("invalid polygon: %(reason)s (use --repair to fix it with make_valid)")
                % {"reason": reason}
            )
        shp = _polygonal_part(shapely.make_valid(shp))
        repairs.append(_("repaired invalid polygon (%(reason)s)") % {"reason": reason})
        source = _as_lists(mapping(shp))
    if shp.is_empty or shp.area <= 0:
        raise ValidationFailed(_("the boundary has no area"))
    return CleanBoundary(geojson=source, geometry=shp, repairs=repairs)


def feature_collection_features(data: Any) -> list[dict[str, Any]]:
    """Return the features of a GeoJSON FeatureCollection (or of a single Feature).

    Refuses a ``crs`` member that names anything but WGS84 lon/lat (old GeoJSON 2008 files
    exported from GIS tools carry one; RFC 7946 dropped it and mandates WGS84).
    Raises ``ValidationFailed``.
    """
    if not isinstance(data, dict):
        raise ValidationFailed(_("the file is not a GeoJSON object"))
    crs = data.get("crs")
    if crs:
        name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
        if name not in WGS84_CRS_NAMES:
            raise ValidationFailed(
                _(
                    "the file's coordinate reference system is %(crs)s; only WGS84 lon/lat "
                    "(EPSG:4326) is accepted: reproject it first"
                )
                % {"crs": name or crs}
            )
    if data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise ValidationFailed(_("the FeatureCollection has no 'features' list"))
        return features
    if data.get("type") == "Feature":
        return [data]
    raise ValidationFailed(
        _("expected a GeoJSON FeatureCollection or Feature, got %(type)s")
        % {"type": data.get("type")}
    )
