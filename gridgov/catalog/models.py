"""The task catalogue: category (2 digits) → task type (4 digits) → task rule (6 digits).

A task type (主体任务) says what the work is, when a report becomes a case (立案标准), when it
may be closed (结案标准) and who handles it by default; its names and both standards are
stored in Chinese and English (``*_zh`` / ``*_en``) and read in the active language through
``name``, ``filing_standard`` and ``closing_standard``, which fall back to the Chinese.
A task rule (任务规则) says for whom, how often, how fast and with what evidence: a target
selector, an RFC 5545 RRULE (blank = event-driven), a time limit, a priority and the evidence
required. Codes nest (a type's code begins with its category's, a rule's with its type's)
and are the keys that import and export upsert by. See docs/catalog.md.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Substr
from django.db.models.lookups import Exact, In
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from gridgov.catalog.choices import Priority, TargetKind
from gridgov.catalog.schema import form_fields_problems, recurrence_problems
from gridgov.core.choices import TimeLimitUnit
from gridgov.core.models import TimeStampedModel
from gridgov.people.choices import PlaceKind, ResidentTag, Role

DIGITS = list("0123456789")


def digits_only(field: str, length: int) -> Q:
    """A portable check condition: ``field`` is exactly ``length`` ASCII digits.

    Built from LENGTH/SUBSTR/IN so that it needs no REGEXP function (SQLite has none of
    its own) and no collation-dependent ranges.
    """
    condition = Q(Exact(Length(field), length))
    for position in range(1, length + 1):
        condition &= Q(In(Substr(field, position, 1), DIGITS))
    return condition


def validate_recurrence(value: str) -> None:
    """Field validator: a blank value or an RRULE the catalogue accepts."""
    if value and (problems := recurrence_problems(value)):
        raise ValidationError("; ".join(problems))


def validate_report_fields(value: object) -> None:
    """Field validator: a list of Open311 attribute definitions (see
    ``gridgov.open311.attributes.report_fields_problems``)."""
    from gridgov.open311.attributes import report_fields_problems  # the Open311 vocabulary

    if problems := report_fields_problems(value):
        raise ValidationError("; ".join(problems))


def validate_form_fields(value: object) -> None:
    """Field validator: a list of form-field definitions (see ``form_fields_problems``)."""
    if problems := form_fields_problems(value):
        raise ValidationError("; ".join(problems))


class CatalogEntry(TimeStampedModel):
    """Abstract base of the three levels: a code and a name in Chinese and English.

    Subclasses declare ``code``, ``name_zh`` and ``name_en``.
    """

    code: str
    name_zh: str
    name_en: str

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        """The name in the active language (Chinese unless English is active)."""
        return _localised(self.name_zh, self.name_en)

    @property
    def name_stored(self) -> str:
        """The name in the site's language (``LANGUAGE_CODE``), for text stored on records
        — a task's title — whatever the language of the request that creates them."""
        with translation.override(settings.LANGUAGE_CODE):
            return self.name

    def _check_code_prefix(self, parent: CatalogEntry | None, message: str | Promise) -> None:
        """Check what the database cannot: the code begins with its parent's code.
        ``message`` takes ``%(code)s`` (the parent's code). Raises ``ValidationError``."""
        if parent is not None and self.code and not self.code.startswith(parent.code):
            raise ValidationError({"code": str(message) % {"code": parent.code}})


class Category(CatalogEntry):
    """A top-level group of task types (大类), e.g. 01 基础信息采集."""

    code = models.CharField(_("code"), max_length=2, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=digits_only("code", 2),
                name="catalog_category_code_2_digits",
                violation_error_message=_("A category code is 2 digits."),
            ),
        ]


