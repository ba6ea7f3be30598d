"""The catalogue's YAML schema: parse, validate and normalise a file; dump the canonical form.

A catalogue file is a mapping with three keys::

    version: 1
    categories:   [{code, name_zh, name_en}, …]
    task_types:   [{code, category, name_zh, name_en, handler_role | handler_department,
                    public, negative_list, filing_standard_zh, filing_standard_en,
                    closing_standard_zh, closing_standard_en, basis,
                    rules: [{code, name_zh, name_en, target, recurrence, time_limit,
                             priority, evidence, active}, …]}, …]

The standards' English (``filing_standard_en``, ``closing_standard_en``) is optional (blank:
readers see the Chinese); ``filing_standard`` and ``closing_standard``, the keys of files
written before the English was added, are read as ``…_zh``.

``catalog_validate`` checks every entry, collects every problem (each naming its entry and
field) and returns the *normalised* form: the same shape with every optional key filled in.
The export writes exactly that form, so export → import → export is byte-identical.
Pure functions only: nothing here touches the database.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from dateutil.rrule import rrule, rrulestr
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.catalog.choices import FormFieldType, Priority, TargetKind
from gridgov.core.choices import TimeLimitUnit
from gridgov.people.choices import PlaceKind, ResidentTag, Role

SCHEMA_VERSION = 1

CATEGORY_CODE_RE = re.compile(r"^[0-9]{2}$")
TASK_TYPE_CODE_RE = re.compile(r"^[0-9]{4}$")
RULE_CODE_RE = re.compile(r"^[0-9]{6}$")
#: A functional department's code as the people app keys departments (e.g. ``law_enforcement``).
DEPARTMENT_CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
FORM_FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

NAME_ZH_MAX = 100
NAME_EN_MAX = 200
RECURRENCE_MAX = 500
MAX_TIME_LIMIT = 1000
MAX_PHOTOS = 20
MAX_CHECKIN_RADIUS_M = 10_000

#: Occurrences of every RRULE are counted from this local wall-clock start: Monday
#: 2024-01-01 08:30, the start of the working day (``GRIDGOV_WORKING_HOURS``). A fixed
#: anchor keeps ``INTERVAL`` rules (every 10 days, every 2 weeks) on the same dates on every
#: run; rules with no ``BYHOUR`` fall at 08:30.
RECURRENCE_EPOCH = datetime(2024, 1, 1, 8, 30)  # noqa: DTZ001 - made aware in recurrence_epoch()

#: Frequencies a routine rule may use; anything finer would flood workers with tasks.
ALLOWED_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")


def recurrence_epoch() -> datetime:
    """Return ``RECURRENCE_EPOCH`` as an aware datetime in the default time zone."""
    return timezone.make_aware(RECURRENCE_EPOCH, timezone.get_default_timezone())


def recurrence_parse(value: str) -> rrule:
    """Parse an RFC 5545 RRULE value (no ``RRULE:`` prefix) anchored at the epoch.

    Input: e.g. ``"FREQ=MONTHLY;BYMONTHDAY=1"``. Output: a dateutil ``rrule`` whose
    occurrences are aware datetimes in the default time zone. Raises ``ValueError`` with a
    readable reason when the value is not a valid rule for the catalogue (see
    ``recurrence_problems``).
    """
    problems = recurrence_problems(value)
    if problems:
        raise ValueError("; ".join(problems))
    return rrulestr(value, dtstart=recurrence_epoch())  # type: ignore[return-value]


def recurrence_problems(value: str) -> list[str]:
    """Return what is wrong with an RRULE value for a task rule (empty list = valid).

    Checks: one line, no ``RRULE:``/``DTSTART`` (the epoch is fixed), parses with
    ``dateutil.rrule.rrulestr`` (RFC 5545), frequency DAILY or coarser, and a BYMONTHDAY
    that exists in at least one of its months (``BYMONTH=2;BYMONTHDAY=30`` never occurs).
    """
    text = value.strip()
    if "\n" in text or text.upper().startswith(("RRULE:", "DTSTART")):
        return [_("write only the rule's value, e.g. FREQ=WEEKLY, without RRULE: or DTSTART")]
    try:
        parsed = rrulestr(text, dtstart=recurrence_epoch())
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        return [_("not a valid RFC 5545 RRULE (%(reason)s)") % {"reason": exc}]
    if not isinstance(parsed, rrule):  # pragma: no cover - rrulestr of one RRULE is an rrule
        return [_("not a single RRULE")]
    parts = _rrule_parts(text)
    freq = parts.get("FREQ", "")
    if freq not in ALLOWED_FREQS:
        return [
            _("frequency %(freq)s is too fine for a task rule; use one of %(allowed)s")
            % {"freq": freq, "allowed": ", ".join(ALLOWED_FREQS)}
        ]
    if not _monthday_possible(parts):
        return [_("BYMONTHDAY never falls in the months given by BYMONTH")]
    return []


def _rrule_parts(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for item in text.split(";"):
        key, _sep, val = item.partition("=")
        parts[key.strip().upper()] = val.strip().upper()
    return parts


def _monthday_possible(parts: dict[str, str]) -> bool:
    if "BYMONTHDAY" not in parts:
        return True
    days = [int(d) for d in parts["BYMONTHDAY"].split(",") if d]
    months = [int(m) for m in parts["BYMONTH"].split(",") if m] if "BYMONTH" in parts else []
    longest = max((calendar.monthrange(2024, m)[1] for m in months or range(1, 13)), default=31)
    return any(abs(d) <= longest for d in days)


# --- validation -------------------------------------------------------------------------


@dataclass
class _Checker:
    """Collects problems; each is ``"<entry>: <field>: <reason>"``."""

    problems: list[str] = field(default_factory=list)

    def add(self, entry: str, key: str, reason: str) -> None:
        self.problems.append(f"{entry}: {key}: {reason}" if key else f"{entry}: {reason}")

    def mapping(self, entry: str, value: Any, allowed: tuple[str, ...], key: str = "") -> bool:
        if not isinstance(value, dict):
            self.add(entry, key, _("must be a mapping (key: value)"))
            return False
        for unknown in sorted(set(value) - set(allowed), key=str):
            self.add(
                entry,
                f"{key}.{unknown}" if key else str(unknown),
                _("unknown key; expected one of %(keys)s") % {"keys": ", ".join(allowed)},
            )
        return True

    def code(self, entry: str, value: Any, pattern: re.Pattern[str], digits: int) -> str | None:
        if isinstance(value, str) and pattern.match(value):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            self.add(
                entry,
                "code",
                _(
                    "YAML read the number %(value)s; write codes as quoted strings of "
                    "%(digits)d digits, e.g. '%(example)s'"
                )
                % {"value": value, "digits": digits, "example": "0" * (digits - 1) + "1"},
            )
        else:
            self.add(
                entry,
                "code",
                _("%(value)r is not a code of %(digits)d digits")
                % {"value": value, "digits": digits},
            )
        return None

    def text(
        self, entry: str, data: dict[str, Any], key: str, *, max_length: int | None = None
    ) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            self.add(entry, key, _("required text is missing or empty"))
            return ""
        value = value.strip()
        if max_length is not None and len(value) > max_length:
            self.add(entry, key, _("longer than %(max)d characters") % {"max": max_length})
        return value

    def optional_text(self, entry: str, data: dict[str, Any], key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(entry, key, _("must be text or empty, not %(value)r") % {"value": value})
            return None
        return value.strip() or None

    def flag(self, entry: str, data: dict[str, Any], key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.add(entry, key, _("must be true or false, not %(value)r") % {"value": value})
            return default
        return value

    def integer(
        self, entry: str, value: Any, key: str, *, minimum: int, maximum: int
    ) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(entry, key, _("must be a whole number, not %(value)r") % {"value": value})
            return None
        if not minimum <= value <= maximum:
            self.add(
                entry,
                key,
                _("%(value)d is out of range; allowed %(min)d to %(max)d")
                % {"value": value, "min": minimum, "max": maximum},
            )
            return None
        return value

    def choice(self, entry: str, value: Any, key: str, choices: type[Any]) -> str | None:
        if value in choices.values:
            return str(value)
        self.add(
            entry,
            key,
            _("%(value)r is not one of %(allowed)s")
            % {"value": value, "allowed": ", ".join(choices.values)},
        )
        return None


CATEGORY_KEYS = ("code", "name_zh", "name_en")
TASK_TYPE_KEYS = (
    "code",
    "category",
    "name_zh",
    "name_en",
    "handler_role",
    "handler_department",
    "public",
    "negative_list",
    "filing_standard_zh",
    "filing_standard_en",
    "closing_standard_zh",
    "closing_standard_en",
    "basis",
    "rules",
)
#: Keys of files written before the standards had an English text: read as ``…_zh``.
LEGACY_TASK_TYPE_KEYS = {
    "filing_standard": "filing_standard_zh",
    "closing_standard": "closing_standard_zh",
}
RULE_KEYS = (
    "code",
    "name_zh",
    "name_en",
    "target",
    "recurrence",
    "time_limit",
    "priority",
    "evidence",
    "active",
)
FORM_FIELD_KEYS = ("name", "label_zh", "label_en", "type", "required", "choices")
CHOICE_KEYS = ("value", "label_zh", "label_en")


def catalog_validate(
    data: Any, *, known_category_codes: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], list[str]]:
    """Validate a parsed catalogue file and return ``(normalised, problems)``.

    Input: the object ``yaml.safe_load`` returned; ``known_category_codes`` are categories
    already in the database, which a task type may refer to without repeating them.
    Output: the normalised catalogue (schema in the module docstring, every optional key
    filled) and a list of problems, each ``"<entry>: <field>: <reason>"`` with the entry
    named by list position and code, e.g. ``"task_types[3] 0104, rules[0] 010401:
    time_limit.unit: 'hour' is not one of …"``. An empty list means the file is valid.
    """
    check = _Checker()
    out: dict[str, Any] = {"version": SCHEMA_VERSION, "categories": [], "task_types": []}
    if isinstance(data, dict):
        # "x-…" keys are free for YAML anchors (shared form fields) and are ignored.
        data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    if not check.mapping(_("file"), data, ("version", "categories", "task_types")):
        return out, check.problems
    if data.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
        check.add(
            _("file"), "version", _("only version %(v)d is supported") % {"v": SCHEMA_VERSION}
        )

    categories = data.get("categories") or []
    task_types = data.get("task_types") or []
    if not isinstance(categories, list):
        check.add(_("file"), "categories", _("must be a list"))
        categories = []
    if not isinstance(task_types, list):
        check.add(_("file"), "task_types", _("must be a list"))
        task_types = []

    seen_categories: dict[str, str] = {}
    for index, raw in enumerate(categories):
        entry = _entry("categories", index, raw)
        item = _category(check, entry, raw)
        if item is None:
            continue
        if item["code"] in seen_categories:
            check.add(
                entry,
                "code",
                _("duplicate code %(code)s (also %(other)s)")
                % {"code": item["code"], "other": seen_categories[item["code"]]},
            )
            continue
        seen_categories[item["code"]] = entry
        out["categories"].append(item)

    available = frozenset(seen_categories) | known_category_codes
    seen_types: dict[str, str] = {}
    seen_rules: dict[str, str] = {}
    for index, raw in enumerate(task_types):
        entry = _entry("task_types", index, raw)
        item = _task_type(check, entry, raw, available, seen_rules)
        if item is None:
            continue
        if item["code"] in seen_types:
            check.add(
                entry,
                "code",
                _("duplicate code %(code)s (also %(other)s)")
                % {"code": item["code"], "other": seen_types[item["code"]]},
            )
            continue
        seen_types[item["code"]] = entry
        out["task_types"].append(item)

    out["categories"].sort(key=lambda c: c["code"])
    out["task_types"].sort(key=lambda t: t["code"])
    return out, check.problems


def _entry(kind: str, index: int, raw: Any) -> str:
    code = raw.get("code") if isinstance(raw, dict) else None
    return f"{kind}[{index}] {code}" if code is not None else f"{kind}[{index}]"


def _category(check: _Checker, entry: str, raw: Any) -> dict[str, Any] | None:
    before = len(check.problems)
    if not check.mapping(entry, raw, CATEGORY_KEYS):
        return None
    code = check.code(entry, raw.get("code"), CATEGORY_CODE_RE, 2)
    item = {
        "code": code,
        "name_zh": check.text(entry, raw, "name_zh", max_length=NAME_ZH_MAX),
        "name_en": check.text(entry, raw, "name_en", max_length=NAME_EN_MAX),
    }
    return item if len(check.problems) == before else None


def _task_type(
    check: _Checker,
    entry: str,
    raw: Any,
    categories: frozenset[str],
    seen_rules: dict[str, str],
) -> dict[str, Any] | None:
    before = len(check.problems)
    if not check.mapping(entry, raw, (*TASK_TYPE_KEYS, *LEGACY_TASK_TYPE_KEYS)):
        return None
    raw = _legacy_keys_renamed(check, entry, raw)
    code = check.code(entry, raw.get("code"), TASK_TYPE_CODE_RE, 4)
    category = raw.get("category")
    if not isinstance(category, str) or category not in categories:
        check.add(
            entry,
            "category",
            _("category %(code)r is neither in this file nor in the database") % {"code": category},
        )
    elif code is not None and not code.startswith(category):
        check.add(
            entry,
            "code",
            _("code %(code)s must begin with its category's code %(category)s")
            % {"code": code, "category": category},
        )

    role = raw.get("handler_role")
    department = raw.get("handler_department")
    if (role is None) == (department is None):
        check.add(
            entry,
            "handler_role",
            _("give exactly one of handler_role (a role) or handler_department (a code)"),
        )
    elif role is not None:
        check.choice(entry, role, "handler_role", Role)
    elif not isinstance(department, str) or not DEPARTMENT_CODE_RE.match(department):
        check.add(
            entry,
            "handler_department",
            _("%(value)r is not a department code (lower-case letters, digits, _ or -)")
            % {"value": department},
        )

    item: dict[str, Any] = {
        "code": code,
        "category": category,
        "name_zh": check.text(entry, raw, "name_zh", max_length=NAME_ZH_MAX),
        "name_en": check.text(entry, raw, "name_en", max_length=NAME_EN_MAX),
        "handler_role": role,
        "handler_department": department,
        "public": check.flag(entry, raw, "public", False),
        "negative_list": check.flag(entry, raw, "negative_list", False),
        "filing_standard_zh": check.text(entry, raw, "filing_standard_zh"),
        "filing_standard_en": check.optional_text(entry, raw, "filing_standard_en"),
        "closing_standard_zh": check.text(entry, raw, "closing_standard_zh"),
        "closing_standard_en": check.optional_text(entry, raw, "closing_standard_en"),
        "basis": check.text(entry, raw, "basis"),
        "rules": [],
    }
    rules = raw.get("rules") or []
    if not isinstance(rules, list):
        check.add(entry, "rules", _("must be a list"))
        rules = []
    for index, raw_rule in enumerate(rules):
        rule_entry = f"{entry}, {_entry('rules', index, raw_rule)}"
        rule = _rule(check, rule_entry, raw_rule, code)
        if rule is None:
            continue
        if rule["code"] in seen_rules:
            check.add(
                rule_entry,
                "code",
                _("duplicate code %(code)s (also %(other)s)")
                % {"code": rule["code"], "other": seen_rules[rule["code"]]},
            )
            continue
        seen_rules[rule["code"]] = rule_entry
        item["rules"].append(rule)
    item["rules"].sort(key=lambda r: r["code"])
    return item if len(check.problems) == before else None


def _legacy_keys_renamed(check: _Checker, entry: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Return ``raw`` with the pre-English keys (``filing_standard``…) renamed to ``…_zh``;
    giving both spellings of one key is a problem."""
    renamed = dict(raw)
    for old, new in LEGACY_TASK_TYPE_KEYS.items():
        if old not in renamed:
            continue
        if new in renamed:
            check.add(entry, old, _("give %(new)s or %(old)s, not both") % {"new": new, "old": old})
        renamed[new] = renamed.pop(old)
    return renamed


