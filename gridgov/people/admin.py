"""Admin for the people app, usable by non-superuser staff.

Permissions come from memberships, not from Django's model permissions: every queryset
is scoped by the user's areas (``selectors.scope_queryset``), so another area's object
page redirects to the admin index like a missing object; FK choices are scoped too.
Writes go through the services with ``actor=request.user``. Personal fields are shown
masked in lists, detail pages and ``__str__``; on a change form they are empty inputs
("leave blank to keep") with the masked value as help; the "Reveal" page calls
``services.personal_data_reveal`` and so is logged.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from gridgov.areas.models import Area
from gridgov.core.errors import GridgovError
from gridgov.people import masking, selectors, services
from gridgov.people.admin_access import ScopedAdmin, _is_superuser
from gridgov.people.choices import PersonalDataSubject, ResidentTag, Role
from gridgov.people.models import (
    Department,
    Household,
    Membership,
    PersonalDataAccess,
    Place,
    Resident,
    ResidentTagAssignment,
)
from gridgov.people.rules import (
    ADDRESS,
    DEPARTMENT_ROLES,
    DWELLING_LEVELS,
    NAME,
    NATIONAL_ID,
    PERSONAL_FIELDS,
    PHONE,
)
from gridgov.people.validators import normalize_phone, parse_national_id

# --- shared pieces ------------------------------------------------------------------------


def _form_error(exc: GridgovError) -> forms.ValidationError:
    return forms.ValidationError(exc.message, code=exc.code)


class PersonalDataForm(forms.ModelForm):
    """On a change form, personal fields start empty (the stored value is never sent to
    the browser); a blank one keeps the stored value; the masked value is the help text."""

    personal_fields: tuple[str, ...] = ()
    actor: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            return
        for name in self.personal_fields:
            if name in self.fields:
                self.initial[name] = None
                field = self.fields[name]
                field.required = False
                current = masked_value(self.instance, name)
                field.help_text = (
                    _("Now: %(masked)s. Leave blank to keep it.") % {"masked": current}
                    if current
                    else _("Empty now.")
                )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.instance.pk is not None:
            for name in self.personal_fields:
                if name in self.fields and cleaned.get(name) in (None, ""):
                    cleaned[name] = getattr(self.instance, name)
        return cleaned


def masked_value(obj: Any, field: str) -> str:
    """Return ``obj.field`` masked according to its class of personal data."""
    value = getattr(obj, field)
    if field == "birth_date":
        return masking.mask_birth_date(value)
    kind = {Resident: "resident", Household: "household", Place: "place"}[type(obj)]
    cls = PERSONAL_FIELDS[kind][field]
    mask = {
        NAME: masking.mask_name,
        NATIONAL_ID: masking.mask_national_id,
        PHONE: masking.mask_phone,
        ADDRESS: masking.mask_address,
    }[cls]
    return mask(value or "")


class RevealForm(forms.Form):
    fields_ = forms.MultipleChoiceField(
        label=_("fields"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    purpose = forms.CharField(
        label=_("purpose"),
        max_length=200,
        help_text=_("Why you need to see the data; it is recorded with your name."),
    )

    def __init__(self, *args: Any, field_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["fields_"]).choices = field_choices


class PersonalDataAdmin(ScopedAdmin):
    """Scoped admin for a record with personal fields: masked display and a Reveal page."""

    subject_kind: str = ""
    edit_fields: tuple[str, ...] = ()
    change_form_template = "admin/people/change_form_reveal.html"

    @property
    def personal_fields(self) -> tuple[str, ...]:
        return tuple(PERSONAL_FIELDS[self.subject_kind])

    def masked_field_name(self, field: str) -> str:
        return f"masked_{field}"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = list(self.edit_fields)
        if obj is not None and not self.has_change_permission(request, obj):
            # View-only: Django would render the stored values; show the masks instead.
            fields = [self.masked_field_name(f) if f in self.personal_fields else f for f in fields]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [self.masked_field_name(f) for f in self.personal_fields]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        classes = selectors.user_reveal_classes(request.user)
        return queryset.filter(self.search_q(term, classes)), False

    def search_q(self, term: str, classes: frozenset[str]) -> Q:
        raise NotImplementedError

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="{}_{}_reveal".format(*info),
            ),
            *super().get_urls(),
        ]

    def revealable_fields(self, request: HttpRequest, obj: Any) -> list[str]:
        classes = selectors.user_reveal_classes(request.user, self.row_area(obj))
        return [f for f, cls in PERSONAL_FIELDS[self.subject_kind].items() if cls in classes]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.revealable_fields(request, obj):
            info = self.opts.app_label, self.opts.model_name
            extra_context["reveal_url"] = reverse("admin:{}_{}_reveal".format(*info), args=[obj.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def reveal_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask for fields and a purpose, then show the values via the logged service."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("No such record in your areas."))
        allowed = self.revealable_fields(request, obj)
        if not allowed:
            raise DjangoPermissionDenied
        labels = {f: str(self.model._meta.get_field(f).verbose_name) for f in allowed}
        form = RevealForm(request.POST or None, field_choices=[(f, labels[f]) for f in allowed])
        values: list[tuple[str, str]] = []
        if request.method == "POST" and form.is_valid():
            try:
                revealed = services.personal_data_reveal(
                    actor=request.user,
                    subject=obj,
                    fields=form.cleaned_data["fields_"],
                    purpose=form.cleaned_data["purpose"],
                    context="admin",
                    ip_address=request.META.get("REMOTE_ADDR"),
                )
            except GridgovError as exc:
                form.add_error(None, exc.message)
            else:
                values = [(labels[f], v) for f, v in revealed.items()]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reveal personal data"),
            "subtitle": str(obj),
            "opts": self.opts,
            "original": obj,
            "form": form,
            "values": values,
        }
        return TemplateResponse(request, "admin/people/reveal.html", context)


class AreaLevelFilter(admin.SimpleListFilter):
    title = _("area level")
    parameter_name = "area_level"
    area_field = "area"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        from gridgov.areas.models import AreaLevel

        return list(AreaLevel.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(**{f"{self.area_field}__level": self.value()})
        return queryset


class HouseholdAreaLevelFilter(AreaLevelFilter):
    area_field = "household__area"


class TagFilter(admin.SimpleListFilter):
    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(ResidentTag.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.value():
            return queryset
        if queryset.model is Household:
            match = ResidentTagAssignment.objects.filter(
                resident__household=OuterRef("pk"), tag=self.value()
            )
        else:
            match = ResidentTagAssignment.objects.filter(resident=OuterRef("pk"), tag=self.value())
        return queryset.filter(Exists(match))


def _phone_q(term: str, *fields: str) -> Q:
    try:
        phone = normalize_phone(term)
    except GridgovError:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for field in fields:
        q |= Q(**{field: phone})
    return q


def _national_id_q(term: str) -> Q:
    try:
        return Q(national_id=parse_national_id(term).number)
    except GridgovError:
        return Q(pk__in=[])


# --- households ---------------------------------------------------------------------------


class DwellingForm(PersonalDataForm):
    """Resolves the area from the location (or the grid given) and checks the actor's
    right to write there, with the services' own rules, so that errors show on the form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "area" in self.fields:
            self.fields["area"].required = False
            self.fields["area"].help_text = _(
                "The grid; with a location, the micro-grid or grid containing it is used."
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        lon, lat, area = cleaned.get("lon"), cleaned.get("lat"), cleaned.get("area")
        if self.instance.pk is not None and lon is not None and "area" not in self.changed_data:
            area = None  # a location decides; the old area must not block a move
        try:
            resolved = services.resolve_dwelling_area(area=area, lon=lon, lat=lat)
            services.require_write(self.actor, resolved)
        except GridgovError as exc:
            raise _form_error(exc) from exc
        cleaned["area"] = resolved
        return cleaned


class HouseholdForm(DwellingForm):
    personal_fields = tuple(PERSONAL_FIELDS[PersonalDataSubject.HOUSEHOLD])

    class Meta:
        model = Household
        fields = ("address", "lon", "lat", "area", "phone", "away_until", "ref")


class ResidentInline(admin.TabularInline):
    model = Resident
    fields = ("masked_name", "masked_national_id", "sex", "masked_phone")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # the parent page is already scoped

    @admin.display(description=pgettext_lazy("person", "name"))
    def masked_name(self, obj: Resident) -> str:
        return masking.mask_name(obj.name)

    @admin.display(description=_("national ID number"))
    def masked_national_id(self, obj: Resident) -> str:
        return masking.mask_national_id(obj.national_id or "")

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Resident) -> str:
        return masking.mask_phone(obj.phone)


