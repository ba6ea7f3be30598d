"""The command centre's analysis pages, thin callers of ``analytics.selectors``:
the dashboard (``/dashboard/``, ``task_figures``), the map (``/dashboard/map/``,
``area_map``), the monthly ranking (``/dashboard/ranking/``, ``area_ranking``, with xlsx
and CSV export) and the hot spots (``/dashboard/hotspots/``, ``hotspot_repeats`` and
``hotspot_rising``).

Managers only (command centre, community admin, grid leader); others get 403. Every figure
links to the task list behind it (``/manage/tasks/?…``, the manager pages' list).
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gridgov.analytics.forms import DashboardForm, HotspotForm, RankingForm
from gridgov.analytics.selectors import (
    MANAGER_ROLES,
    REPEAT_MIN_EVENTS,
    REPEAT_WINDOW_DAYS,
    area_map,
    area_ranking,
    default_period,
    figures_as_json,
    hotspot_repeats,
    hotspot_rising,
    month_last_day,
    period_bounds,
    rate,
    task_figures,
)
from gridgov.areas.models import Area, AreaLevel
from gridgov.iot.selectors import false_alarm_rate
from gridgov.people.selectors import (
    area_codes_visible_to,
    user_can_access_area,
    user_holds_role,
)
from gridgov.web.exports import export_refused, local_naive, table_csv, table_xlsx
from gridgov.web.forms_manage import figure_list_params

#: Levels offered in the area picker (besides the user's own areas, whatever their level).
PICKER_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)


def dashboard_areas(user: Any) -> list[Area]:
    """The areas the user may pick: their manager areas and the districts, streets and
    communities inside them, by code (so each area comes before its children)."""
    codes = area_codes_visible_to(user, roles=MANAGER_ROLES)
    if not codes:
        return []
    qs = Area.objects.all()
    if codes != [""]:
        qs = qs.filter(reduce(or_, (Q(code__startswith=c) for c in codes)))
    return list(qs.filter(Q(level__in=PICKER_LEVELS) | Q(code__in=codes)).order_by("code"))


class TaskLinks:
    """Build ``/manage/tasks/?…`` links that list exactly the tasks a figure counts.

    The parameters come from ``web.forms_manage.figure_list_params`` (the list's own map
    of figure → filters): e.g. ``due`` → ``due=1&deadline_from=…&deadline_to=…``. Extra
    keyword arguments (``source``, ``category``, ``area`` of a row) narrow the list.
    """

    #: Each rate links to the tasks of its numerator.
    RATE_FIGURES = {
        "closure_rate": "closed",
        "on_time_rate": "closed_on_time",
        "rework_rate": "reworked",
        "extension_rate": "extended",
    }
    FIGURES = ("issued", "due", "closed", "closed_on_time", "reworked", "extended", "overdue_open")

    def __init__(self, *, area: Area, start: dt.date, end: dt.date) -> None:
        self.base = reverse("manage:tasks")
        self.area, self.start, self.end = area.code, start, end

    def url(self, figure: str, **extra: Any) -> str:
        params = figure_list_params(
            self.RATE_FIGURES.get(figure, figure),
            area=extra.pop("area", self.area),
            start=self.start,
            end=self.end,
            **extra,
        )
        return f"{self.base}?{urlencode(params)}"

    def headline(self) -> dict[str, str]:
        names = [*self.FIGURES, *self.RATE_FIGURES]
        return {name: self.url(name) for name in names}

    def row(self, **extra: Any) -> dict[str, str]:
        return {
            name: self.url(name, **extra) for name in ("issued", "due", "closed", "overdue_open")
        }


def _manager_areas(request: HttpRequest) -> list[Area]:
    """The areas a manager may pick (``dashboard_areas``), plus the requested
    ``?area=`` when it is a grid or micro-grid inside the user's areas (a drill-down from
    the map); 403 for anyone else."""
    if not user_holds_role(request.user, MANAGER_ROLES):
        raise PermissionDenied
    areas = dashboard_areas(request.user)
    if not areas:
        raise PermissionDenied
    code = request.GET.get("area")
    if code and all(a.code != code for a in areas):
        found = Area.objects.filter(code=code).first()
        if found is not None and user_can_access_area(request.user, found, roles=MANAGER_ROLES):
            areas.append(found)
    return areas


def _with_defaults(request: HttpRequest, defaults: dict[str, Any]) -> Any:
    """The query string with ``defaults`` for what it leaves out."""
    params = request.GET.copy()
    for key, value in defaults.items():
        params.setdefault(key, str(value))
    return params


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The figures of an area for a period: cards, tables by source, category and area,
    the trend chart. ``?area=CODE&start=YYYY-MM-DD&end=YYYY-MM-DD``."""
    user = request.user
    areas = _manager_areas(request)
    start, end = default_period(timezone.localdate())
    # What the query leaves out keeps its default (a link may give only the period).
    params = _with_defaults(request, {"area": areas[0].code, "start": start, "end": end})
    form = DashboardForm(params, areas=areas)
    area = areas[0]
    if form.is_valid():
        area = form.cleaned_data["area"]
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    figures = task_figures(user=user, area=area, start=start, end=end)
    links = TaskLinks(area=area, start=start, end=end)
    since, until = period_bounds(start, end)
    alarms = false_alarm_rate(area=area, since=since, until=until)
    alarms["rate"] = rate(alarms["false_alarms"], alarms["cleared"])
    trend = figures_as_json({"trend": figures["trend"]})["trend"]
    context = {
        "form": form,
        "area": area,
        "figures": figures,
        "links": links.headline(),
        "alarms": alarms,
        "alarm_tasks": links.url("issued", source="alarm"),
        "by_source": [(row, links.row(source=row["source"])) for row in figures["by_source"]],
        "by_category": [
            (row, links.row(category=row["category"])) for row in figures["by_category"]
        ],
        "by_area": [(row, links.row(area=row["code"])) for row in figures["by_area"]],
        "trend": {
            "days": [r["day"] for r in trend],
            "issued": [r["issued"] for r in trend],
            "closed": [r["closed"] for r in trend],
        },
    }
    return render(request, "analytics/dashboard.html", context)


