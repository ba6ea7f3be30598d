"""Forms of the manager pages (``/manage/``): the task list's filters and the actions.

The filter form only turns the query string into the keyword arguments of
``tasks.selectors.task_list_visible_to`` (plus a text search and a deadline range); the
action forms carry a reason and the idempotency key; the task services judge.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from gridgov.areas.models import Area
from gridgov.catalog.models import TaskType
from gridgov.people.selectors import area_queryset_visible_to
from gridgov.tasks.choices import TaskSource, TaskState, TrafficLight
from gridgov.tasks.models import Task
from gridgov.web.forms import IdempotentForm


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


class TaskFilterForm(forms.Form):
    """The task list's filters (GET). Every field is optional."""

    q = forms.CharField(label=_("Number or title"), required=False, max_length=100)
    state = forms.ChoiceField(label=_("State"), required=False, choices=_blank(TaskState.choices))
    area = forms.CharField(
        label=_("Area code"),
        required=False,
        max_length=32,
        help_text=_("The area and everything inside it."),
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=_blank(TaskSource.choices)
    )
    task_type = forms.ModelChoiceField(
        label=_("Task type"), required=False, queryset=TaskType.objects.all(), empty_label="—"
    )
    overdue = forms.ChoiceField(
        label=_("Overdue"),
        required=False,
        choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))],
    )
    light = forms.ChoiceField(
        label=_("Traffic light"), required=False, choices=_blank(TrafficLight.choices)
    )
    created_from = forms.DateField(
        label=_("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("Created to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_from = forms.DateField(
        label=_("Deadline from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_to = forms.DateField(
        label=_("Deadline to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_area(self) -> Area | None:
        code = (self.cleaned_data.get("area") or "").strip()
        if not code:
            return None
        area = area_queryset_visible_to(self.user).filter(code=code).first()
        if area is None:
            raise forms.ValidationError(
                _("No area %(code)s among your areas.") % {"code": code}, code="area"
            )
        return area

    def selector_kwargs(self) -> dict[str, Any]:
        """The cleaned filters as keyword arguments of ``task_list_visible_to``."""
        data = self.cleaned_data
        overdue = {"yes": True, "no": False}.get(data.get("overdue") or "")
        return {
            "state": data.get("state") or None,
            "area": data.get("area"),
            "source": data.get("source") or None,
            "task_type": data.get("task_type"),
            "overdue": overdue,
            "light": data.get("light") or None,
            "date_from": data.get("created_from"),
            "date_to": data.get("created_to"),
        }

    def narrow(self, qs: QuerySet[Task]) -> QuerySet[Task]:
        """Apply what the selector does not take: the text search and the deadline range
        (local days, ``deadline_to`` inclusive)."""
        data = self.cleaned_data
        text = (data.get("q") or "").strip()
        if text:
            qs = qs.filter(Q(number__icontains=text) | Q(title__icontains=text))
        start: dt.date | None = data.get("deadline_from")
        end: dt.date | None = data.get("deadline_to")
        if start is not None:
            qs = qs.filter(deadline__date__gte=start)
        if end is not None:
            qs = qs.filter(deadline__date__lte=end)
        return qs


class ReasonForm(IdempotentForm):
    """An action that needs a reason (reject, cancel, suspend, return for rework…)."""

    reason = forms.CharField(
        label=_("Reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(IdempotentForm):
    """An action with an optional note (register, resume, pass the check…)."""

    reason = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DispatchForm(IdempotentForm):
    """Dispatch: to the chosen worker, or by the routing rules when none is chosen."""

    assignee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Grid worker"),
        required=False,
        queryset=get_user_model().objects.none(),
        empty_label=_("Route automatically"),
    )

    def __init__(self, *args: Any, workers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = workers


class TransferForm(IdempotentForm):
    """Transfer to another grid (by its code) within the user's areas, with a reason."""

    area = forms.CharField(label=_("Grid code"), max_length=32)
    worker = forms.CharField(
        label=_("Grid worker's user name"),
        required=False,
        max_length=150,
        help_text=_("Leave empty to route by the rules of the new grid."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_area(self) -> Area:
        code = self.cleaned_data["area"].strip()
        area = area_queryset_visible_to(self.user).filter(code=code).first()
        if area is None:
            raise forms.ValidationError(
                _("No area %(code)s among your areas.") % {"code": code}, code="area"
            )
        return area

    def clean_worker(self) -> Any:
        name = (self.cleaned_data.get("worker") or "").strip()
        if not name:
            return None
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No user %(name)s.") % {"name": name}, code="worker")
        return user