def _rule(check: _Checker, entry: str, raw: Any, type_code: str | None) -> dict[str, Any] | None:
    before = len(check.problems)
    if not check.mapping(entry, raw, RULE_KEYS):
        return None
    code = check.code(entry, raw.get("code"), RULE_CODE_RE, 6)
    if code is not None and type_code is not None and not code.startswith(type_code):
        check.add(
            entry,
            "code",
            _("code %(code)s must begin with its task type's code %(type)s")
            % {"code": code, "type": type_code},
        )

    recurrence = raw.get("recurrence")
    if recurrence in (None, ""):
        recurrence = None
    elif not isinstance(recurrence, str) or len(recurrence) > RECURRENCE_MAX:
        check.add(entry, "recurrence", _("must be an RRULE string or empty"))
    else:
        recurrence = recurrence.strip()
        for problem in recurrence_problems(recurrence):
            check.add(entry, "recurrence", f"{recurrence!r}: {problem}")

    target = _target(check, entry, raw.get("target"))
    if target is not None and recurrence and target["kind"] == TargetKind.NONE:
        check.add(
            entry,
            "target",
            _("a recurring rule needs a target (grid, household or place) to create tasks for"),
        )

    time_limit: dict[str, Any] = {"value": None, "unit": None}
    raw_limit = raw.get("time_limit")
    if check.mapping(entry, raw_limit, ("value", "unit"), key="time_limit"):
        time_limit = {
            "value": check.integer(
                entry, raw_limit.get("value"), "time_limit.value", minimum=1, maximum=MAX_TIME_LIMIT
            ),
            "unit": check.choice(entry, raw_limit.get("unit"), "time_limit.unit", TimeLimitUnit),
        }

    priority = check.choice(entry, raw.get("priority", Priority.NORMAL), "priority", Priority)
    evidence = _evidence(check, entry, raw.get("evidence") or {})
    item = {
        "code": code,
        "name_zh": check.text(entry, raw, "name_zh", max_length=NAME_ZH_MAX),
        "name_en": check.text(entry, raw, "name_en", max_length=NAME_EN_MAX),
        "target": target,
        "recurrence": recurrence,
        "time_limit": time_limit,
        "priority": priority,
        "evidence": evidence,
        "active": check.flag(entry, raw, "active", True),
    }
    return item if len(check.problems) == before else None


