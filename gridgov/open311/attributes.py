"""Open311 service attributes: a public task type's ``report_fields``, checked, rendered as
a GeoReport v2 service definition, and the answers a client posts, checked.

Pure functions: nothing here touches the database. Source: the GeoReport v2 specification
(wiki.open311.org/GeoReport_v2), "GET Service Definition": each attribute has ``variable``,
``code``, ``datatype`` (one of the six below), ``required``, ``datatype_description``,
``order``, ``description`` and, for the list types, ``values`` of ``{key, name}``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gridgov.core.validators import year_in_range

#: The six datatypes of GeoReport v2.
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_DATATYPES = frozenset({"singlevaluelist", "multivaluelist"})
FIELD_KEYS = ("code", "datatype", "required", "description_zh", "description_en", "values")
VALUE_KEYS = ("key", "name_zh", "name_en")
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
#: Attributes FixMyStreet adds to every report it posts (its Open311 client), whatever the
#: service definition says: accepted and kept as text, so that FixMyStreet works unchanged.
FIXMYSTREET_ATTRIBUTES = frozenset(
    {
        "fixmystreet_id",
        "title",
        "description",
        "report_url",
        "easting",
        "northing",
        "closest_address",
        "category",
        "asset_resource_id",
        "usrn",
        "uprn",
    }
)
#: Longest answer of a ``string`` attribute; ``text`` answers share the description's 4,000.
STRING_MAX = 200
TEXT_MAX = 4000


def report_fields_problems(value: Any) -> list[str]:
    """Return what is wrong with a task type's ``report_fields`` (empty list = valid).

    Input: a list of ``{code, datatype, required, description_zh, description_en,
    values}``; ``code`` is 1–40 letters, digits, ``_`` or ``-`` and unique; ``datatype``
    one of ``DATATYPES``; ``values`` (a non-empty list of ``{key, name_zh, name_en}``
    with unique non-empty keys) is required for, and only allowed on, the list types.
    """
    if not isinstance(value, list):
        return [_("must be a list")]
    problems: list[str] = []
    codes: set[str] = set()
    for index, item in enumerate(value):
        where = f"[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: " + _("must be a mapping"))
            continue
        problems += [
            f"{where}.{key}: "
            + _("unknown key; expected one of %(keys)s") % {"keys": ", ".join(FIELD_KEYS)}
            for key in sorted(set(item) - set(FIELD_KEYS), key=str)
        ]
        code = item.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            problems.append(f"{where}.code: " + _("%(value)r is not a code") % {"value": code})
        elif code in codes:
            problems.append(f"{where}.code: " + _("duplicate code %(code)s") % {"code": code})
        else:
            codes.add(code)
        datatype = item.get("datatype")
        if datatype not in DATATYPES:
            problems.append(
                f"{where}.datatype: "
                + _("%(value)r is not one of %(allowed)s")
                % {"value": datatype, "allowed": ", ".join(DATATYPES)}
            )
        if not isinstance(item.get("required", False), bool):
            problems.append(f"{where}.required: " + _("must be true or false"))
        for key in ("description_zh", "description_en"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                problems.append(f"{where}.{key}: " + _("required text is missing or empty"))
        problems += _values_problems(where, datatype, item.get("values"))
    return problems


def _values_problems(where: str, datatype: Any, values: Any) -> list[str]:
    if datatype not in LIST_DATATYPES:
        return [] if values is None else [f"{where}.values: " + _("only for the list types")]
    if not isinstance(values, list) or not values:
        return [f"{where}.values: " + _("a list type needs a non-empty list of values")]
    problems: list[str] = []
    keys: set[str] = set()
    for index, option in enumerate(values):
        at = f"{where}.values[{index}]"
        if not isinstance(option, dict) or set(option) - set(VALUE_KEYS):
            problems.append(f"{at}: " + _("must be a mapping of key, name_zh, name_en"))
            continue
        key = option.get("key")
        if not isinstance(key, str) or not key or key in keys:
            problems.append(f"{at}.key: " + _("must be a unique non-empty string"))
        else:
            keys.add(key)
        for name in ("name_zh", "name_en"):
            if not isinstance(option.get(name), str) or not option[name].strip():
                problems.append(f"{at}.{name}: " + _("required text is missing or empty"))
    return problems


def _localised(item: Mapping[str, Any], stem: str) -> str:
    english = (get_language() or "").startswith("en")
    return str(item.get(f"{stem}_en") if english else item.get(f"{stem}_zh") or "")


def datatype_description(datatype: str) -> str:
    """What a client must send for ``datatype``, in words (the active language)."""
    return {
        "string": _("Text of up to %(max)d characters.") % {"max": STRING_MAX},
        "number": _("A number, e.g. 3 or 2.5."),
        "datetime": _("Date and time in ISO 8601 with its offset, e.g. 2026-05-01T08:30:00+08:00."),
        "text": _("Text of up to %(max)d characters.") % {"max": TEXT_MAX},
        "singlevaluelist": _("One of the keys of values."),
        "multivaluelist": _("One or more of the keys of values (attribute[code][]=key)."),
    }.get(datatype, "")


def service_definition_attributes(fields: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Render ``report_fields`` as GeoReport v2 attributes (names in the active language).

    Output: ``[{variable, code, datatype, required, datatype_description, order,
    description, values?}]``; ``order`` counts from 1 in list order; ``values`` (list
    types only) is ``[{key, name}]``.
    """
    out: list[dict[str, Any]] = []
    for order, item in enumerate(fields, start=1):
        attribute: dict[str, Any] = {
            "variable": True,
            "code": item["code"],
            "datatype": item["datatype"],
            "required": bool(item.get("required", False)),
            "datatype_description": datatype_description(item["datatype"]),
            "order": order,
            "description": _localised(item, "description"),
        }
        if item["datatype"] in LIST_DATATYPES:
            attribute["values"] = [
                {"key": v["key"], "name": _localised(v, "name")} for v in item.get("values", [])
            ]
        out.append(attribute)
    return out


