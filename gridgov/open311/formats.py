"""GeoReport v2 in both formats: render answers as JSON or XML, read a POST body sent as
a form, JSON or XML.

XML is written with ``xml.etree.ElementTree`` and read with ``defusedxml`` (a client's XML
is untrusted: no entities, no external references). Lists are wrapped as the
specification shows: ``<services><service>…</service></services>``,
``<service_requests><request>…``, ``<errors><error>…``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from defusedxml import ElementTree as SafeET
from django.http import HttpResponse
from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed
from gridgov.core.validators import (
    character_name,
    control_character_message,
    data_forbidden_character,
    text_without_forbidden,
)

#: A list-valued key (or root) → the tag of each item.
ITEM_TAGS = {
    "services": "service",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "service_request_updates": "request_update",
}
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
#: Largest POST body read (bytes): a 4,000-character description and attributes fit
#: many times over; photos come as multipart files, checked on their own.
BODY_MAX = 256 * 1024


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any, tag: str) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child, key)
    elif isinstance(value, list | tuple):
        item_tag = ITEM_TAGS.get(tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item_tag), child, item_tag)
    else:
        # ElementTree writes any character as it is; XML 1.0 forbids the control
        # characters (a value stored before the input checks would break the document).
        element.text = text_without_forbidden(_text(value))


def xml_bytes(root: str, value: Any) -> bytes:
    """``value`` (dicts, lists, scalars) as an XML document under ``<root>``; a list's
    items take the tag ``ITEM_TAGS[root or key]``; ``None`` is an empty element,
    booleans ``true``/``false``. Characters XML 1.0 forbids
    (``gridgov.core.validators.FORBIDDEN_CHARACTERS_RE``) are left out of the text, so the
    document is always well-formed."""
    element = ET.Element(root)
    _fill(element, value, root)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, root: str, value: Any, *, status: int = 200) -> HttpResponse:
    """An answer in ``fmt`` (``json`` or ``xml``): JSON is ``value`` itself, XML is
    ``value`` under ``<root>``."""
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    else:
        body = xml_bytes(root, value)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(
    fmt: str, status: int, descriptions: list[str], headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """The GeoReport v2 error body: ``[{code, description}]`` (``<errors><error>``), one
    entry per problem, ``code`` the HTTP status."""
    response = respond(
        fmt, "errors", [{"code": status, "description": d} for d in descriptions], status=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# --- reading a POST --------------------------------------------------------------------------


class PostData:
    """A POST's fields, whatever its encoding: ``fields`` (name → last value),
    ``attributes`` (code → values) and ``files`` (``media`` uploads)."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.attributes: dict[str, list[str]] = {}
        self.files: list[Any] = []

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)

    def add(self, name: str, value: Any) -> None:
        """Add one field; ``attribute[code]`` and ``attribute[code][]`` go to attributes."""
        if name.startswith("attribute[") and name.endswith("]"):
            code = name[len("attribute[") :].removesuffix("[]").rstrip("]")
            self.attributes.setdefault(code, []).append(_text(value))
        else:
            self.fields[name] = _text(value)


def _malformed(kind: str, reason: object) -> ValidationFailed:
    return ValidationFailed(
        _("The body is not well-formed %(kind)s: %(reason)s") % {"kind": kind, "reason": reason}
    )


def post_read(request: Any) -> PostData:
    """Read a POST: form-encoded or multipart (the specification's way; photos as
    ``media`` files), JSON (an object of the same names; ``attribute`` may be an object
    of code → value or list) or XML (a root element whose children are the names;
    ``<attribute><code>value</code></attribute>``, a code repeated for a
    multivaluelist). Query-string parameters (e.g. ``api_key``) count too. Raises
    ``ValidationFailed`` for a malformed or oversized body, and (code
    ``control_character``) for a name or value holding a character of
    ``gridgov.core.validators.FORBIDDEN_CHARACTERS_RE`` — whatever the encoding, so a
    JSON ``\u0000`` is refused as a form's ``%00`` is by the middleware."""
    data = PostData()
    for name, values in request.GET.lists():
        for value in values:
            data.add(name, value)
    content_type = (request.content_type or "").lower()
    if content_type in ("application/json", "text/json"):
        _read_json(request.body, data)
    elif content_type in ("application/xml", "text/xml"):
        _read_xml(request.body, data)
    else:
        for name, values in request.POST.lists():
            for value in values:
                data.add(name, value)
        data.files = request.FILES.getlist("media")
    found = data_forbidden_character(data.fields) or data_forbidden_character(data.attributes)
    if found:
        where, character = found
        raise ValidationFailed(
            f"{where}: {control_character_message(character)}",
            code="control_character",
            details={"field": where, "character": character_name(character)},
        )
    return data


def _read_json(body: bytes, data: PostData) -> None:
    if len(body) > BODY_MAX:
        raise ValidationFailed(_("The body is too large."))
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _malformed("JSON", exc) from exc
    if not isinstance(parsed, dict):
        raise _malformed("JSON", _("expected an object"))
    for name, value in parsed.items():
        if name == "attribute" and isinstance(value, dict):
            for code, answer in value.items():
                for item in answer if isinstance(answer, list) else [answer]:
                    data.add(f"attribute[{code}]", item)
        elif isinstance(value, dict | list):
            raise _malformed("JSON", _("%(name)s must be a plain value") % {"name": name})
        else:
            data.add(str(name), value)


def _read_xml(body: bytes, data: PostData) -> None:
    if len(body) > BODY_MAX:
        raise ValidationFailed(_("The body is too large."))
    try:
        root = SafeET.fromstring(body)
    except Exception as exc:  # ParseError and defusedxml's refusals (entities, DTDs)
        raise _malformed("XML", exc) from exc
    for child in root:
        if child.tag == "attribute":
            for answer in child:
                data.add(f"attribute[{answer.tag}]", (answer.text or "").strip())
        elif len(child):
            raise _malformed("XML", _("%(name)s must be a plain value") % {"name": child.tag})
        else:
            data.add(child.tag, (child.text or "").strip())
