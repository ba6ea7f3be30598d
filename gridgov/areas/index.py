"""The per-process point → area index: one Shapely STRtree over every area with a boundary.

Built lazily on the first lookup, kept in the process, and rebuilt when the area table has
changed. Every process (web server, CLI, worker) holds its own copy, so "changed" must be
visible across processes; each lookup (one call, or one batch) runs one tiny query::

    SELECT (SELECT version FROM areas_areatreeversion WHERE id = 1),
           COUNT(*), MAX(updated_at) FROM areas_area

``version`` is bumped by every service in the same transaction as its change, so a
committed change is seen by the next lookup in any process; the count and the latest
``updated_at`` also catch writes that bypass the services (a shell, ``loaddata``). Saves and
deletes through the ORM in *this* process also mark the index stale at once (signal
receivers connected in ``AreasConfig.ready``), which covers test factories.

The polygons sit in the tree in overlap-rule order (deepest level first, then smallest
area, then lowest code), so for each point the smallest matching tree index is the pick.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from django.db import connection, transaction
from django.db.models import F
from shapely.geometry import shape

from gridgov.areas.models import LEVEL_DEPTH, Area, AreaTreeVersion

#: Ordinal bounds used for open validity ends.
_OPEN_FROM = np.iinfo(np.int64).min
_OPEN_TO = np.iinfo(np.int64).max
#: Shapely predicate for "point inside area": ``covered_by`` counts the boundary as inside,
#: so a point on the edge shared by two grids matches both and the overlap rule picks one.
PREDICATE = "covered_by"


@dataclass(frozen=True)
class AreaIndex:
    """An immutable snapshot: the STRtree and, aligned with its geometries, numpy columns."""

    signature: tuple[Any, ...]
    tree: shapely.STRtree
    ids: npt.NDArray[np.int64]
    valid_from: npt.NDArray[np.int64]
    valid_to: npt.NDArray[np.int64]
    always_valid: bool

    def locate_ids(
        self, lons: npt.ArrayLike, lats: npt.ArrayLike, *, on: date
    ) -> npt.NDArray[np.int64]:
        """Return, per point, the id of the chosen area, or 0 where none contains it."""
        x = np.asarray(lons, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("lons and lats must have the same length")
        result = np.zeros(x.shape[0], dtype=np.int64)
        if x.shape[0] == 0 or self.ids.shape[0] == 0:
            return result
        usable = np.isfinite(x) & np.isfinite(y)
        if usable.all():
            points = shapely.points(x, y)
            where = None
        else:
            where = np.flatnonzero(usable)
            points = shapely.points(x[where], y[where])
        point_idx, tree_idx = self.tree.query(points, predicate=PREDICATE)
        if not self.always_valid and point_idx.shape[0]:
            day = on.toordinal()
            keep = (self.valid_from[tree_idx] <= day) & (self.valid_to[tree_idx] > day)
            point_idx, tree_idx = point_idx[keep], tree_idx[keep]
        if point_idx.shape[0] == 0:
            return result
        # Tree order is the overlap-rule order: the smallest tree index per point wins.
        # query() returns pairs grouped by point; sort defensively only if they are not.
        if np.any(point_idx[1:] < point_idx[:-1]):
            order = np.lexsort((tree_idx, point_idx))
            point_idx, tree_idx = point_idx[order], tree_idx[order]
        starts = np.flatnonzero(np.r_[True, point_idx[1:] != point_idx[:-1]])
        best = np.minimum.reduceat(tree_idx, starts)
        hit = point_idx[starts]
        if where is not None:
            hit = where[hit]
        result[hit] = self.ids[best]
        return result


_lock = threading.Lock()
_index: AreaIndex | None = None
_stale = False


def _signature() -> tuple[Any, ...]:
    """Read the change signature of the area table (one query)."""
    qn = connection.ops.quote_name
    sql = (
        f"SELECT (SELECT {qn('version')} FROM {qn(AreaTreeVersion._meta.db_table)} "  # noqa: S608 - names from our own models
        f"WHERE {qn('id')} = 1), COUNT(*), MAX({qn('updated_at')}) "
        f"FROM {qn(Area._meta.db_table)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return (connection.alias, connection.settings_dict.get("NAME"), *row)


def _ordinal(day: date | None, open_end: int) -> int:
    return open_end if day is None else day.toordinal()


def _build(signature: tuple[Any, ...]) -> AreaIndex:
    """Load every area that has a boundary and build the tree in overlap-rule order."""
    rows = list(
        Area.objects.filter(min_lon__isnull=False)
        .exclude(boundary__isnull=True)
        .values_list("id", "code", "level", "boundary", "valid_from", "valid_to")
    )
    geometries = [shape(row[3]) for row in rows]
    areas = shapely.area(np.array(geometries, dtype=object)) if geometries else np.zeros(0)
    # Overlap rule: deepest level first, then smallest area, then lowest code.
    order = sorted(
        range(len(rows)),
        key=lambda i: (-LEVEL_DEPTH[rows[i][2]], float(areas[i]), rows[i][1]),
    )
    ids = np.array([rows[i][0] for i in order], dtype=np.int64)
    valid_from = np.array([_ordinal(rows[i][4], _OPEN_FROM) for i in order], dtype=np.int64)
    valid_to = np.array([_ordinal(rows[i][5], _OPEN_TO) for i in order], dtype=np.int64)
    tree = shapely.STRtree([geometries[i] for i in order])
    always_valid = bool(np.all(valid_from == _OPEN_FROM) and np.all(valid_to == _OPEN_TO))
    return AreaIndex(signature, tree, ids, valid_from, valid_to, always_valid)


def area_index_get() -> AreaIndex:
    """Return this process's index, rebuilt first if the area table changed (one query)."""
    global _index, _stale
    signature = _signature()
    index = _index
    if index is not None and not _stale and index.signature == signature:
        return index
    with _lock:
        if _index is not None and not _stale and _index.signature == signature:
            return _index
        _stale = False
        _index = _build(signature)
        return _index


def area_index_bump() -> None:
    """Record that areas changed: bump the shared version row and drop this process's index.

    Call inside the service's transaction so other processes see the bump with the change.
    """
    global _stale
    updated = AreaTreeVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        AreaTreeVersion.objects.get_or_create(pk=1, defaults={"version": 1})
    _stale = True
    # If the transaction rolls back, the signature goes back too and differs from the one
    # a rebuild inside the transaction recorded, so the next lookup rebuilds again.
    transaction.on_commit(area_index_invalidate)


def area_index_invalidate(*args: Any, **kwargs: Any) -> None:
    """Mark this process's index stale (signal receiver and test helper)."""
    global _stale
    _stale = True
