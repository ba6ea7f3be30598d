"""The dashboard (``/dashboard/``): a thin caller of ``selectors.task_figures``.

Managers only (command centre, community admin, grid leader); others get 403. Every figure
links to the task list behind it (``/manage/tasks/?…``, the manager pages' list).
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from gridgov.analytics.forms import DashboardForm
from gridgov.analytics.selectors import MANAGER_ROLES, default_period, figures_as_json, task_figures
from gridgov.areas.models import Area, AreaLevel
from gridgov.people.selectors import area_codes_visible_to, user_holds_role
from gridgov.tasks.choices import TaskState

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
    """Build ``/manage/tasks/?…`` links with the list's query parameters.

    Parameters of the list (``web.forms_manage.TaskFilterForm``): ``state``, ``area`` (a
    code), ``source``, ``task_type``, ``overdue`` (``yes``/``no``), ``light``,
    ``created_from``/``created_to`` and ``deadline_from``/``deadline_to`` (local days,
    both included). Category rows also pass ``category``, which the list does not read
    yet (see docs/analytics.md, "Links").
    """

    def __init__(self, *, area: Area, start: dt.date, end: dt.date) -> None:
        dashboard = reverse("analytics:dashboard")
        self.base = dashboard[: -len("dashboard/")] + "manage/tasks/"
        self.area = area.code
        self.issued_period = {
            "created_from": start.isoformat(),
            "created_to": end.isoformat(),
        }
        self.due_period = {"deadline_from": start.isoformat(), "deadline_to": end.isoformat()}

    def url(self, **params: Any) -> str:
        params = {"area": self.area} | params
        return f"{self.base}?{urlencode(params, doseq=True)}"

    def issued(self, **params: Any) -> str:
        return self.url(**self.issued_period, **params)

    def due(self, **params: Any) -> str:
        return self.url(**self.due_period, **params)

    def closed(self, **params: Any) -> str:
        return self.due(state=TaskState.CLOSED.value, **params)

    def overdue_open(self, **params: Any) -> str:
        return self.url(light="red", **params)

    def headline(self) -> dict[str, str]:
        return {
            "issued": self.issued(),
            "due": self.due(),
            "closed": self.closed(),
            "closed_on_time": self.closed(),
            "closure_rate": self.closed(),
            "on_time_rate": self.closed(),
            "rework_rate": self.due(),
            "extension_rate": self.due(),
            "overdue_open": self.overdue_open(),
        }

    def row(self, **params: Any) -> dict[str, str]:
        return {
            "issued": self.issued(**params),
            "due": self.due(**params),
            "closed": self.closed(**params),
            "overdue_open": self.overdue_open(**params),
        }


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The figures of an area for a period: cards, tables by source, category and area,
    the trend chart. ``?area=CODE&start=YYYY-MM-DD&end=YYYY-MM-DD``."""
    user = request.user
    if not user_holds_role(user, MANAGER_ROLES):
        raise PermissionDenied
    areas = dashboard_areas(user)
    if not areas:
        raise PermissionDenied
    start, end = default_period(timezone.localdate())
    # What the query leaves out keeps its default (a link may give only the period).
    params = request.GET.copy()
    for key, value in {"area": areas[0].code, "start": start, "end": end}.items():
        params.setdefault(key, str(value))
    form = DashboardForm(params, areas=areas)
    area = areas[0]
    if form.is_valid():
        area = form.cleaned_data["area"]
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    figures = task_figures(user=user, area=area, start=start, end=end)
    links = TaskLinks(area=area, start=start, end=end)
    trend = figures_as_json({"trend": figures["trend"]})["trend"]
    context = {
        "form": form,
        "area": area,
        "figures": figures,
        "links": links.headline(),
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