class DwellingAdmin(PersonalDataAdmin):
    """Households and places: they sit in a grid or micro-grid, found from their location;
    saves go through ``create`` / ``update`` (the app's services)."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "area":
            kwargs["queryset"] = self.writable_areas(request).filter(level__in=DWELLING_LEVELS)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def update(self, request: HttpRequest, obj: Any, changed: dict[str, Any]) -> Any:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = {f: form.cleaned_data.get(f) for f in self.edit_fields if f in form.fields}
        if change:
            changed = {f: data[f] for f in form.changed_data if f in data}
            if {"lon", "lat", "area"} & changed.keys():  # a move: the location decides
                changed.update(lon=data["lon"], lat=data["lat"], area=data["area"])
            saved = self.update(request, obj, changed)
        else:
            saved = self.create(request, data)
        obj.pk, obj.area = saved.pk, saved.area


@admin.register(Household)
class HouseholdAdmin(DwellingAdmin):
    form = HouseholdForm
    subject_kind = PersonalDataSubject.HOUSEHOLD
    edit_fields = ("address", "lon", "lat", "area", "phone", "away_until", "ref")
    list_display = ("masked_address", "area", "masked_phone", "resident_count", "away_until")
    list_select_related = ("area",)
    list_filter = (AreaLevelFilter, TagFilter)
    search_fields = ("ref",)
    search_help_text = _(
        "Area name or code, reference; address part or exact phone where you may see them."
    )
    inlines = (ResidentInline,)
    list_per_page = 50

    def search_q(self, term: str, classes: frozenset[str]) -> Q:
        q = Q(area__name__icontains=term) | Q(area__code__startswith=term) | Q(ref=term)
        if ADDRESS in classes:
            q |= Q(address__icontains=term)
        if PHONE in classes:
            q |= _phone_q(term, "phone")
        return q

    @admin.display(description=_("address"), ordering="address")
    def masked_address(self, obj: Household) -> str:
        return masking.mask_address(obj.address)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Household) -> str:
        return masking.mask_phone(obj.phone)

    @admin.display(description=_("residents"), ordering="resident_count")
    def resident_count(self, obj: Household) -> int:
        return getattr(obj, "resident_count", 0)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(resident_count=Count("residents"))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = super().get_fields(request, obj)
        return [*fields, "device_panel"] if obj is not None else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "device_panel"]

    @admin.display(description=_("digital-family devices"))
    def device_panel(self, obj: Household) -> str:
        """A link to the household's device panel (``/iot/households/<id>/``, gridgov.iot)."""
        count = obj.devices.count()  # type: ignore[attr-defined]
        if not count:
            return str(_("none"))
        url = reverse("iot:household", args=[obj.pk])
        label = ngettext("%(n)d device: open the panel", "%(n)d devices: open the panel", count)
        return format_html('<a href="{}">{}</a>', url, label % {"n": count})

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Household:
        data["phone"] = data.get("phone") or ""
        data["ref"] = data.get("ref") or ""
        return services.household_create(actor=request.user, **data)

    def update(self, request: HttpRequest, obj: Household, changed: dict[str, Any]) -> Household:
        current = Household.objects.select_related("area").get(pk=obj.pk)
        return services.household_update(actor=request.user, household=current, data=changed)


