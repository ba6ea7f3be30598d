"""``POST /api/v1/iot/ingest``: HTTP ingestion for devices without MQTT (docs/iot.md).

The device authenticates with its own token (``X-Device-Token`` header, or ``token`` /
SenML ``tok`` in the body), not a user's: the route has no user authentication. The body
is one message, gridgov JSON (with ``serial``) or a SenML pack; it goes through the same
``readings_ingest`` as MQTT messages.

Answers: 202 accepted; 200 ``duplicate`` (a retried POST of an applied message: nothing
to do, do not retry again); 401 unknown device, bad token or retired device (one code,
``device_not_authenticated``, so serials cannot be probed); 422 malformed, far future
or out of order (``details.reason``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from gridgov.api.errors import error_response
from gridgov.api.schemas import ErrorOut
from gridgov.iot.choices import RejectReason
from gridgov.iot.services import reading_ingest

router = Router(tags=["iot"])

AUTH_REASONS = frozenset(
    {RejectReason.UNKNOWN_DEVICE, RejectReason.BAD_TOKEN, RejectReason.INACTIVE}
)

BODY_SCHEMA: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "description": "A gridgov message object or a SenML (RFC 8428) pack.",
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["serial", "id", "ts"],
                        "properties": {
                            "serial": {"type": "string", "maxLength": 64},
                            "id": {"type": "string", "maxLength": 64},
                            "ts": {"type": "string", "format": "date-time"},
                            "values": {
                                "type": "object",
                                "additionalProperties": {"type": "number"},
                            },
                            "event": {"type": "string"},
                            "firmware": {"type": "string"},
                        },
                    },
                    {"type": "array", "items": {"type": "object"}},
                ],
            }
        }
    },
}


class IngestOut(Schema):
    accepted: bool
    reason: str = Field(description="Empty when accepted; else why not (e.g. duplicate).")
    message_id: str
    alarms: list[int] = Field(description="Ids of the alarms this message raised.")


@router.post(
    "/iot/ingest",
    auth=None,
    response={200: IngestOut, 202: IngestOut, 401: ErrorOut, 422: ErrorOut},
    openapi_extra={
        "requestBody": BODY_SCHEMA,
        "parameters": [
            {
                "in": "header",
                "name": "X-Device-Token",
                "required": False,
                "schema": {"type": "string"},
            }
        ],
    },
    summary="Ingest one device message",
)
def ingest(request: HttpRequest) -> HttpResponse:
    token = request.headers.get("X-Device-Token")
    result = reading_ingest(payload=request.body, token=token, channel="http")
    body = {
        "accepted": result.accepted,
        "reason": result.reason,
        "message_id": result.message_id,
        "alarms": result.alarms,
    }
    if result.accepted:
        return JsonResponse(body, status=202)
    if result.reason == RejectReason.DUPLICATE:
        return JsonResponse(body, status=200)
    if result.reason in AUTH_REASONS:
        return error_response(
            401, "device_not_authenticated", _("Unknown device or wrong device token.")
        )
    return error_response(
        422,
        "validation_failed",
        _("The message was refused: %(reason)s.") % {"reason": RejectReason(result.reason).label},
        {"reason": result.reason, "detail": result.detail},
    )