def attributes_check(
    fields: Sequence[Mapping[str, Any]], given: Mapping[str, Sequence[str]]
) -> tuple[dict[str, Any], list[str]]:
    """Check a client's answers against ``report_fields``; return ``(clean, problems)``.

    ``given``: attribute code → the values sent (``attribute[code]=v`` once, or several
    ``attribute[code][]=v`` for a multivaluelist). ``clean``: code → a ``str`` (string,
    text, singlevaluelist), a ``float`` (number), an ISO 8601 ``str`` with offset
    (datetime) or a ``list[str]`` (multivaluelist); unanswered optional attributes are
    left out. The attributes FixMyStreet always adds (``FIXMYSTREET_ATTRIBUTES``) are kept
    as text when the service does not define them. ``problems``: one message per required
    attribute missing, unknown code or value of the wrong kind.
    """
    by_code = {f["code"]: f for f in fields}
    clean: dict[str, Any] = {}
    problems = []
    for code, values in given.items():
        if code in by_code:
            continue
        if code in FIXMYSTREET_ATTRIBUTES:
            clean[code] = "; ".join(str(v) for v in values)[:TEXT_MAX]
        else:
            problems.append(_("Unknown attribute %(code)s.") % {"code": code})
    for code, spec in by_code.items():
        values = [str(v).strip() for v in given.get(code, ()) if str(v).strip()]
        if not values:
            if spec.get("required"):
                problems.append(_("The attribute %(code)s is required.") % {"code": code})
            continue
        value, problem = _coerce(spec, values)
        if problem:
            problems.append(f"attribute[{code}]: {problem}")
        else:
            clean[code] = value
    return clean, problems


def _coerce(spec: Mapping[str, Any], values: list[str]) -> tuple[Any, str | None]:
    datatype = spec["datatype"]
    keys = [v["key"] for v in spec.get("values", [])]
    if datatype == "multivaluelist":
        unknown = [v for v in values if v not in keys]
        if unknown or len(set(values)) != len(values):
            return None, _("use distinct keys among %(keys)s") % {"keys": ", ".join(keys)}
        return values, None
    if len(values) > 1:
        return None, _("give one value, not %(n)d") % {"n": len(values)}
    value = values[0]
    if datatype == "singlevaluelist":
        if value not in keys:
            return None, _("%(value)r is not one of %(keys)s") % {
                "value": value,
                "keys": ", ".join(keys),
            }
        return value, None
    if datatype == "number":
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            return None, _("%(value)r is not a number") % {"value": value}
        return number, None
    if datatype == "datetime":
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None or not year_in_range(moment):
            return None, _("%(value)r is not an ISO 8601 date and time with an offset") % {
                "value": value
            }
        return moment.isoformat(), None
    limit = STRING_MAX if datatype == "string" else TEXT_MAX
    if len(value) > limit:
        return None, _("longer than %(max)d characters") % {"max": limit}
    return value, None
