"""Forms of the resident page: report a problem, follow a report."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from gridgov.catalog.models import TaskType
from gridgov.open311.attributes import STRING_MAX, TEXT_MAX
from gridgov.open311.services import DESCRIPTION_MAX


def _label(item: dict[str, Any], stem: str) -> str:
    english = (get_language() or "").startswith("en")
    return str(item.get(f"{stem}_en") if english else item.get(f"{stem}_zh"))


def attribute_field(spec: dict[str, Any]) -> forms.Field:
    """The form field for one report field (never required here: the service checks
    the chosen type's required fields and says which are missing)."""
    label = _label(spec, "description")
    datatype = spec["datatype"]
    choices = [(v["key"], _label(v, "name")) for v in spec.get("values", [])]
    if datatype == "number":
        return forms.FloatField(label=label, required=False)
    if datatype == "datetime":
        return forms.DateTimeField(
            label=label,
            required=False,
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        )
    if datatype == "text":
        return forms.CharField(
            label=label, required=False, max_length=TEXT_MAX, widget=forms.Textarea({"rows": 3})
        )
    if datatype == "singlevaluelist":
        return forms.ChoiceField(label=label, required=False, choices=[("", "—"), *choices])
    if datatype == "multivaluelist":
        return forms.MultipleChoiceField(
            label=label, required=False, choices=choices, widget=forms.CheckboxSelectMultiple
        )
    return forms.CharField(label=label, required=False, max_length=STRING_MAX)


class TaskTypeChoiceField(forms.ModelChoiceField):
    """A category by its name in the active language."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ReportForm(forms.Form):
    """Category, the chosen category's questions, description, photo, location, phone
    and its verification code. Attribute fields are named ``attr-<type code>-<code>``."""

    task_type = TaskTypeChoiceField(
        label=_("What is the problem?"),
        queryset=TaskType.objects.none(),
        empty_label=_("Choose a category"),
    )
    description = forms.CharField(
        label=_("Describe the problem"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea({"rows": 4}),
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput({"accept": "image/*", "capture": "environment"}),
    )
    lon = forms.FloatField(label=_("Longitude"), widget=forms.HiddenInput, required=False)
    lat = forms.FloatField(label=_("Latitude"), widget=forms.HiddenInput, required=False)
    phone = forms.CharField(
        label=_("Your mobile number"),
        max_length=20,
        widget=forms.TextInput({"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    code = forms.CharField(
        label=_("Verification code"),
        max_length=6,
        required=False,
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def __init__(self, *args: Any, types: list[TaskType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["task_type"])
        field.queryset = TaskType.objects.filter(pk__in=[t.pk for t in types]).order_by("code")
        self.groups: list[tuple[TaskType, list[str]]] = []
        for task_type in types:
            names = []
            for spec in task_type.report_fields or []:
                name = f"attr-{task_type.code}-{spec['code']}"
                self.fields[name] = attribute_field(spec)
                names.append(name)
            if names:
                self.groups.append((task_type, names))

    def attribute_groups(self) -> list[tuple[TaskType, list[forms.BoundField]]]:
        """Each category with questions, and their bound fields (for the template)."""
        return [(t, [self[name] for name in names]) for t, names in self.groups]

    def attributes(self) -> dict[str, list[str]]:
        """The chosen category's answers as the service takes them (code → values;
        a local date and time gets the active time zone's offset)."""
        task_type = self.cleaned_data["task_type"]
        out: dict[str, list[str]] = {}
        for spec in task_type.report_fields or []:
            value = self.cleaned_data.get(f"attr-{task_type.code}-{spec['code']}")
            if value in (None, "", []):
                continue
            if spec["datatype"] == "datetime":
                if timezone.is_naive(value):
                    value = timezone.make_aware(value)
                out[spec["code"]] = [value.isoformat()]
            elif isinstance(value, list):
                out[spec["code"]] = [str(v) for v in value]
            else:
                out[spec["code"]] = [str(value)]
        return out


class FollowForm(forms.Form):
    """A report's number and the phone it was made from."""

    number = forms.CharField(label=_("Report number"), max_length=20)
    phone = forms.CharField(
        label=_("Your mobile number"),
        max_length=20,
        widget=forms.TextInput({"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
