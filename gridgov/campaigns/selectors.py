"""Reads of the campaigns app: a batch's progress and the monthly ranking ("三个一").

Rates are percentages (``Decimal`` rounded half-up to 0.01, see
``gridgov.tasks.directives.percent``), computed from the slips' tasks:

- completion rate (完成率) = slips whose task is closed (verified) / slips;
- on-time rate (按期完成率) = slips closed at or before their task's deadline / slips;
- overdue = slips whose task is still open, not suspended, past its deadline at ``now``.

Source: the Linglong/Qianchuan articles of the seed (completion rate 97.2% = rectified and
verified slips / assigned slips); GLOSSARY 结案率 and 按期结案率 for the on-time rate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.campaigns.models import AssignmentSlip, Campaign
from gridgov.campaigns.services import campaign_month
from gridgov.core.errors import ValidationFailed
from gridgov.people.selectors import scope_queryset
from gridgov.tasks.choices import OPEN_STATES, TaskState
from gridgov.tasks.directives import percent

__all__ = [
    "campaign_list_visible_to",
    "campaign_monthly_ranking",
    "campaign_progress",
    "slip_list_visible_to",
]

#: The columns of a slip the figures need (one query, no model instances).
_SLIP_COLUMNS = (
    "area_id",
    "area__code",
    "area__name",
    "area__parent_id",
    "area__parent__code",
    "area__parent__name",
    "task__state",
    "task__deadline",
    "task__closed_at",
    "task__suspended_at",
)


@dataclass
class _Tally:
    slips: int = 0
    closed: int = 0
    closed_on_time: int = 0
    open: int = 0
    cancelled: int = 0
    overdue: int = 0

    def add(self, row: dict[str, Any], now: dt.datetime) -> None:
        state, deadline = row["task__state"], row["task__deadline"]
        closed_at = row["task__closed_at"]
        self.slips += 1
        if state == TaskState.CLOSED:
            self.closed += 1
            if closed_at is not None and (deadline is None or closed_at <= deadline):
                self.closed_on_time += 1
        elif state == TaskState.CANCELLED:
            self.cancelled += 1
        elif state is None or state in OPEN_STATES:
            self.open += 1
            if row["task__suspended_at"] is None and deadline is not None and deadline < now:
                self.overdue += 1

    def figures(self) -> dict[str, Any]:
        return {
            "slips": self.slips,
            "closed": self.closed,
            "closed_on_time": self.closed_on_time,
            "open": self.open,
            "cancelled": self.cancelled,
            "overdue": self.overdue,
            "completion_rate": percent(self.closed, self.slips),
            "on_time_rate": percent(self.closed_on_time, self.slips),
        }


def campaign_list_visible_to(user: Any) -> QuerySet[Campaign]:
    """Return the campaigns with a slip inside ``user``'s areas (superusers: all), newest
    first."""
    slips = scope_queryset(AssignmentSlip.objects.all(), user)
    return (
        Campaign.objects.filter(pk__in=slips.values("campaign_id"))
        .select_related("task_type", "area", "issued_by")
        .order_by("-issued_at", "-id")
    )


def slip_list_visible_to(
    user: Any, *, campaign: Campaign | None = None
) -> QuerySet[AssignmentSlip]:
    """Return the slips inside ``user``'s areas (optionally of one batch), by batch and
    number, with their task, grid and place."""
    qs = AssignmentSlip.objects.select_related("campaign", "area", "place", "task")
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return scope_queryset(qs, user).order_by("campaign_id", "number")


def campaign_progress(*, campaign: Campaign, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return a batch's progress, overall and per community.

    Keys: ``campaign_id``, ``title``, ``month``, ``deadline``, ``slips``, ``closed``,
    ``closed_on_time``, ``open``, ``cancelled``, ``overdue`` (at ``now``, default the
    current time), ``completion_rate`` (closed / slips) and ``on_time_rate`` (closed on
    time / slips) as percentages (``Decimal``, 0.01), and ``communities``: the same figures
    per community (``area_id``, ``code``, ``name``), ordered by code. One query.
    """
    now = now or timezone.now()
    total = _Tally()
    communities: dict[int, tuple[dict[str, Any], _Tally]] = {}
    for row in campaign.slips.values(*_SLIP_COLUMNS):
        total.add(row, now)
        key = row["area__parent_id"]
        if key not in communities:
            area = {
                "area_id": key,
                "code": row["area__parent__code"],
                "name": row["area__parent__name"],
            }
            communities[key] = (area, _Tally())
        communities[key][1].add(row, now)
    return {
        "campaign_id": campaign.pk,
        "title": campaign.title,
        "month": campaign.month,
        "deadline": campaign.deadline,
        **total.figures(),
        "communities": [
            {**area, **tally.figures()}
            for area, tally in sorted(communities.values(), key=lambda at: at[0]["code"])
        ],
    }


def _ranked(level: str, groups: Iterable[tuple[dict[str, Any], _Tally]]) -> list[dict[str, Any]]:
    """Rank rows by completion rate, then on-time rate (both descending); equal pairs
    share a rank and the next rank skips (1, 2, 2, 4); ties are listed by code."""
    rows = [{"level": level, **area, **tally.figures()} for area, tally in groups]
    rows.sort(key=lambda r: (-r["completion_rate"], -r["on_time_rate"], r["code"]))
    previous: tuple[Any, Any] | None = None
    for position, row in enumerate(rows, start=1):
        key = (row["completion_rate"], row["on_time_rate"])
        row["rank"] = rows[position - 2]["rank"] if key == previous else position
        previous = key
    return rows


def campaign_monthly_ranking(
    *, month: dt.date | str, level: str | None = None, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Rank the communities and the grids on the slips of a month's batches ("三个一").

    ``month``: a date in the month or ``"YYYY-MM"``; the batches are those whose
    ``Campaign.month`` is that month. ``level``: ``"community"`` or ``"grid"`` for one
    ranking only (default: both, communities first). Each row: ``level``, ``area_id``,
    ``code``, ``name``, ``slips``, ``closed``, ``closed_on_time``, ``open``, ``cancelled``,
    ``overdue`` (at ``now``), ``completion_rate``, ``on_time_rate``, ``rank`` (1 = best:
    higher completion rate, then higher on-time rate; equal pairs share a rank). Only areas
    that received slips that month are ranked. One query.
    Raises ``ValidationFailed`` for a malformed month or an unknown level.
    """
    if level not in (None, "community", "grid"):
        raise ValidationFailed(
            _("Unknown ranking level %(level)r: community or grid.") % {"level": level}
        )
    now = now or timezone.now()
    first_day = campaign_month(month)
    communities: dict[int, tuple[dict[str, Any], _Tally]] = {}
    grids: dict[int, tuple[dict[str, Any], _Tally]] = {}
    rows = AssignmentSlip.objects.filter(campaign__month=first_day).values(*_SLIP_COLUMNS)
    for row in rows:
        for groups, key, prefix in (
            (communities, row["area__parent_id"], "area__parent__"),
            (grids, row["area_id"], "area__"),
        ):
            if key not in groups:
                area = {"area_id": key, "code": row[f"{prefix}code"], "name": row[f"{prefix}name"]}
                groups[key] = (area, _Tally())
            groups[key][1].add(row, now)
    result: list[dict[str, Any]] = []
    if level in (None, "community"):
        result += _ranked("community", communities.values())
    if level in (None, "grid"):
        result += _ranked("grid", grids.values())
    return result