class TaskType(CatalogEntry):
    """An entry of the catalogue (主体任务): what the work is and who handles it."""

    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="task_types",
    )
    code = models.CharField(
        _("code"),
        max_length=4,
        unique=True,
        help_text=_("4 digits beginning with the category's code."),
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=200)
    filing_standard_zh = models.TextField(
        _("filing standard (Chinese)"), help_text=_("When a report becomes a case (立案标准).")
    )
    filing_standard_en = models.TextField(
        _("filing standard (English)"),
        blank=True,
        help_text=_("Shown to English users; blank: the Chinese is shown."),
    )
    closing_standard_zh = models.TextField(
        _("closing standard (Chinese)"), help_text=_("When a case may be closed (结案标准).")
    )
    closing_standard_en = models.TextField(
        _("closing standard (English)"),
        blank=True,
        help_text=_("Shown to English users; blank: the Chinese is shown."),
    )
    handler_role = models.CharField(
        _("default handler role"),
        max_length=32,
        choices=Role.choices,
        blank=True,
        help_text=_("Leave blank when a functional department handles this type."),
    )
    handler_department = models.CharField(
        _("default handler department"),
        max_length=32,
        blank=True,
        help_text=_("A department's code, for types handled by a functional department."),
    )
    public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Residents may report it (offered as an Open311 service)."),
    )
    report_fields = models.JSONField(
        _("resident's report fields"),
        default=list,
        blank=True,
        validators=[validate_report_fields],
        help_text=_(
            "What a resident reporting this type is asked (the Open311 service definition): "
            "a list of {code, datatype (string, number, datetime, text, singlevaluelist, "
            "multivaluelist), required, description_zh, description_en, values: [{key, "
            "name_zh, name_en}] for the list types}."
        ),
    )
    negative_list = models.BooleanField(
        _("on the negative list"),
        default=False,
        help_text=_("Not grid work under the grid-duty admission system (网格事项准入)."),
    )
    basis = models.TextField(
        _("basis"),
        help_text=_(
            "Source of the frequencies and time limits, with its reliability tag: "
            "[O] official, [N] news, [T] template, [B] blog, design = our default."
        ),
    )

    class Meta:
        verbose_name = _("task type")
        verbose_name_plural = _("task types")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=digits_only("code", 4),
                name="catalog_tasktype_code_4_digits",
                violation_error_message=_("A task type code is 4 digits."),
            ),
            models.CheckConstraint(
                condition=(Q(handler_role="") & ~Q(handler_department=""))
                | (~Q(handler_role="") & Q(handler_department="")),
                name="catalog_tasktype_one_handler",
                violation_error_message=_(
                    "Give either a handler role or a handler department, not both."
                ),
            ),
        ]

    def clean(self) -> None:
        """Check what the database cannot: the code begins with the category's code."""
        super().clean()
        self._check_code_prefix(
            self.category if self.category_id else None,
            _("The code must begin with the category's code %(code)s."),
        )

    @property
    def filing_standard(self) -> str:
        """The filing standard (立案标准) in the active language: the English when English
        is active and the English is not blank, else the Chinese (as ``name``)."""
        return _localised(self.filing_standard_zh, self.filing_standard_en)

    @property
    def closing_standard(self) -> str:
        """The closing standard (结案标准) in the active language: the English when English
        is active and the English is not blank, else the Chinese (as ``name``)."""
        return _localised(self.closing_standard_zh, self.closing_standard_en)

    @property
    def handler(self) -> str:
        """The default handler: a role value, or ``dept:<code>`` for a department."""
        return self.handler_role or f"dept:{self.handler_department}"


