"""The dashboard's GET form: area and period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gridgov.areas.models import Area

#: The longest period the dashboard accepts, in days (a year and a day for leap years).
MAX_DAYS = 366


class DashboardForm(forms.Form):
    """Area (among ``areas``) and period (local dates, both included)."""

    area = forms.ChoiceField(label=_("Area"))
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )

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