# --- The monthly ranking -------------------------------------------------------------------


def _ranking_export_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the ranking's xlsx/CSV export (rates as numbers, per cent)."""
    header = [
        _("Rank"), _("Rank change"), _("Code"), _("Area"), _("Due"), _("Closed"),
        _("Closed on time"), _("Closure rate (%)"), _("On-time closure rate (%)"),
        _("Rework rate (%)"), _("Score"), _("Grade"),
    ]  # fmt: skip
    keys = ("code", "name", "due", "closed", "closed_on_time", "closure_rate")
    more = ("on_time_rate", "rework_rate", "score", "grade")
    body = [[r["rank"], rank_change_label(r), *(r[k] for k in keys + more)] for r in rows]
    return header, body


def rank_change_label(row: dict[str, Any]) -> str:
    """``↑3``, ``↓1``, ``=`` (same rank), ``new`` (ranked now, not last month) or ``""``."""
    if row["is_new"]:
        return str(_("new"))
    change = row["rank_change"]
    if change is None:
        return ""
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "="


@login_required
@require_GET
def ranking(request: HttpRequest) -> HttpResponse:
    """The "三个一" monthly ranking of the communities or grids inside an area.
    ``?area=CODE&month=YYYY-MM&level=community|grid`` (default: the user's first area,
    this month so far, communities); ``&format=xlsx`` or ``csv`` downloads it."""
    areas = _manager_areas(request)
    this_month = timezone.localdate().replace(day=1)
    params = _with_defaults(
        request,
        {"area": areas[0].code, "month": f"{this_month:%Y-%m}", "level": AreaLevel.COMMUNITY},
    )
    form = RankingForm(params, areas=areas)
    area, month, level = areas[0], this_month, AreaLevel.COMMUNITY.value
    if form.is_valid():
        area, month, level = (form.cleaned_data[k] for k in ("area", "month", "level"))
    rows = area_ranking(user=request.user, area=area, level=level, month=month)
    export = request.GET.get("format")
    if export in ("xlsx", "csv") and (refused := export_refused(form)):
        return refused
    if export in ("xlsx", "csv"):
        header, body = _ranking_export_rows(rows)
        name = f"ranking-{area.code}-{level}-{month:%Y-%m}.{export}"
        return _download(export, name, _("Ranking"), header, body)
    links = TaskLinks(area=area, start=month, end=month_last_day(month))
    query = {"area": area.code, "month": f"{month:%Y-%m}", "level": level}
    context = {
        "form": form,
        "area": area,
        "month": month,
        "level": level,
        "rows": [(row, rank_change_label(row), links.row(area=row["code"])) for row in rows],
        "export_xlsx": "?" + urlencode(query | {"format": "xlsx"}),
        "export_csv": "?" + urlencode(query | {"format": "csv"}),
    }
    return render(request, "analytics/ranking.html", context)


# --- Hot spots -----------------------------------------------------------------------------


