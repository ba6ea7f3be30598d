"""Test factories for areas: squares laid out on a grid of lon/lat, easy to reason about."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gridgov.areas.models import CODE_LENGTH, Area, AreaLevel


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    """A GeoJSON Polygon: the square with south-west corner (lon, lat) and side ``size``°."""
    ring = [
        [lon, lat],
        [lon + size, lat],
        [lon + size, lat + size],
        [lon, lat + size],
        [lon, lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def make_area(
    *,
    code: str,
    name: str | None = None,
    parent: Area | None = None,
    boundary: dict[str, Any] | None = None,
    **fields: Any,
) -> Area:
    """Create an area directly (bypassing the import service); level follows the code length."""
    level = next(lvl for lvl, n in CODE_LENGTH.items() if n == len(code))
    bbox: dict[str, float] = {}
    if boundary is not None:
        from shapely.geometry import shape

        min_lon, min_lat, max_lon, max_lat = shape(boundary).bounds
        bbox = {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}
    return Area.objects.create(
        code=code,
        name=name or f"{AreaLevel(level).label} {code}",
        level=level,
        parent=parent,
        boundary=boundary,
        **bbox,
        **fields,
    )


def make_street_tree() -> dict[str, Area]:
    """A district with one street, two communities, two grids each, one micro-grid per grid.

    Community ``c1`` covers lon 120.00–120.02, ``c2`` lon 120.02–120.04 (lat 30.00–30.01);
    each grid is a 0.01° square; each micro-grid the grid's south-west quarter.
    Keys: ``district``, ``street``, ``c1``, ``c2``, ``g11``, ``g12``, ``g21``, ``g22``,
    ``m11``, ``m12``, ``m21``, ``m22``.
    """
    tree: dict[str, Area] = {}
    tree["district"] = make_area(code="330106", name="西湖区")
    tree["street"] = make_area(code="330106004", name="古荡街道", parent=tree["district"])
    for ci in (1, 2):
        community = make_area(
            code=f"330106004{ci:03d}",
            name=f"社区{ci}",
            parent=tree["street"],
            boundary={
                "type": "Polygon",
                "coordinates": [
                    [
                        [120.0 + 0.02 * (ci - 1), 30.0],
                        [120.0 + 0.02 * ci, 30.0],
                        [120.0 + 0.02 * ci, 30.01],
                        [120.0 + 0.02 * (ci - 1), 30.01],
                        [120.0 + 0.02 * (ci - 1), 30.0],
                    ]
                ],
            },
        )
        tree[f"c{ci}"] = community
        for gi in (1, 2):
            lon = 120.0 + 0.02 * (ci - 1) + 0.01 * (gi - 1)
            grid = make_area(
                code=f"{community.code}{gi:03d}",
                name=f"网格{ci}-{gi}",
                parent=community,
                boundary=square(lon, 30.0, 0.01),
            )
            tree[f"g{ci}{gi}"] = grid
            tree[f"m{ci}{gi}"] = make_area(
                code=f"{grid.code}001",
                name=f"微网格{ci}-{gi}",
                parent=grid,
                boundary=square(lon, 30.0, 0.005),
            )
    return tree


def feature(geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    """A GeoJSON Feature with these properties."""
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def write_feature_collection(path: Path, features: list[dict[str, Any]], **extra: Any) -> Path:
    """Write a GeoJSON FeatureCollection of ``features`` to ``path``; return the path."""
    collection = {"type": "FeatureCollection", "features": features, **extra}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path
