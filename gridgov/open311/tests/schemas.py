"""JSON Schemas of GeoReport v2's JSON answers, written from the specification
(wiki.open311.org/GeoReport_v2) and FixMyStreet's servicerequestupdates, and the matching
XML checks. Validated with ``jsonschema_rs`` (Draft 2020-12)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from defusedxml import ElementTree as SafeET

#: ISO 8601 / W3C date and time with an offset (Z or ±hh:mm), as the spec requires.
DATETIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
}
NULLABLE_DATETIME = {"anyOf": [DATETIME, {"type": "null"}]}
TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": ["string", "null"]}

DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": DATETIME,
        "contact": TEXT,
        "key_service": TEXT,
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": {"const": "http://wiki.open311.org/GeoReport_v2"},
                    "url": {"type": "string", "pattern": "^https?://"},
                    "changeset": DATETIME,
                    "type": {"enum": ["production", "test"]},
                    "formats": {
                        "type": "array",
                        "items": {"enum": ["text/xml", "application/json"]},
                        "contains": {"const": "text/xml"},
                    },
                },
            },
        },
    },
}

SERVICES = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": {"type": "string", "minLength": 1},
            "service_name": {"type": "string", "minLength": 1},
            "description": TEXT,
            "metadata": {"type": "boolean"},
            "type": {"enum": ["realtime", "batch", "blackbox"]},
            "keywords": TEXT,
            "group": TEXT,
        },
    },
}

ATTRIBUTE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["variable", "code", "datatype", "required", "order", "description"],
    "properties": {
        "variable": {"type": "boolean"},
        "code": {"type": "string", "minLength": 1},
        "datatype": {
            "enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
        },
        "required": {"type": "boolean"},
        "datatype_description": TEXT,
        "order": {"type": "integer", "minimum": 1},
        "description": TEXT,
        "values": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "name"],
                "properties": {"key": TEXT, "name": TEXT},
            },
        },
    },
    "if": {"properties": {"datatype": {"enum": ["singlevaluelist", "multivaluelist"]}}},
    "then": {"required": ["values"]},
    "else": {"not": {"required": ["values"]}},
}

SERVICE_DEFINITION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["service_code", "attributes"],
    "properties": {"service_code": TEXT, "attributes": {"type": "array", "items": ATTRIBUTE}},
}

POST_RESPONSE = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "anyOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
        "properties": {
            "service_request_id": TEXT,
            "token": TEXT,
            "service_notice": NULLABLE_TEXT,
            "account_id": NULLABLE_TEXT,
        },
    },
}

TOKEN_RESPONSE = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["service_request_id", "token"],
        "properties": {"service_request_id": TEXT, "token": TEXT},
    },
}

BASIC_STATUS = {"enum": ["open", "closed"]}
EXTENDED_STATUS = {
    "enum": [
        "open",
        "closed",
        "investigating",
        "in_progress",
        "action_scheduled",
        "fixed",
        "duplicate",
        "not_councils_responsibility",
        "no_further_action",
        "unable_to_fix",
        "internal_referral",
    ]
}


def requests_schema(*, extensions: bool = False) -> dict[str, Any]:
    """GET requests / GET service request: a list of requests."""
    properties: dict[str, Any] = {
        "service_request_id": {"type": "string", "minLength": 1},
        "status": EXTENDED_STATUS if extensions else BASIC_STATUS,
        "status_notes": NULLABLE_TEXT,
        "service_name": TEXT,
        "service_code": TEXT,
        "description": NULLABLE_TEXT,
        "agency_responsible": NULLABLE_TEXT,
        "service_notice": NULLABLE_TEXT,
        "requested_datetime": DATETIME,
        "updated_datetime": DATETIME,
        "expected_datetime": NULLABLE_DATETIME,
        "address": NULLABLE_TEXT,
        "address_id": NULLABLE_TEXT,
        "zipcode": NULLABLE_TEXT,
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "media_url": NULLABLE_TEXT,
    }
    if extensions:
        properties["extended_attributes"] = {"type": "object"}
    return {
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["service_request_id", "status", "service_code", "requested_datetime"],
            "properties": properties,
        },
    }


UPDATES = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["update_id", "service_request_id", "status", "updated_datetime"],
        "properties": {
            "update_id": TEXT,
            "service_request_id": TEXT,
            "status": EXTENDED_STATUS,
            "updated_datetime": DATETIME,
            "description": TEXT,
            "media_url": TEXT,
        },
    },
}

UPDATE_POST_RESPONSE = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["update_id"],
        "properties": {"update_id": TEXT},
    },
}

ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}


def validate(schema: dict[str, Any], data: Any) -> None:
    """Raise ``jsonschema_rs.ValidationError`` unless ``data`` fits ``schema``."""
    jsonschema_rs.Draft202012Validator(schema).validate(data)


def xml_list(
    body: bytes, root: str, item: str, required: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Check an XML list answer: the root and item tags of the spec, each item with the
    ``required`` child elements and no nested surprises; return the items as dicts of
    child tag → text (nested elements as lists of dicts)."""
    tree = SafeET.fromstring(body)
    assert tree.tag == root, tree.tag
    items = []
    for element in tree:
        assert element.tag == item, element.tag
        record: dict[str, Any] = {}
        for child in element:
            record[child.tag] = (
                [{g.tag: g.text for g in sub} if len(sub) else sub.text for sub in child]
                if len(child)
                else (child.text or "")
            )
        missing = [r for r in required if r not in record]
        assert not missing, missing
        items.append(record)
    return items