@login_required
@require_GET
def hotspots(request: HttpRequest) -> HttpResponse:
    """Places, households and grids with repeated events of one category, and the
    categories rising week on week. ``?area=CODE&end=YYYY-MM-DD&days=30&min_events=3``
    (default: the user's first area, up to yesterday, 30 days, 3 events)."""
    areas = _manager_areas(request)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    defaults = {
        "area": areas[0].code,
        "end": yesterday,
        "days": REPEAT_WINDOW_DAYS,
        "min_events": REPEAT_MIN_EVENTS,
    }
    form = HotspotForm(_with_defaults(request, defaults), areas=areas)
    area, end, days, least = areas[0], yesterday, REPEAT_WINDOW_DAYS, REPEAT_MIN_EVENTS
    if form.is_valid():
        area, end, days, least = (
            form.cleaned_data[k] for k in ("area", "end", "days", "min_events")
        )
    repeats = hotspot_repeats(user=request.user, area=area, end=end, days=days, min_events=least)
    export = request.GET.get("format")
    if export in ("xlsx", "csv"):
        if refused := export_refused(form):
            return refused
        header, body = _hotspot_export_rows(repeats)
        name = f"hotspots-{area.code}-{end:%Y-%m-%d}.{export}"
        return _download(export, name, _("Hot spots"), header, body)
    rising = hotspot_rising(user=request.user, area=area, end=end)
    window = TaskLinks(area=area, start=repeats["start"], end=end)
    this_week = TaskLinks(area=area, start=rising["this_start"], end=end)

    def linked(rows: list[dict[str, Any]], target: str = "") -> list[tuple[dict[str, Any], str]]:
        """Each row with the link to exactly its events (``target``: ``place`` or
        ``household`` adds the row's key)."""
        return [
            (r, window.url("issued", area=r["area"], category=r["category"], events="1",
                           **({target: str(r["key"])} if target else {})))
            for r in rows
        ]  # fmt: skip

    context = {
        "form": form,
        "area": area,
        "repeats": repeats,
        "rising": rising,
        "places": linked(repeats["places"], "place"),
        "households": linked(repeats["households"], "household"),
        "grids": linked(repeats["grids"]),
        "rising_rows": [
            (r, this_week.url("issued", category=r["category"], events="1")) for r in rising["rows"]
        ],
        "export_xlsx": "?" + urlencode(_query(request) | {"format": "xlsx"}),
        "export_csv": "?" + urlencode(_query(request) | {"format": "csv"}),
    }
    return render(request, "analytics/hotspots.html", context)


def _hotspot_export_rows(repeats: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the hot spots' xlsx/CSV export: grids, places, then households
    (their addresses masked, as on the page)."""
    header = [_("Kind"), _("Name"), _("Category"), _("Events"), _("Still open"), _("Latest")]
    kinds = (("grids", _("Grid")), ("places", _("Place")), ("households", _("Household")))
    body = [
        [label, r["name"], r["category_name"], r["events"], r["open"], local_naive(r["last"])]
        for key, label in kinds
        for r in repeats[key]
    ]
    return header, body


def _query(request: HttpRequest) -> dict[str, str]:
    """The page's own query parameters, without ``format``."""
    return {k: str(v) for k, v in request.GET.items() if k != "format"}


def _download(
    export: str, name: str, sheet: str, header: list[str], body: list[list[Any]]
) -> HttpResponse:
    """An xlsx or CSV (UTF-8 with BOM) attachment of ``header`` and ``body``."""
    if export == "xlsx":
        data = table_xlsx(sheet_title=sheet, header=header, rows=body)
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        data, kind = table_csv(header=header, rows=body), "text/csv; charset=utf-8"
    response = HttpResponse(data, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- The map -------------------------------------------------------------------------------


@login_required
@require_GET
def area_map_page(request: HttpRequest) -> HttpResponse:
    """The map of an area's children coloured by overdue count or closure rate.
    ``?area=CODE&start=…&end=…&colour=overdue|closure`` (default: the user's first area,
    the last 7 days, overdue). Clicking a child drills down; at the deepest level the
    click opens the task list."""
    areas = _manager_areas(request)
    start, end = default_period(timezone.localdate())
    form = DashboardForm(
        _with_defaults(request, {"area": areas[0].code, "start": start, "end": end}),
        areas=areas,
    )
    area = areas[0]
    if form.is_valid():
        area = form.cleaned_data["area"]
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    elif "area" not in form.errors and "area" in form.cleaned_data:
        area = form.cleaned_data["area"]  # a bad period keeps the chosen area
    collection = area_map(user=request.user, area=area, start=start, end=end)
    links = TaskLinks(area=area, start=start, end=end)
    for feature in collection["features"]:
        code = feature["properties"]["code"]
        feature["properties"]["links"] = links.row(area=code)
    colour = request.GET.get("colour")
    context = {
        "form": form,
        "area": area,
        "start": start,
        "end": end,
        "colour": colour if colour in ("overdue", "closure") else "overdue",
        "collection": collection,
        "ancestors": _ancestors(area, areas),
        "tile_url": settings.GRIDGOV_MAP_TILE_URL,
        "period": urlencode({"start": start.isoformat(), "end": end.isoformat()}),
    }
    return render(request, "analytics/map.html", context)


def _ancestors(area: Area, areas: list[Area]) -> list[Area]:
    """The breadcrumb: the pickable areas whose code ``area``'s code starts with."""
    return [a for a in areas if area.code.startswith(a.code) and a.code != area.code]