class TaskRule(CatalogEntry):
    """Who, what, how often, how fast and with what evidence (任务规则)."""

    task_type = models.ForeignKey(
        TaskType,
        verbose_name=_("task type"),
        on_delete=models.PROTECT,
        related_name="rules",
    )
    code = models.CharField(
        _("code"),
        max_length=6,
        unique=True,
        help_text=_("6 digits: the task type's code and 2 more."),
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=200)
    target_kind = models.CharField(
        _("target"), max_length=16, choices=TargetKind.choices, default=TargetKind.NONE
    )
    # Tags and place kinds are people's vocabularies; no DB check on them so that adding one
    # there needs no catalogue migration. The import and the admin form validate them.
    target_tag = models.CharField(
        _("resident tag"), max_length=32, choices=ResidentTag.choices, blank=True
    )
    target_place_kind = models.CharField(
        _("place kind"), max_length=32, choices=PlaceKind.choices, blank=True
    )
    recurrence = models.CharField(
        _("recurrence (RRULE)"),
        max_length=500,
        blank=True,
        validators=[validate_recurrence],
        help_text=_(
            "An RFC 5545 RRULE such as FREQ=WEEKLY or FREQ=MONTHLY;BYMONTHDAY=1. "
            "Blank: event-driven, tasks are created on demand, not generated."
        ),
    )
    time_limit_value = models.PositiveIntegerField(_("time limit"))
    time_limit_unit = models.CharField(
        _("time-limit unit"), max_length=16, choices=TimeLimitUnit.choices
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    min_photos = models.PositiveSmallIntegerField(_("minimum photos"), default=0)
    checkin_radius_m = models.PositiveIntegerField(
        _("check-in radius (m)"),
        null=True,
        blank=True,
        help_text=_(
            "The worker's location must be within this distance of the target. "
            "Blank: no location check-in."
        ),
    )
    form_fields = models.JSONField(
        _("form fields"),
        default=list,
        blank=True,
        validators=[validate_form_fields],
        help_text=_(
            "A list of {name, label_zh, label_en, type (text, number, boolean, choice, date), "
            "required, choices}."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("task rule")
        verbose_name_plural = _("task rules")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=digits_only("code", 6),
                name="catalog_taskrule_code_6_digits",
                violation_error_message=_("A task rule code is 6 digits."),
            ),
            models.CheckConstraint(
                condition=Q(time_limit_value__gt=0),
                name="catalog_taskrule_time_limit_positive",
                violation_error_message=_("The time limit must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(time_limit_unit__in=TimeLimitUnit.values),
                name="catalog_taskrule_time_limit_unit_valid",
                violation_error_message=_("Unknown time-limit unit."),
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values),
                name="catalog_taskrule_priority_valid",
                violation_error_message=_("Unknown priority."),
            ),
            models.CheckConstraint(
                condition=Q(checkin_radius_m__isnull=True) | Q(checkin_radius_m__gte=0),
                name="catalog_taskrule_checkin_radius_not_negative",
                violation_error_message=_("The check-in radius cannot be negative."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(target_kind=TargetKind.HOUSEHOLD)
                    & ~Q(target_tag="")
                    & Q(target_place_kind="")
                )
                | (Q(target_kind=TargetKind.PLACE) & Q(target_tag="") & ~Q(target_place_kind=""))
                | (
                    Q(target_kind__in=[TargetKind.GRID, TargetKind.NONE])
                    & Q(target_tag="")
                    & Q(target_place_kind="")
                ),
                name="catalog_taskrule_target_consistent",
                violation_error_message=_(
                    "A household target needs a resident tag, a place target a place kind; "
                    "other targets take neither."
                ),
            ),
            models.CheckConstraint(
                condition=Q(recurrence="") | ~Q(target_kind=TargetKind.NONE),
                name="catalog_taskrule_recurring_has_target",
                violation_error_message=_(
                    "A recurring rule needs a target (grid, household or place)."
                ),
            ),
        ]
        indexes = [models.Index(fields=["active", "task_type"], name="catalog_rule_active_idx")]

    def clean(self) -> None:
        """Check what the database cannot: the code begins with the task type's code."""
        super().clean()
        self._check_code_prefix(
            self.task_type if self.task_type_id else None,
            _("The code must begin with the task type's code %(code)s."),
        )

    @property
    def is_event_driven(self) -> bool:
        """True when the rule has no recurrence: tasks come from reports, not a schedule."""
        return not self.recurrence

    @property
    def target_label(self) -> str:
        """The target selector in words, e.g. ``household: elderly_high_risk``."""
        detail = self.target_tag or self.target_place_kind
        return f"{self.target_kind}: {detail}" if detail else str(self.target_kind)


def _localised(zh: str, en: str) -> str:
    """``en`` when an English language is active and ``en`` is not blank, else ``zh``."""
    language = get_language() or "zh-hans"
    return en if language.startswith("en") and en.strip() else zh
