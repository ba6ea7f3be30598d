"""Forms of the web pages: they parse and render; the task services judge.

Evidence (photo count, check-in distance, required answers) is checked by
``tasks.services.task_submit_feedback`` alone, so the rules live in one place; the forms
only turn the browser's strings into values and carry the service's problems back to the
field they concern (``feedback_problems_apply``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from gridgov.catalog.choices import FormFieldType
from gridgov.catalog.models import TaskType

#: The photo inputs: images, the phone's back camera, previews of the chosen ones (app.js).
PHOTO_INPUT_ATTRS = {"accept": "image/*", "capture": "environment", "data-preview": ""}

#: Bounds of a number answer (``answer_field``): at most this many digits in all, of which
#: this many after the decimal point — so at most 999,999,999.999; never an exponent
#: beyond that, infinity or NaN.
NUMBER_MAX_DIGITS = 12
NUMBER_DECIMAL_PLACES = 3

#: Prefix of the rule's questions among the feedback form's fields (``a_health``…).
ANSWER_PREFIX = "a_"


def idempotency_key_new() -> str:
    """Return a fresh idempotency key for a form (a random UUID, 36 characters)."""
    return str(uuid.uuid4())


class IdempotentForm(forms.Form):
    """A form that carries the idempotency key made when the page was rendered, so that a
    double tap or a resubmission after a dropped connection repeats nothing."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", idempotency_key_new())
        super().__init__(*args, **kwargs)


class SendBackForm(IdempotentForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why this task is not yours (e.g. the address is in another grid)."),
    )


class PhoneRevealForm(forms.Form):
    """Why the worker needs a household's phone numbers: the purpose every unmasked read
    is logged with (``people.services.personal_data_reveal``, at most 200 characters)."""

    purpose = forms.CharField(
        label=_("Why you need them"),
        max_length=200,
        help_text=_("Every look at the numbers is logged with this reason."),
    )


def _end_of_working_day() -> dt.time:
    """The end of the last working period of ``GRIDGOV_WORKING_HOURS`` (e.g. 17:30)."""
    last = str(settings.GRIDGOV_WORKING_HOURS[-1])
    return dt.time.fromisoformat(last.split("-")[-1].strip())


