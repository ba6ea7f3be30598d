"""Areas, read-only, over the REST API: list, detail, GeoJSON.

Scoped to the caller's areas (their memberships' areas and everything inside them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from gridgov.api.schemas import AreaCode, Page, PageParams, paginate
from gridgov.areas.models import Area, AreaLevel
from gridgov.areas.selectors import area_path
from gridgov.core.errors import NotFound
from gridgov.people.selectors import area_queryset_visible_to

router = Router()


class AreaOut(Schema):
    code: str
    name: str
    level: AreaLevel
    parent_code: str | None = Field(description="The parent area's code; null at the top.")
    ref: str
    valid_from: dt.date | None
    valid_to: dt.date | None = Field(description="Exclusive; null while in force.")
    bbox: list[float] | None = Field(
        description="Bounding box [min_lon, min_lat, max_lon, max_lat] (WGS84); null "
        "without a boundary."
    )

    @staticmethod
    def resolve_parent_code(obj: Area) -> str | None:
        return obj.parent.code if obj.parent else None

    @staticmethod
    def resolve_bbox(obj: Area) -> list[float] | None:
        box = [obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat]
        return None if any(v is None for v in box) else box  # type: ignore[return-value]


class AreaRef(Schema):
    code: str
    name: str
    level: AreaLevel


class AreaDetailOut(AreaOut):
    boundary: dict[str, Any] | None = Field(
        description="GeoJSON geometry (Polygon or MultiPolygon), WGS84 lon/lat."
    )
    path: list[AreaRef] = Field(description="From the top of the tree down to this area.")

    @staticmethod
    def resolve_path(obj: Area) -> list[Area]:
        return area_path(obj)


class AreaFilters(Schema):
    level: AreaLevel | None = Field(None, description="Only areas of this level.")
    parent: AreaCode | None = Field(
        None, description="Only areas inside this area (its descendants, at every level)."
    )


class AreaFeatureProperties(Schema):
    code: str
    name: str
    level: AreaLevel
    parent_code: str | None
    ref: str
    valid_from: dt.date | None
    valid_to: dt.date | None


class AreaFeature(Schema):
    type: Literal["Feature"]
    properties: AreaFeatureProperties
    geometry: dict[str, Any] | None


class AreaFeatureCollection(Schema):
    type: Literal["FeatureCollection"]
    features: list[AreaFeature]


def _visible(request: HttpRequest, filters: AreaFilters) -> Any:
    qs = area_queryset_visible_to(request.user).select_related("parent").order_by("code")
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.parent:
        qs = qs.filter(code__startswith=filters.parent).exclude(code=filters.parent)
    return qs


@router.get("/areas", response=Page[AreaOut], summary="List areas")
def area_list(
    request: HttpRequest,
    filters: Query[AreaFilters],
    page: Query[PageParams],
) -> dict[str, Any]:
    """The areas inside the caller's areas, ordered by code, without boundaries."""
    return paginate(_visible(request, filters).defer("boundary"), page)


@router.get("/areas.geojson", response=AreaFeatureCollection, summary="Areas as GeoJSON")
def area_geojson(request: HttpRequest, filters: Query[AreaFilters]) -> dict[str, Any]:
    """The caller's areas as a GeoJSON FeatureCollection (RFC 7946, WGS84 lon/lat).

    Typical use: ``?level=grid`` for the grid map of everything the caller sees.
    """
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": area.code,
                "name": area.name,
                "level": area.level,
                "parent_code": area.parent.code if area.parent else None,
                "ref": area.ref,
                "valid_from": area.valid_from,
                "valid_to": area.valid_to,
            },
            "geometry": area.boundary,
        }
        for area in _visible(request, filters).iterator(chunk_size=500)
    ]
    return {"type": "FeatureCollection", "features": features}


@router.get("/areas/{code}", response=AreaDetailOut, summary="One area")
def area_detail(request: HttpRequest, code: AreaCode) -> Area:
    """One area with its boundary and its path from the top of the tree."""
    area = area_queryset_visible_to(request.user).select_related("parent").filter(code=code).first()
    if area is None:
        raise NotFound(_("no area has code %(code)s") % {"code": code})
    return area
