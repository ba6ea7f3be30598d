"""Forms of the manager pages (``/manage/``): the task list's filters and the actions.

The filter form only turns the query string into the keyword arguments of
``tasks.selectors.task_list_visible_to`` plus the narrowing that selector does not take
(text, category, deadline range, and the figure filters ``open``, ``overdue=now``,
``due``, ``on_time``, ``reworked``, ``extended`` that make a dashboard figure's list
exactly the tasks it counted — see ``TaskFilterForm``); the action forms carry a reason
and the idempotency key; the task services judge.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgov.areas.models import Area, AreaLevel
from gridgov.areas.selectors import area_valid_q
from gridgov.campaigns.services import campaign_month
from gridgov.catalog.choices import Priority
from gridgov.catalog.models import Category, TaskType
from gridgov.core.calendar import deadline_set_by_hand_check
from gridgov.core.errors import ValidationFailed
from gridgov.core.validators import ID_MAX, DateField, year_in_range
from gridgov.people.names import user_display_name
from gridgov.people.selectors import area_queryset_visible_to, scope_queryset
from gridgov.tasks.choices import (
    EVENT_SOURCES,
    OPEN_STATES,
    TaskSource,
    TaskState,
    TrafficLight,
)
from gridgov.tasks.directives import INDICATORS
from gridgov.tasks.models import Task
from gridgov.web.forms import IdempotentForm


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


def _yes_no(label: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, required=False, choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))]
    )


#: States whose tasks are never due (analytics ``NOT_DUE_STATES``: nothing to close).
NOT_DUE_STATES = (TaskState.REJECTED, TaskState.CANCELLED)


#: The list filters that select exactly the tasks a figure of ``analytics.selectors
#: .task_figures`` counts: (which date range carries the period, the other parameters).
FIGURE_FILTERS: dict[str, tuple[str | None, dict[str, str]]] = {
    "issued": ("created", {}),
    "due": ("deadline", {"due": "1"}),
    "closed": ("deadline", {"due": "1", "state": TaskState.CLOSED.value}),
    "closed_on_time": (
        "deadline",
        {"due": "1", "state": TaskState.CLOSED.value, "on_time": "yes"},
    ),
    "reworked": ("deadline", {"due": "1", "reworked": "yes"}),
    "extended": ("deadline", {"due": "1", "extended": "yes"}),
    "overdue_open": (None, {"overdue": "now"}),
}


def figure_list_params(
    figure: str, *, area: str, start: dt.date, end: dt.date, **extra: str
) -> dict[str, str]:
    """Return the query parameters of ``/manage/tasks/`` listing exactly the tasks that
    ``figure`` (a key of ``FIGURE_FILTERS``: ``issued``, ``due``, ``closed``,
    ``closed_on_time``, ``reworked``, ``extended``, ``overdue_open``) counts for the area
    code ``area`` and the local days ``start``–``end`` (both included). ``extra``: more
    filters, e.g. ``source="routine"`` or ``category="01"`` for a row of the dashboard.
    The rates link to their numerator (closure rate → ``closed``…).
    Raises ``KeyError`` for an unknown figure."""
    period, params = FIGURE_FILTERS[figure]
    query = {"area": area, **params}
    if period is not None:
        query[f"{period}_from"] = start.isoformat()
        query[f"{period}_to"] = end.isoformat()
    return {**query, **extra}


def _id_out_of_range(value: Any) -> bool:
    """Whether ``value`` reads as a whole number outside ``1…ID_MAX`` (what the database's
    integer key could not hold: SQLite raises ``OverflowError`` past 2^63). Anything not a
    whole number is left to Django's own checks."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return False
    return not 1 <= number <= ID_MAX


class IdChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """``forms.ModelChoiceField`` of an integer primary key that refuses an id outside
    ``1…core.validators.ID_MAX`` as an invalid choice before querying (not a 500)."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and _id_out_of_range(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """``forms.ModelMultipleChoiceField`` of integer primary keys that refuses an id
    outside ``1…core.validators.ID_MAX`` as an invalid choice before querying."""

    def clean(self, value: Any) -> Any:
        for pk in value if isinstance(value, list | tuple) else []:
            if _id_out_of_range(pk):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super().clean(value)


class TaskFilterForm(forms.Form):
    """The task list's filters (GET). Every field is optional.

    Besides state, area (a code among the user's areas, and everything inside it),
    source, task type, category (a category code), traffic light, text and the created
    and deadline date ranges (local days, both included), the *figure filters* select
    exactly the tasks a figure of the dashboard counts (GLOSSARY "Figures",
    ``analytics.selectors.task_figures``):

    - ``open=1``: the task is open (``tasks.choices.OPEN_STATES``);
    - ``overdue=now``: open, not suspended, deadline before now (当前超期, the figure
      ``overdue_open``); ``overdue=yes``/``no`` read the sweep's ``is_overdue`` flag;
    - ``due=1``: counted as due (应结案): a deadline, not suspended, not rejected or
      cancelled — with ``deadline_from``/``deadline_to`` the figure ``due``;
    - ``on_time=yes``/``no``: closed at or before its deadline / closed after it;
    - ``reworked=yes``/``no``: returned for rework at least once (``rework_count`` > 0);
    - ``extended=yes``/``no``: granted an extension at least once (``extension_count`` > 0).

    ``directive`` and ``campaign`` (ids) list the tasks of one directive or one batch;
    ``place`` and ``household`` (ids) the tasks aimed at one place or household;
    ``events=1`` only events (``tasks.choices.EVENT_SOURCES``: reports, alarms, imported
    cases) — together they list exactly the tasks behind a hot spot.
    """

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
    task_type = IdChoiceField(
        label=_("Task type"), required=False, queryset=TaskType.objects.all(), empty_label="—"
    )
    category = forms.CharField(label=_("Category code"), required=False, max_length=16)
    open = forms.ChoiceField(
        label=_("Open"), required=False, choices=[("", "—"), ("1", _("Open tasks only"))]
    )
    overdue = forms.ChoiceField(
        label=_("Overdue"),
        required=False,
        choices=[
            ("", "—"),
            ("now", _("Past the deadline now")),
            ("yes", _("Flagged overdue")),
            ("no", _("Not flagged overdue")),
        ],
    )
    due = forms.ChoiceField(
        label=_("Counted as due"),
        required=False,
        choices=[("", "—"), ("1", _("Due: not suspended, rejected or cancelled"))],
    )
    directive = forms.IntegerField(
        label=_("Directive"), required=False, min_value=1, max_value=ID_MAX
    )
    campaign = forms.IntegerField(
        label=_("Campaign"), required=False, min_value=1, max_value=ID_MAX
    )
    place = forms.IntegerField(label=_("Place"), required=False, min_value=1, max_value=ID_MAX)
    household = forms.IntegerField(
        label=_("Household"), required=False, min_value=1, max_value=ID_MAX
    )
    events = forms.ChoiceField(
        label=_("Events"),
        required=False,
        choices=[("", "—"), ("1", _("Events only: reports, alarms, imported cases"))],
    )
    on_time = _yes_no(_("Closed on time"))
    reworked = _yes_no(_("Reworked"))
    extended = _yes_no(_("Extended"))
    light = forms.ChoiceField(
        label=_("Traffic light"), required=False, choices=_blank(TrafficLight.choices)
    )
    created_from = DateField(
        label=_("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = DateField(
        label=_("Created to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_from = DateField(
        label=_("Deadline from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline_to = DateField(
        label=_("Deadline to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    #: The filters shown first; the others fold under "More filters" unless one is in use.
    MAIN_FIELDS = ("q", "state", "area", "source", "task_type", "light")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.MAIN_FIELDS]

    def more_fields(self) -> list[forms.BoundField]:
        return [field for field in self if field.name not in self.MAIN_FIELDS]

    def more_in_use(self) -> bool:
        """Whether a folded filter has a value or an error (then the fold opens)."""
        return any(self.data.get(field.name) or field.errors for field in self.more_fields())

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

    def clean_category(self) -> Category | None:
        code = (self.cleaned_data.get("category") or "").strip()
        if not code:
            return None
        category = Category.objects.filter(code=code).first()
        if category is None:
            raise forms.ValidationError(
                _("No category %(code)s.") % {"code": code}, code="category"
            )
        return category

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

    def narrow(self, qs: QuerySet[Task], *, now: Any = None) -> QuerySet[Task]:
        """Apply what the selector does not take: the text search, the category, the
        deadline range (local days, ``deadline_to`` inclusive) and the figure filters
        (see the class docstring) at ``now`` (default: the current time)."""
        data = self.cleaned_data
        now = now or timezone.now()
        text = (data.get("q") or "").strip()
        if text:
            qs = qs.filter(Q(number__icontains=text) | Q(title__icontains=text))
        if data.get("category") is not None:
            qs = qs.filter(task_type__category=data["category"])
        if data.get("directive"):
            qs = qs.filter(directive_id=data["directive"])
        if data.get("campaign"):
            qs = qs.filter(assignment_slip__campaign_id=data["campaign"])
        if data.get("place"):
            qs = qs.filter(target_place_id=data["place"])
        if data.get("household"):
            qs = qs.filter(target_household_id=data["household"])
        if data.get("events"):
            qs = qs.filter(source__in=EVENT_SOURCES)
        if data.get("open"):
            qs = qs.filter(state__in=OPEN_STATES)
        if data.get("overdue") == "now":
            qs = qs.filter(state__in=OPEN_STATES, suspended_at__isnull=True, deadline__lt=now)
        if data.get("due"):
            qs = qs.filter(deadline__isnull=False, suspended_at__isnull=True).exclude(
                state__in=NOT_DUE_STATES
            )
        flags = {
            "on_time": Q(state=TaskState.CLOSED, closed_at__lte=F("deadline")),
            "reworked": Q(rework_count__gt=0),
            "extended": Q(extension_count__gt=0),
        }
        for name, condition in flags.items():
            if data.get(name) == "yes":
                qs = qs.filter(condition)
            elif data.get(name) == "no":
                if name == "on_time":
                    # Closed late: a closed task whose deadline passed before it closed.
                    qs = qs.filter(state=TaskState.CLOSED, closed_at__gt=F("deadline"))
                else:
                    qs = qs.exclude(condition)
        start: dt.date | None = data.get("deadline_from")
        end: dt.date | None = data.get("deadline_to")
        # Local days as instant bounds [start 00:00, end + 1 day 00:00), so that the
        # (area, deadline) index serves the range (``deadline__date`` would not).
        if start is not None:
            qs = qs.filter(deadline__gte=_local_midnight(start))
        if end is not None:
            qs = qs.filter(deadline__lt=_local_midnight(end + dt.timedelta(days=1)))
        return qs


def _local_midnight(day: dt.date) -> dt.datetime:
    """The aware instant at which ``day`` starts in the current time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


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


class WorkerChoiceField(IdChoiceField):
    """A choice of people, shown by their names (周指挥) with the user name after it to
    tell two of the same name apart ("周指挥 (zhou)")."""

    def label_from_instance(self, obj: Any) -> str:
        name, username = user_display_name(obj), obj.get_username()
        return username if name == username else f"{name} ({username})"


class DispatchForm(IdempotentForm):
    """Dispatch: to the chosen worker, or by the routing rules when none is chosen."""

    assignee: forms.ModelChoiceField[Any] = WorkerChoiceField(
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


# --- directives and campaigns ------------------------------------------------------------

#: Levels the directive's area picker offers (they expand to grids, or are grids).
PICKER_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID)
_LOCAL_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _deadline_field() -> forms.DateTimeField:
    return forms.DateTimeField(
        label=_("Deadline"),
        input_formats=_LOCAL_INPUT,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Local time."),
    )


def _deadline_clean(value: dt.datetime) -> dt.datetime:
    """The deadline made aware (local time), refused when it lies more than
    ``core.calendar.DEADLINE_HORIZON_DAYS`` ahead or outside the years 1970–9998
    (``deadline_set_by_hand_check``). A deadline not after now passes here: the service
    (``directive_issue``, ``campaign_issue``) refuses it with its own message."""
    aware = value if timezone.is_aware(value) else timezone.make_aware(value)
    now = timezone.now()
    if aware <= now and year_in_range(aware):
        return aware
    try:
        deadline_set_by_hand_check(aware, now=now)
    except ValidationFailed as error:
        raise forms.ValidationError(error.message, code="deadline") from None
    return aware


def _task_type_field() -> forms.ModelChoiceField[TaskType]:
    return IdChoiceField(
        label=_("Task type"),
        queryset=TaskType.objects.order_by("code"),
        empty_label="—",
    )


class _AreaChoices(IdMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{'· ' * obj.depth}{obj.name} ({obj.code})"


def issuer_areas(user: Any, *, roles: Any, on: dt.date) -> QuerySet[Area]:
    """The areas ``user`` may send work to under ``roles``: their areas and the districts,
    streets, communities and grids inside them in force on ``on``, by code (parents
    first)."""
    return (
        scope_queryset(Area.objects.all(), user, area_field="", roles=roles)
        .filter(area_valid_q(on), level__in=PICKER_LEVELS)
        .order_by("code")
    )


class DirectiveForm(IdempotentForm):
    """Issue a directive (``tasks.directives.directive_issue``) to chosen areas."""

    title = forms.CharField(label=_("Title"), max_length=200)
    instruction = forms.CharField(
        label=_("Instruction"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    task_type = _task_type_field()
    deadline = _deadline_field()
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    areas = _AreaChoices(
        label=_("Areas"),
        queryset=Area.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A street or community sends one task to each of its grids."),
    )
    indicator = forms.ChoiceField(label=_("Indicator"), required=False)
    indicator_target = forms.DecimalField(
        label=_("Indicator target (%)"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
    )
    period_start = DateField(
        label=_("Indicator period from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    period_end = DateField(
        label=_("Indicator period to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, areas: QuerySet[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["areas"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows
        field.queryset = areas
        indicator = self.fields["indicator"]
        assert isinstance(indicator, forms.ChoiceField)  # noqa: S101 - narrows the type
        indicator.choices = [("", "—")] + [(k, v.label) for k, v in INDICATORS.items()]

    def clean_deadline(self) -> dt.datetime:
        return _deadline_clean(self.cleaned_data["deadline"])


class CampaignForm(IdempotentForm):
    """A batch of assignment slips (``campaigns.services.campaign_issue``): the batch."""

    title = forms.CharField(label=_("Title"), max_length=190)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    task_type = _task_type_field()
    deadline = _deadline_field()
    month = forms.CharField(
        label=_("Month of the monthly cycle"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
        help_text=_("Empty for a batch outside the monthly ranking."),
    )

    def clean_month(self) -> str:
        """``YYYY-MM`` in the years 1970–9998 (``campaigns.services.campaign_month``), or
        empty."""
        text: str = self.cleaned_data["month"]
        try:
            campaign_month(text)
        except ValidationFailed as error:
            raise forms.ValidationError(error.message, code="month") from None
        return text

    def clean_deadline(self) -> dt.datetime:
        return _deadline_clean(self.cleaned_data["deadline"])


class SlipForm(forms.Form):
    """One assignment slip of a batch: where (a place number, or a WGS84 location), the
    problem and its photo. A row left wholly empty is skipped."""

    problem = forms.CharField(
        label=_("Problem"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    place = forms.IntegerField(
        label=_("Place number"), required=False, min_value=1, max_value=ID_MAX
    )
    lon = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    def slip(self) -> dict[str, Any] | None:
        """The slip as ``campaign_issue`` takes it, or ``None`` for an empty row."""
        data = self.cleaned_data
        given = ("problem", "place", "lon", "lat", "photo")
        if not any(data.get(k) not in (None, "", False) for k in given):
            return None
        slip: dict[str, Any] = {"problem": data.get("problem") or "", "photo": data.get("photo")}
        for key in ("place", "lon", "lat"):
            if data.get(key) is not None:
                slip[key] = data[key]
        if data.get("address"):
            slip["address"] = data["address"]
        return slip


#: The slip rows of the batch form (empty ones are skipped).
SlipFormSet = forms.formset_factory(SlipForm, extra=5, max_num=200, absolute_max=200)