class ExtensionForm(IdempotentForm):
    until = forms.DateField(
        label=_("New deadline"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The task is then due at the end of that working day."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def until_datetime(self) -> dt.datetime:
        """The requested deadline: the end of the working day on the chosen date, local time."""
        day: dt.date = self.cleaned_data["until"]
        return timezone.make_aware(dt.datetime.combine(day, _end_of_working_day()))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; their checks (type, size, count) are the service's."""

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        return list(data) if isinstance(data, list | tuple) else [data]


class LocationMixin(forms.Form):
    """Hidden WGS84 longitude and latitude, filled by the browser's geolocation."""

    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)


def _label(spec: Mapping[str, Any]) -> str:
    """The question's label in the active language (Chinese unless English is active)."""
    english = (translation.get_language() or "").startswith("en")
    zh, en = str(spec.get("label_zh") or ""), str(spec.get("label_en") or "")
    return (en or zh) if english else (zh or en) or str(spec.get("name"))


def answer_rows(
    form_fields: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """Return the answers of a feedback as ``(question label, shown value)`` rows.

    ``form_fields``: the rule's ``form_fields`` (``{name, label_zh, label_en, type,
    choices}``); ``answers``: the feedback's ``{name: value}``. Rows follow the rule's
    order, labels and choice labels are in the active language, booleans read Yes/No;
    answers to questions the rule no longer has come last under their raw names.
    """
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for spec in form_fields:
        name = str(spec.get("name"))
        if name not in answers:
            continue
        seen.add(name)
        value = answers[name]
        shown = str(value)
        if isinstance(value, bool) or str(spec.get("type")) == FormFieldType.BOOLEAN:
            shown = str(_("Yes") if value in (True, "true") else _("No"))
        elif str(spec.get("type")) == FormFieldType.CHOICE:
            labels = {str(c.get("value")): _label(c) for c in spec.get("choices") or []}
            shown = labels.get(str(value), str(value))
        rows.append((_label(spec), shown))
    rows.extend((str(name), str(value)) for name, value in answers.items() if name not in seen)
    return rows


def answer_field(spec: Mapping[str, Any]) -> forms.Field:
    """Return the form field for one of a rule's ``form_fields`` (text, number, boolean,
    choice, date). Required questions are marked for the browser; the server-side check is
    the service's, so the field itself accepts an empty value.

    A number is a finite decimal of at most ``NUMBER_MAX_DIGITS`` digits with at most
    ``NUMBER_DECIMAL_PLACES`` after the point (``1e400``, ``inf``, ``NaN`` are refused) and
    at least 0 — counts, minutes, people — unless the spec gives its own ``min`` / ``max``
    (numbers; the catalogue's schema has none today, so the defaults apply)."""
    kind = str(spec.get("type"))
    label = _label(spec)
    field: forms.Field
    if kind == FormFieldType.NUMBER:
        minimum, maximum = spec.get("min", 0), spec.get("max")
        field = forms.DecimalField(
            label=label,
            required=False,
            max_digits=NUMBER_MAX_DIGITS,
            decimal_places=NUMBER_DECIMAL_PLACES,
            min_value=Decimal(str(minimum)) if isinstance(minimum, int | float) else None,
            max_value=Decimal(str(maximum)) if isinstance(maximum, int | float) else None,
        )
        field.widget.attrs["inputmode"] = "decimal"
    elif kind == FormFieldType.BOOLEAN:
        field = forms.ChoiceField(
            label=label,
            required=False,
            choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))],
        )
    elif kind == FormFieldType.CHOICE:
        choices = [("", "—")] + [
            (str(c.get("value")), _label(c)) for c in spec.get("choices") or []
        ]
        field = forms.ChoiceField(label=label, required=False, choices=choices)
    elif kind == FormFieldType.DATE:
        field = forms.DateField(
            label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
    else:
        field = forms.CharField(
            label=label, required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
        )
    if spec.get("required"):
        field.widget.attrs["required"] = True
        field.widget.attrs["aria-required"] = "true"
    return field


class FeedbackForm(IdempotentForm, LocationMixin):
    """The feedback (回单) of one task: note, photos, location and the rule's questions."""

    note = forms.CharField(
        label=_("What was done"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = MultipleFileField(
        label=_("Photos"),
        required=False,
        widget=MultipleFileInput(attrs=PHOTO_INPUT_ATTRS),
    )

    def __init__(self, *args: Any, form_fields: Iterable[Mapping[str, Any]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.answer_names: list[str] = []
        for spec in form_fields:
            name = ANSWER_PREFIX + str(spec.get("name"))
            self.fields[name] = answer_field(spec)
            self.answer_names.append(name)

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.answer_names]

    def answers(self) -> dict[str, Any]:
        """The answers as ``{question name: value}`` for the service (empty ones left out)."""
        result: dict[str, Any] = {}
        for name in self.answer_names:
            value = self.cleaned_data.get(name)
            if value not in (None, ""):
                result[name.removeprefix(ANSWER_PREFIX)] = value
        return result


def feedback_problems_apply(form: FeedbackForm, problems: Iterable[Mapping[str, str]]) -> None:
    """Put each of the service's evidence problems (``{field, message}``) on its field:
    ``photos``/``photos[i]`` → photos, ``location`` → the location, ``answers.<name>`` →
    that question; anything else becomes a form-wide error."""
    for problem in problems:
        where, message = str(problem.get("field", "")), str(problem.get("message", ""))
        if where.startswith("photos"):
            form.add_error("photos", message)
        elif where == "location":
            form.add_error("lon", message)
        elif where.startswith("answers.") and ANSWER_PREFIX + where[8:] in form.fields:
            form.add_error(ANSWER_PREFIX + where[8:], message)
        else:
            form.add_error(None, message)


class ReportForm(IdempotentForm, LocationMixin):
    """A problem found on patrol (巡查上报): what kind, where, and a note."""

    task_type = forms.ModelChoiceField(
        label=_("Kind of problem"),
        queryset=TaskType.objects.none(),
        empty_label="—",
    )
    title = forms.CharField(
        label=_("Short title"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to use the kind of problem."),
    )
    note = forms.CharField(
        label=_("What you saw"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = MultipleFileField(
        label=_("Photos"),
        required=False,
        widget=MultipleFileInput(attrs=PHOTO_INPUT_ATTRS),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["task_type"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        # Types on the negative list (网格事项准入) are not grid work: a worker may not
        # report them as such.
        types = list(
            TaskType.objects.filter(negative_list=False)
            .select_related("category")
            .order_by("category__code", "code")
        )
        field.queryset = TaskType.objects.filter(negative_list=False)
        groups: dict[str, list[tuple[int, str]]] = {}
        for t in types:
            groups.setdefault(f"{t.category.code} {t.category.name}", []).append((t.pk, t.name))
        field.choices = [("", "—"), *groups.items()]  # type: ignore[assignment]