# --- residents ----------------------------------------------------------------------------


class ResidentForm(PersonalDataForm):
    personal_fields = tuple(PERSONAL_FIELDS[PersonalDataSubject.RESIDENT])
    tags = forms.MultipleChoiceField(
        label=_("Tags"),
        choices=ResidentTag.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Resident
        fields = (
            "household",
            "name",
            "national_id",
            "sex",
            "birth_date",
            "phone",
            "emergency_contact_name",
            "emergency_contact_phone",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["tags"] = self.instance.tags

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        try:
            household = cleaned.get("household")
            if household is not None:
                services.require_write(self.actor, household.area)
            national_id, birth_date, sex = services.resolve_identity(
                national_id=cleaned.get("national_id"),
                birth_date=cleaned.get("birth_date"),
                sex=cleaned.get("sex") or "",
            )
        except GridgovError as exc:
            raise _form_error(exc) from exc
        cleaned.update(national_id=national_id, birth_date=birth_date, sex=sex)
        return cleaned


@admin.register(Resident)
class ResidentAdmin(PersonalDataAdmin):
    form = ResidentForm
    subject_kind = PersonalDataSubject.RESIDENT
    area_field = "household__area"
    edit_fields = (
        "household",
        "name",
        "national_id",
        "sex",
        "birth_date",
        "phone",
        "tags",
        "emergency_contact_name",
        "emergency_contact_phone",
    )
    list_display = (
        "masked_name",
        "masked_national_id",
        "sex",
        "birth_year",
        "masked_phone",
        "household",
        "area",
        "tag_list",
    )
    list_select_related = ("household__area",)
    list_filter = ("sex", TagFilter, HouseholdAreaLevelFilter)
    raw_id_fields = ("household",)
    search_fields = ("household__area__name",)
    search_help_text = _(
        "Area name or code; name part, exact national ID number or exact phone where you "
        "may see them."
    )
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("tag_assignments")

    def search_q(self, term: str, classes: frozenset[str]) -> Q:
        q = Q(household__area__name__icontains=term) | Q(household__area__code__startswith=term)
        if NAME in classes:
            q |= Q(name__icontains=term)
        if NATIONAL_ID in classes:
            q |= _national_id_q(term)
        if PHONE in classes:
            q |= _phone_q(term, "phone", "emergency_contact_phone")
        return q

    @admin.display(description=pgettext_lazy("person", "name"))
    def masked_name(self, obj: Resident) -> str:
        return masking.mask_name(obj.name)

    @admin.display(description=_("national ID number"))
    def masked_national_id(self, obj: Resident) -> str:
        return masking.mask_national_id(obj.national_id or "")

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Resident) -> str:
        return masking.mask_phone(obj.phone)

    @admin.display(description=_("birth date"))
    def masked_birth_date(self, obj: Resident) -> str:
        return masking.mask_birth_date(obj.birth_date)

    @admin.display(description=_("birth year"), ordering="birth_date")
    def birth_year(self, obj: Resident) -> str:
        return str(obj.birth_date.year) if obj.birth_date else ""

    @admin.display(description=_("emergency contact"))
    def masked_emergency_contact_name(self, obj: Resident) -> str:
        return masking.mask_name(obj.emergency_contact_name)

    @admin.display(description=_("emergency contact phone"))
    def masked_emergency_contact_phone(self, obj: Resident) -> str:
        return masking.mask_phone(obj.emergency_contact_phone)

    @admin.display(description=_("area"))
    def area(self, obj: Resident) -> Area:
        return obj.household.area

    @admin.display(description=_("tags"))
    def tag_list(self, obj: Resident) -> str:
        return ", ".join(str(ResidentTag(t).label) for t in obj.tags)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            fields = [f if f != "tags" else "tag_list" for f in fields]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "tag_list"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "household":
            kwargs["queryset"] = selectors.scope_queryset(
                Household.objects.all(), request.user, roles=self.write_roles
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Resident, form: Any, change: bool) -> None:
        data = {f: form.cleaned_data.get(f) for f in self.edit_fields if f in form.fields}
        if change:
            current = Resident.objects.select_related("household__area").get(pk=obj.pk)
            changed = {f: data[f] for f in form.changed_data if f in data}
            if "national_id" in changed:
                changed.update(birth_date=data["birth_date"], sex=data["sex"])
            saved = services.resident_update(actor=request.user, resident=current, data=changed)
        else:
            for key in ("national_id", "phone", "sex", "emergency_contact_name"):
                data[key] = data.get(key) or ""
            data["emergency_contact_phone"] = data.get("emergency_contact_phone") or ""
            data["tags"] = data.get("tags") or []
            saved = services.resident_create(actor=request.user, **data)
        obj.pk = saved.pk


# --- places -------------------------------------------------------------------------------


class PlaceForm(DwellingForm):
    personal_fields = tuple(PERSONAL_FIELDS[PersonalDataSubject.PLACE])

    class Meta:
        model = Place
        fields = ("kind", "name", "address", "lon", "lat", "area", "contact_phone", "ref")


@admin.register(Place)
class PlaceAdmin(DwellingAdmin):
    form = PlaceForm
    subject_kind = PersonalDataSubject.PLACE
    edit_fields = ("kind", "name", "address", "lon", "lat", "area", "contact_phone", "ref")
    list_display = ("name", "kind", "address", "area", "masked_contact_phone")
    list_select_related = ("area",)
    list_filter = ("kind", AreaLevelFilter)
    search_fields = ("name",)
    search_help_text = _("Name, address, area name or code; exact contact phone if you may.")
    list_per_page = 50

    def search_q(self, term: str, classes: frozenset[str]) -> Q:
        q = (
            Q(name__icontains=term)
            | Q(address__icontains=term)
            | Q(area__name__icontains=term)
            | Q(area__code__startswith=term)
            | Q(ref=term)
        )
        if PHONE in classes:
            q |= _phone_q(term, "contact_phone")
        return q

    @admin.display(description=_("contact phone"))
    def masked_contact_phone(self, obj: Place) -> str:
        return masking.mask_phone(obj.contact_phone)

    def create(self, request: HttpRequest, data: dict[str, Any]) -> Place:
        for key in ("address", "contact_phone", "ref"):
            data[key] = data.get(key) or ""
        return services.place_create(actor=request.user, **data)

    def update(self, request: HttpRequest, obj: Place, changed: dict[str, Any]) -> Place:
        current = Place.objects.select_related("area").get(pk=obj.pk)
        return services.place_update(actor=request.user, place=current, data=changed)


# --- tags ---------------------------------------------------------------------------------


@admin.register(ResidentTagAssignment)
class ResidentTagAssignmentAdmin(ScopedAdmin):
    """Read-only list of tags (they are edited on the resident's page)."""

    area_field = "resident__household__area"
    list_display = ("resident", "tag")
    list_filter = ("tag",)
    list_select_related = ("resident",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- departments and memberships ----------------------------------------------------------


class DepartmentForm(forms.ModelForm):
    actor: Any = None

    class Meta:
        model = Department
        fields = ("code", "name", "area", "is_active")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        try:
            if self.instance.pk is not None:
                services.require_department_role(self.actor, self.instance.area)
            services.require_department_role(self.actor, cleaned["area"])
        except GridgovError as exc:
            raise _form_error(exc) from exc
        return cleaned


@admin.register(Department)
class DepartmentAdmin(ScopedAdmin):
    form = DepartmentForm
    list_display = ("code", "name", "area", "is_active")
    list_filter = ("is_active", AreaLevelFilter)
    search_fields = ("code", "name")
    write_roles = DEPARTMENT_ROLES

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.department_list_visible_to(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "area":
            kwargs["queryset"] = self.writable_areas(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Department, form: Any, change: bool) -> None:
        if change:
            current = Department.objects.get(pk=obj.pk)
            data = {f: form.cleaned_data[f] for f in form.changed_data if f != "code"}
            services.department_update(actor=request.user, department=current, data=data)
        else:
            saved = services.department_create(
                actor=request.user,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                area=form.cleaned_data["area"],
            )
            obj.pk = saved.pk


class MembershipForm(forms.ModelForm):
    actor: Any = None

    class Meta:
        model = Membership
        fields = ("user", "area", "role", "department")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        try:
            services.membership_grant_check(
                actor=self.actor,
                area=cleaned["area"],
                role=cleaned["role"],
                department=cleaned.get("department"),
            )
        except GridgovError as exc:
            raise _form_error(exc) from exc
        return cleaned


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    form = MembershipForm
    list_display = ("user", "role", "area", "department", "granted_by", "created_at")
    list_select_related = ("user", "area", "department", "granted_by")
    list_filter = ("role", AreaLevelFilter, ("department", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__username", "user__first_name", "user__last_name", "area__code")
    raw_id_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.membership_list_visible_to(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(selectors.user_grantable_roles(request.user))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # grant a new one and revoke the old one instead

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return obj.role in selectors.user_grantable_roles(request.user, obj.area)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "area":
            kwargs["queryset"] = selectors.area_queryset_visible_to(request.user)
        elif db_field.name == "department":
            kwargs["queryset"] = selectors.department_list_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "role":
            grantable = selectors.user_grantable_roles(request.user)
            kwargs["choices"] = [c for c in Role.choices if c[0] in grantable]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        saved = services.membership_grant(
            actor=request.user,
            user=form.cleaned_data["user"],
            area=form.cleaned_data["area"],
            role=form.cleaned_data["role"],
            department=form.cleaned_data.get("department"),
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_revoke(actor=request.user, membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for membership in queryset.select_related("user", "area"):
            try:
                services.membership_revoke(actor=request.user, membership=membership)
            except GridgovError as exc:
                messages.error(request, exc.message)


# --- the audit ----------------------------------------------------------------------------


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    """Append-only: no add, change or delete, for anyone."""

    list_display = (
        "accessed_at",
        "user",
        "subject_kind",
        "subject_id",
        "field_list",
        "purpose",
        "context",
        "area",
        "ip_address",
    )
    list_select_related = ("user", "area")
    list_filter = ("subject_kind", "context", AreaLevelFilter)
    search_fields = ("user__username", "purpose")
    date_hierarchy = "accessed_at"
    readonly_fields = (
        "accessed_at",
        "user",
        "subject_kind",
        "subject_id",
        "field_list",
        "purpose",
        "context",
        "area",
        "ip_address",
    )
    fields = readonly_fields

    @admin.display(description=_("fields"))
    def field_list(self, obj: PersonalDataAccess) -> str:
        return ", ".join(obj.fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.personal_data_access_list_visible_to(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_superuser(request) or bool(selectors.user_memberships(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