def _target(check: _Checker, entry: str, raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return {"kind": TargetKind.NONE.value}
    if not check.mapping(entry, raw, ("kind", "tag", "place_kind"), key="target"):
        return None
    kind = check.choice(entry, raw.get("kind"), "target.kind", TargetKind)
    tag, place_kind = raw.get("tag"), raw.get("place_kind")
    if kind == TargetKind.HOUSEHOLD:
        if place_kind is not None:
            check.add(entry, "target.place_kind", _("only for target kind 'place'"))
        if check.choice(entry, tag, "target.tag", ResidentTag) is None:
            return None
        return {"kind": kind, "tag": tag}
    if kind == TargetKind.PLACE:
        if tag is not None:
            check.add(entry, "target.tag", _("only for target kind 'household'"))
        if check.choice(entry, place_kind, "target.place_kind", PlaceKind) is None:
            return None
        return {"kind": kind, "place_kind": place_kind}
    if kind is None:
        return None
    for key, value in (("tag", tag), ("place_kind", place_kind)):
        if value is not None:
            check.add(
                entry, f"target.{key}", _("not allowed for target kind %(kind)r") % {"kind": kind}
            )
    return {"kind": kind}


def _evidence(check: _Checker, entry: str, raw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"min_photos": 0, "checkin_radius_m": None, "form_fields": []}
    if not check.mapping(
        entry, raw, ("min_photos", "checkin_radius_m", "form_fields"), key="evidence"
    ):
        return out
    out["min_photos"] = check.integer(
        entry, raw.get("min_photos", 0), "evidence.min_photos", minimum=0, maximum=MAX_PHOTOS
    )
    if raw.get("checkin_radius_m") is not None:
        out["checkin_radius_m"] = check.integer(
            entry,
            raw["checkin_radius_m"],
            "evidence.checkin_radius_m",
            minimum=0,
            maximum=MAX_CHECKIN_RADIUS_M,
        )
    for problem in form_fields_problems(raw.get("form_fields") or []):
        check.add(entry, "evidence.form_fields", problem)
    out["form_fields"] = form_fields_normalise(raw.get("form_fields") or [])
    return out


def form_fields_problems(value: Any) -> list[str]:
    """Return what is wrong with a rule's form fields (empty list = valid).

    Input: a list of ``{name, label_zh, label_en, type, required, choices}``; ``type`` is a
    ``FormFieldType`` value; ``choices`` (a list of ``{value, label_zh, label_en}``) is
    required for, and only allowed on, ``choice`` fields; names are unique snake_case.
    """
    if not isinstance(value, list):
        return [_("must be a list")]
    check = _Checker()
    names: set[str] = set()
    for index, raw in enumerate(value):
        entry = f"[{index}]"
        if not check.mapping(entry, raw, FORM_FIELD_KEYS):
            continue
        name = raw.get("name")
        if not isinstance(name, str) or not FORM_FIELD_NAME_RE.match(name):
            check.add(entry, "name", _("%(value)r is not a snake_case name") % {"value": name})
        elif name in names:
            check.add(entry, "name", _("duplicate name %(name)s") % {"name": name})
        else:
            names.add(name)
        check.text(entry, raw, "label_zh", max_length=NAME_ZH_MAX)
        check.text(entry, raw, "label_en", max_length=NAME_EN_MAX)
        kind = check.choice(entry, raw.get("type"), "type", FormFieldType)
        check.flag(entry, raw, "required", False)
        choices = raw.get("choices")
        if kind == FormFieldType.CHOICE:
            if not isinstance(choices, list) or not choices:
                check.add(entry, "choices", _("a choice field needs a non-empty list of choices"))
                continue
            values: set[str] = set()
            for c_index, option in enumerate(choices):
                c_entry = f"{entry}.choices[{c_index}]"
                if not check.mapping(c_entry, option, CHOICE_KEYS):
                    continue
                option_value = option.get("value")
                if not isinstance(option_value, str) or not option_value:
                    check.add(c_entry, "value", _("must be a non-empty quoted string"))
                elif option_value in values:
                    check.add(c_entry, "value", _("duplicate value %(v)s") % {"v": option_value})
                else:
                    values.add(option_value)
                check.text(c_entry, option, "label_zh", max_length=NAME_ZH_MAX)
                check.text(c_entry, option, "label_en", max_length=NAME_EN_MAX)
        elif choices is not None:
            check.add(entry, "choices", _("only allowed on fields of type 'choice'"))
    return check.problems


def form_fields_normalise(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return form fields in canonical key order, ``required`` filled, labels stripped."""
    out = []
    for raw in value:
        if not isinstance(raw, dict):
            continue
        item: dict[str, Any] = {
            "name": raw.get("name"),
            "label_zh": str(raw.get("label_zh", "")).strip(),
            "label_en": str(raw.get("label_en", "")).strip(),
            "type": raw.get("type"),
            "required": raw.get("required", False),
        }
        if raw.get("type") == FormFieldType.CHOICE and isinstance(raw.get("choices"), list):
            item["choices"] = [
                {
                    "value": c.get("value"),
                    "label_zh": str(c.get("label_zh", "")).strip(),
                    "label_en": str(c.get("label_en", "")).strip(),
                }
                for c in raw["choices"]
                if isinstance(c, dict)
            ]
        out.append(item)
    return out


# --- YAML -------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (plain YAML keeps the
    last silently, which would drop an official's first value without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def catalog_parse_yaml(text: str) -> Any:
    """Parse a catalogue file's text (YAML, safe subset, no key twice in a mapping).

    Raises ``ValueError`` naming the line and column of malformed YAML or a duplicate key.
    """
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (
            _("line %(line)d, column %(column)d")
            % {"line": mark.line + 1, "column": mark.column + 1}
            if mark is not None
            else _("unknown position")
        )
        reason = getattr(exc, "problem", None) or str(exc)
        raise ValueError(
            _("malformed YAML at %(where)s: %(reason)s") % {"where": where, "reason": reason}
        ) from exc


class _Dumper(yaml.SafeDumper):
    """Block style, no aliases, lists indented under their key."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def catalog_dump_yaml(data: dict[str, Any]) -> str:
    """Return the canonical YAML text of a normalised catalogue (UTF-8, Chinese unescaped)."""
    header = (
        "# gridgov task catalogue: categories → task types → task rules.\n"
        "# Schema: docs/catalog.md. Import with `gridgov catalog import FILE`.\n"
    )
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )
    return header + body
