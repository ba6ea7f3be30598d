"""The dashboard's GET form: area and period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gridgov.analytics.selectors import month_first_day
from gridgov.areas.models import Area, AreaLevel
from gridgov.core.errors import ValidationFailed
from gridgov.core.validators import DateField

#: The longest period the dashboard accepts, in days (a year and a day for leap years).
MAX_DAYS = 366


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
        try:
            return month_first_day(self.cleaned_data["month"])
        except ValidationFailed as error:
            raise forms.ValidationError(error.message) from None


class HotspotForm(AreaPickerForm):
    """Area, last day of the window, window length in days, least number of events."""

    end = DateField(
        label=_("Up to"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    days = forms.IntegerField(label=_("Window (days)"), min_value=1, max_value=MAX_DAYS)
    min_events = forms.IntegerField(label=_("At least (events)"), min_value=2, max_value=1000)
