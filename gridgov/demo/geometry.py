"""Plausible generated boundaries for a demo street: a jittered lattice tessellation.

The street outline is a lon/lat rectangle cut into a lattice of grid cells; interior lattice
vertices are jittered so that grids look drawn rather than ruled, yet neighbours still share
their edges exactly (no gaps, no overlaps). A community is the union of a block of cells; a
micro-grid is one of ``n`` strips of its grid, cut west→east between points interpolated on
the grid's north and south edges.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Polygon, mapping
from shapely.ops import unary_union

LonLat = tuple[float, float]


@dataclass(frozen=True)
class Lattice:
    """Vertices ``points[row][col]`` (row 0 = north) of a jittered ``rows × cols`` cell lattice."""

    points: list[list[LonLat]]

    @classmethod
    def build(
        cls,
        *,
        west: float,
        south: float,
        east: float,
        north: float,
        cols: int,
        rows: int,
        jitter: float,
        rng: random.Random,
    ) -> Lattice:
        """Lay ``cols × rows`` cells over the rectangle; jitter interior vertices by up to
        ``jitter`` × the cell size (0 ≤ jitter < 0.5 keeps every cell a simple quadrilateral)."""
        dlon = (east - west) / cols
        dlat = (north - south) / rows
        points = []
        for r in range(rows + 1):
            row = []
            for c in range(cols + 1):
                lon = west + c * dlon
                lat = north - r * dlat
                if 0 < r < rows and 0 < c < cols:
                    lon += rng.uniform(-jitter, jitter) * dlon
                    lat += rng.uniform(-jitter, jitter) * dlat
                row.append((round(lon, 6), round(lat, 6)))
            points.append(row)
        return cls(points)

    def cell(self, row: int, col: int) -> Polygon:
        """The quadrilateral of cell (row, col), corners NW, NE, SE, SW."""
        p = self.points
        return Polygon([p[row][col], p[row][col + 1], p[row + 1][col + 1], p[row + 1][col]])


def strips(cell: Polygon, n: int) -> list[Polygon]:
    """Cut a quadrilateral cell (NW, NE, SE, SW) into ``n`` strips numbered west→east."""
    nw, ne, se, sw = list(cell.exterior.coords)[:4]

    def lerp(a: tuple[float, ...], b: tuple[float, ...], t: float) -> LonLat:
        return (round(a[0] + (b[0] - a[0]) * t, 7), round(a[1] + (b[1] - a[1]) * t, 7))

    top = [lerp(nw, ne, i / n) for i in range(n + 1)]
    bottom = [lerp(sw, se, i / n) for i in range(n + 1)]
    return [Polygon([top[i], top[i + 1], bottom[i + 1], bottom[i]]) for i in range(n)]


def union(polygons: list[Polygon]) -> Polygon:
    """The union of adjacent cells, as one polygon."""
    merged = unary_union(polygons)
    if merged.geom_type != "Polygon":  # pragma: no cover - cells of a block are adjacent
        raise ValueError("cells do not form one polygon")
    return merged


def geojson(polygon: Polygon) -> dict[str, Any]:
    """GeoJSON geometry dict (lon, lat) of a polygon, oriented counter-clockwise (RFC 7946)."""
    from shapely.geometry.polygon import orient

    return dict(mapping(orient(polygon, sign=1.0)))
