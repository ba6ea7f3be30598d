"""The dashboard's GET form: area and period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gridgov.analytics.selectors import month_first_day
from gridgov.areas.models import Area, AreaLevel
from gridgov.core.errors import ValidationFailed
from gridgov.core.validators import YEAR_MIN, DateField

#: The longest period the dashboard accepts, in days (a year and a day for leap years).
MAX_DAYS = 366
#: The first day any analysis may look at (``core.validators.YEAR_MIN``, 1 January).
EARLIEST_DAY = dt.date(YEAR_MIN, 1, 1)
#: The earliest month of the ranking: the ranking compares with the month before, which
#: must itself lie in ``YEAR_MIN…YEAR_MAX`` (so February of ``YEAR_MIN``).
EARLIEST_RANKING_MONTH = dt.date(YEAR_MIN, 2, 1)
#: The days ``analytics.selectors.hotspot_rising`` compares, ending on the page's last day:
#: the last 7 days and the 7 before them.
RISING_SPAN_DAYS = 14


class AreaPickerForm(forms.Form):
    """An area among ``areas`` (the user's manager areas and what lies inside)."""

    area = forms.ChoiceField(label=_("Area"))

    def __init__(self, *args: Any, areas: list[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.areas = {a.code: a for a in areas}
        field = self.fields["area"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - narrows the type
        field.choices = [
            (a.code, f"{'· ' * max(a.depth - areas[0].depth, 0)}{a.name}") for a in areas
        ]

    def clean_area(self) -> Area:
        return self.areas[self.cleaned_data["area"]]


class DashboardForm(AreaPickerForm):
    """Area (among ``areas``) and period (local dates, both included)."""

    start = DateField(
        label=_("From"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    end = DateField(
        label=_("To"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, dt.date) and isinstance(end, dt.date):
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    _("The period is at most %(days)d days.") % {"days": MAX_DAYS}
                )
        return data


class RankingForm(AreaPickerForm):
    """Area, month (``YYYY-MM``) and level (community or grid) of the monthly ranking."""

    month = forms.CharField(
        label=_("Month"), max_length=7, widget=forms.TextInput(attrs={"type": "month"})
    )
    level = forms.ChoiceField(
        label=_("Rank"),
        choices=[(AreaLevel.COMMUNITY, _("Communities")), (AreaLevel.GRID, _("Grids"))],
    )

    def clean_month(self) -> dt.date:
        """The month's first day; refused when not ``YYYY-MM``, outside the years
        ``YEAR_MIN…YEAR_MAX``, or before ``EARLIEST_RANKING_MONTH`` (no month before it)."""
        try:
            month = month_first_day(self.cleaned_data["month"])
        except ValidationFailed as error:
            raise forms.ValidationError(error.message) from None
        if month < EARLIEST_RANKING_MONTH:
            raise forms.ValidationError(
                _("The earliest month is %(month)s: the ranking compares with the month before.")
                % {"month": f"{EARLIEST_RANKING_MONTH:%Y-%m}"}
            )
        return month


class HotspotForm(AreaPickerForm):
    """Area, last day of the window, window length in days, least number of events."""

    end = DateField(
        label=_("Up to"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    days = forms.IntegerField(label=_("Window (days)"), min_value=1, max_value=MAX_DAYS)
    min_events = forms.IntegerField(label=_("At least (events)"), min_value=2, max_value=1000)

    def clean(self) -> dict[str, Any]:
        """Refuse a window reaching before ``EARLIEST_DAY``: the ``days`` ending on ``end``
        and the ``RISING_SPAN_DAYS`` the rising categories compare must both start on or
        after it."""
        data = super().clean() or {}
        end, days = data.get("end"), data.get("days")
        if isinstance(end, dt.date) and isinstance(days, int):
            # No overflow: ``end`` is in YEAR_MIN…YEAR_MAX and ``days`` at most MAX_DAYS.
            first = end - dt.timedelta(days=max(days, RISING_SPAN_DAYS) - 1)
            if first < EARLIEST_DAY:
                raise forms.ValidationError(
                    _("The window starts on %(start)s; the analysis starts on %(earliest)s "
                      "at the earliest (the window, and the two weeks the rising categories "
                      "compare).")
                    % {"start": first.isoformat(), "earliest": EARLIEST_DAY.isoformat()}
                )  # fmt: skip
        return data
