"""Reads of residents' reports: services (public task types), requests and their status,
the public timeline and the updates FixMyStreet follows. No personal data leaves here:
no phone, email, name or staff member, no timeline note.

Statuses: GeoReport v2 knows ``open`` and ``closed``; with ``extensions=true`` the
FixMyStreet extended statuses are given instead (FixMyStreet's Open311 "extended
statuses": investigating, in_progress, action_scheduled, fixed, duplicate,
not_councils_responsibility, no_further_action, …), mapped from the task's state by
``EXTENDED_STATUS``. A duplicate report shows its first task's status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gridgov.catalog.models import TaskRule, TaskType
from gridgov.core.choices import TimeLimitUnit
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.core.validators import year_check
from gridgov.open311.models import ApiKey, ServiceRequest
from gridgov.tasks.choices import OPEN_STATES, TaskAction, TaskState
from gridgov.tasks.models import Task, TaskEvent

S = TaskState
#: Task state → FixMyStreet extended status.
EXTENDED_STATUS: dict[str, str] = {
    S.REPORTED: "open",
    S.REGISTERED: "investigating",
    S.DISPATCHED: "action_scheduled",
    S.SENT_BACK: "investigating",
    S.ACCEPTED: "in_progress",
    S.RETURNED: "in_progress",
    S.HANDLED: "in_progress",
    S.CLOSED: "fixed",
    S.REJECTED: "not_councils_responsibility",
    S.CANCELLED: "no_further_action",
}
#: What a resident reads for each status (the resident page).
STATUS_LABELS = {
    "open": gettext_lazy("Received, waiting to be registered"),
    "closed": gettext_lazy("Closed"),
    "investigating": gettext_lazy("Being looked into"),
    "action_scheduled": gettext_lazy("Sent to the people who handle it"),
    "in_progress": gettext_lazy("Being handled"),
    "fixed": gettext_lazy("Fixed and checked"),
    "not_councils_responsibility": gettext_lazy("Not handled here"),
    "no_further_action": gettext_lazy("Closed without further action"),
    "duplicate": gettext_lazy("Already reported: linked to the first report"),
}
BASIC_STATUSES = ("open", "closed")
EXTENDED_STATUSES = (*sorted(set(EXTENDED_STATUS.values())), "duplicate")
#: Timeline actions a resident may see (no notes, no actors): the state changes.
PUBLIC_ACTIONS = frozenset(
    {
        TaskAction.CREATE,
        TaskAction.REGISTER,
        TaskAction.REJECT,
        TaskAction.DISPATCH,
        TaskAction.ACCEPT,
        TaskAction.SUBMIT_FEEDBACK,
        TaskAction.VERIFY_PASS,
        TaskAction.VERIFY_FAIL,
        TaskAction.TRANSFER,
        TaskAction.CANCEL,
        TaskAction.SUSPEND,
        TaskAction.RESUME,
        TaskAction.DUPLICATE,
    }
)


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the local offset (``2026-05-01T08:30:00+08:00``), or ``None``."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- api keys ---------------------------------------------------------------------------


def api_key_list() -> QuerySet[ApiKey]:
    """Every client's key by name, with ``request_count`` (the reports it posted)."""
    return ApiKey.objects.annotate(request_count=Count("requests")).order_by("name")


def api_key_get(*, name: str) -> ApiKey:
    """The key of client ``name``: its live key, else its latest revoked one. Raises
    ``NotFound``."""
    keys = ApiKey.objects.filter(name=name.strip())
    key = keys.order_by(F("revoked_at").asc(nulls_first=True), "-pk").first()
    if key is None:
        raise NotFound(_("No client is called %(name)s.") % {"name": name})
    return key


# --- services ---------------------------------------------------------------------------


def service_list() -> list[TaskType]:
    """The public task types (``TaskType.public``) by code, category loaded."""
    return list(TaskType.objects.filter(public=True).select_related("category").order_by("code"))


def service_get(*, code: str) -> TaskType:
    """The public task type with ``code``. Raises ``NotFound`` for any other code."""
    task_type = TaskType.objects.filter(public=True, code=code).select_related("category").first()
    if task_type is None:
        raise NotFound(
            _("Unknown service_code %(code)s.") % {"code": code[:20]}, details={"code": code}
        )
    return task_type


def _event_rule(task_type: TaskType) -> TaskRule | None:
    return (
        TaskRule.objects.filter(task_type=task_type, active=True, recurrence="")
        .order_by("code")
        .first()
    )


def service_notice(task_type: TaskType) -> str:
    """The time limit residents can expect, in words, from the type's event-driven rule
    (the rule ``task_create`` applies to a report), e.g. "Handled within 24 urgent hours
    of dispatch." Blank when the type has no such rule."""
    rule = _event_rule(task_type)
    if rule is None:
        return ""
    return _("Handled within %(value)d %(unit)s of dispatch.") % {
        "value": rule.time_limit_value,
        "unit": TimeLimitUnit(rule.time_limit_unit).label,
    }


def service_as_dict(task_type: TaskType) -> dict[str, Any]:
    """One entry of GET services: ``{service_code, service_name, description, metadata,
    type, keywords, group}`` (``type`` is ``realtime``: the id is returned at once)."""
    return {
        "service_code": task_type.code,
        "service_name": task_type.name,
        "description": task_type.filing_standard,
        "metadata": bool(task_type.report_fields),
        "type": "realtime",
        "keywords": "",
        "group": task_type.category.name,
    }


# --- requests ---------------------------------------------------------------------------


#: What a request's answer reads (loading only these keeps 1,000 requests cheap).
_TASK_FIELDS = ("number", "state", "updated_at", "deadline", "area__name", "department__name")
_REQUEST_FIELDS = (
    "token",
    "phone",
    "address_string",
    "address_id",
    "media_url",
    "account_id",
    *(f"task__{f}" for f in _TASK_FIELDS),
    "task__description",
    "task__lat",
    "task__lon",
    "task__reported_at",
    "task__created_at",
    "task__task_type__code",
    "task__task_type__name_zh",
    "task__task_type__name_en",
    *(f"task__duplicate_of__{f}" for f in _TASK_FIELDS),
)


def _requests() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_related(
        "task",
        "task__task_type",
        "task__area",
        "task__department",
        "task__duplicate_of",
        "task__duplicate_of__area",
        "task__duplicate_of__department",
    ).only(*_REQUEST_FIELDS)


def request_get(*, number: str) -> ServiceRequest:
    """The report with task number ``number``. Raises ``NotFound``."""
    found = _requests().filter(task__number=number).first()
    if found is None:
        raise NotFound(
            _("Unknown service_request_id %(id)s.") % {"id": number[:30]}, details={"id": number}
        )
    return found


def request_get_by_token(*, token: str) -> ServiceRequest:
    """The report a POST answered with ``token``. Raises ``NotFound``."""
    found = _requests().filter(token=token).first()
    if found is None:
        raise NotFound(_("Unknown token."), details={"token": token[:40]})
    return found


def request_follow(*, number: str, phone: str) -> ServiceRequest:
    """The report with ``number`` made from ``phone`` (the resident's "follow my report").
    Raises ``NotFound`` — the same error whether the number or the phone is wrong."""
    phone = re.sub(r"[ -]", "", phone or "")
    found = _requests().filter(task__number=number.strip(), phone=phone).first()
    if found is None or not phone:
        raise NotFound(_("No report with this number was made from this phone number."))
    return found


def _status_q(statuses: Iterable[str]) -> Q:
    """Requests whose status (basic or extended) is one of ``statuses``."""
    query = Q(pk__in=[])
    for status in statuses:
        if status == "duplicate":
            query |= Q(task__duplicate_of__isnull=False)
            continue
        if status in BASIC_STATUSES:
            states = OPEN_STATES if status == "open" else set(S.values) - OPEN_STATES
            query |= Q(task__duplicate_of__isnull=True, task__state__in=states)
            query |= Q(task__duplicate_of__state__in=states)
            continue
        states = {state for state, ext in EXTENDED_STATUS.items() if ext == status}
        query |= Q(task__duplicate_of__isnull=True, task__state__in=states)
    return query


@dataclass(frozen=True)
class RequestQuery:
    """The filters of GET requests, parsed (see ``request_query_parse``)."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: tuple[str, ...] = ()


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _moment(name: str, value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise ValidationFailed(
            _("%(name)s must be an ISO 8601 date and time with an offset, e.g. %(example)s.")
            % {"name": name, "example": "2026-05-01T00:00:00+08:00"},
            details={name: value[:40]},
        )
    year_check(moment, name=name)
    return moment


def request_query_parse(params: Any, *, extensions: bool = False) -> RequestQuery:
    """Parse GET requests' parameters (a mapping of strings): ``service_request_id`` and
    ``service_code`` (comma lists), ``start_date``/``end_date`` (ISO 8601 with offset;
    a space is read as ``+``, as an unencoded offset arrives), ``status`` (comma list of
    open/closed, or extended statuses with ``extensions``). Raises ``ValidationFailed``
    for a malformed date, a range over ``GRIDGOV_OPEN311_REQUESTS_WINDOW_DAYS`` days, a
    start after the end, an unknown status."""
    start = _moment("start_date", params.get("start_date"))
    end = _moment("end_date", params.get("end_date"))
    window = dt.timedelta(days=settings.GRIDGOV_OPEN311_REQUESTS_WINDOW_DAYS)
    if start and end:
        if start > end:
            raise ValidationFailed(_("start_date is after end_date."))
        if end - start > window:
            raise ValidationFailed(
                _("A date range may span at most %(days)d days.")
                % {"days": settings.GRIDGOV_OPEN311_REQUESTS_WINDOW_DAYS}
            )
    statuses = _split(params.get("status"))
    allowed = BASIC_STATUSES + (EXTENDED_STATUSES if extensions else ())
    if unknown := [s for s in statuses if s not in allowed]:
        raise ValidationFailed(
            _("Unknown status %(status)s; use %(allowed)s.")
            % {"status": unknown[0][:20], "allowed": ", ".join(dict.fromkeys(allowed))}
        )
    return RequestQuery(
        ids=_split(params.get("service_request_id")),
        service_codes=_split(params.get("service_code")),
        start=start,
        end=end,
        statuses=statuses,
    )


def request_list(*, query: RequestQuery, now: dt.datetime | None = None) -> list[ServiceRequest]:
    """GET requests: the reports matching ``query``, newest first, at most
    ``GRIDGOV_OPEN311_REQUESTS_LIMIT``. Ids override every other filter (GeoReport v2);
    otherwise the date range defaults to the last ``GRIDGOV_OPEN311_REQUESTS_WINDOW_DAYS``
    days (from one given end to the other, or up to ``now``)."""
    qs = _requests().order_by("-task__created_at", "-id")
    limit = settings.GRIDGOV_OPEN311_REQUESTS_LIMIT
    if query.ids:
        return list(qs.filter(task__number__in=query.ids)[:limit])
    now = now or timezone.now()
    window = dt.timedelta(days=settings.GRIDGOV_OPEN311_REQUESTS_WINDOW_DAYS)
    start, end = query.start, query.end
    if start is None and end is None:
        start, end = now - window, now
    elif start is None and end is not None:
        start = end - window
    elif start is not None and end is None:
        end = start + window
    qs = qs.filter(task__created_at__gte=start, task__created_at__lte=end)
    if query.service_codes:
        qs = qs.filter(task__task_type__code__in=query.service_codes)
    if query.statuses:
        qs = qs.filter(_status_q(query.statuses))
    return list(qs[:limit])


def _shown(task: Task) -> Task:
    """The task whose progress a report shows: the first task for a duplicate."""
    return task.duplicate_of if task.duplicate_of_id else task  # type: ignore[return-value]


def request_status(task: Task, *, extensions: bool = False) -> str:
    """The report's status: ``open``/``closed`` (GeoReport v2), or with ``extensions`` the
    FixMyStreet extended status (``duplicate`` for a duplicate report)."""
    if extensions:
        return "duplicate" if task.duplicate_of_id else EXTENDED_STATUS[task.state]
    return "open" if _shown(task).state in OPEN_STATES else "closed"


def agency_responsible(task: Task) -> str:
    """Who handles it: the department, else the grid (area) the task is routed to."""
    shown = _shown(task)
    return shown.department.name if shown.department_id else shown.area.name  # type: ignore[union-attr]


def requests_as_dicts(
    requests: Sequence[ServiceRequest], *, extensions: bool = False
) -> list[dict[str, Any]]:
    """``request_as_dict`` of each, the service notice read once per task type."""
    notices: dict[int, str] = {}
    out = []
    for request in requests:
        type_id = request.task.task_type_id
        if type_id not in notices:
            notices[type_id] = service_notice(request.task.task_type)
        out.append(request_as_dict(request, extensions=extensions, notice=notices[type_id]))
    return out


def request_as_dict(
    request: ServiceRequest, *, extensions: bool = False, notice: str | None = None
) -> dict[str, Any]:
    """One entry of GET requests (GeoReport v2 fields, datetimes ISO 8601 with offset;
    ``expected_datetime`` is the deadline). With ``extensions``: the extended status and
    ``extended_attributes`` (the task's state and, for a duplicate, ``duplicate_of``).
    ``notice``: the type's service notice if already known (else read)."""
    task = request.task
    shown = _shown(task)
    data: dict[str, Any] = {
        "service_request_id": task.number,
        "status": request_status(task, extensions=extensions),
        "status_notes": str(TaskState(shown.state).label),
        "service_name": task.task_type.name,
        "service_code": task.task_type.code,
        "description": task.description,
        "agency_responsible": agency_responsible(task),
        "service_notice": service_notice(task.task_type) if notice is None else notice,
        "requested_datetime": iso(task.reported_at or task.created_at),
        "updated_datetime": iso(max(task.updated_at, shown.updated_at)),
        "expected_datetime": iso(shown.deadline),
        "address": request.address_string,
        "address_id": request.address_id,
        "zipcode": "",
        "lat": task.lat,
        "long": task.lon,
        "media_url": request.media_url,
    }
    if extensions:
        data["extended_attributes"] = {
            "state": shown.state,
            "duplicate_of": task.duplicate_of.number if task.duplicate_of_id else "",  # type: ignore[union-attr]
        }
    return data


# --- the public timeline and the updates ---------------------------------------------------


def _public_events(tasks: Sequence[int]) -> QuerySet[TaskEvent]:
    return (
        TaskEvent.objects.filter(task_id__in=tasks, action__in=PUBLIC_ACTIONS)
        .select_related("task")
        .order_by("at", "id")
    )


def request_timeline(request: ServiceRequest) -> list[dict[str, Any]]:
    """The public part of a report's timeline: ``[{at (datetime), action (label), state
    (label)}]`` of the report and, for a duplicate, of its first task — no notes, no
    actors, no locations."""
    ids = [request.task_id]
    if request.task.duplicate_of_id:
        ids.append(request.task.duplicate_of_id)
    return [
        {
            "at": event.at,
            "action": event.get_action_display(),
            "state": TaskState(event.to_state).label if event.to_state else "",
        }
        for event in _public_events(ids)
    ]


def update_list(
    *, start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """FixMyStreet's GET servicerequestupdates: one update per public state change of a
    report's task between ``start`` and ``end`` (default: the last 24 hours up to now),
    oldest first, at most ``GRIDGOV_OPEN311_REQUESTS_LIMIT``. Each: ``{update_id,
    service_request_id, status (extended, lower case), updated_datetime, description
    (the action's label), media_url}``."""
    now = now or timezone.now()
    end = end or now
    start = start or end - dt.timedelta(days=1)
    events = (
        TaskEvent.objects.filter(
            task__service_request__isnull=False,
            action__in=PUBLIC_ACTIONS - {TaskAction.CREATE, TaskAction.DUPLICATE},
            at__gte=start,
            at__lte=end,
        )
        .select_related("task")
        .order_by("at", "id")[: settings.GRIDGOV_OPEN311_REQUESTS_LIMIT]
    )
    return [
        {
            "update_id": str(event.pk),
            "service_request_id": event.task.number,
            "status": EXTENDED_STATUS.get(event.to_state or event.task.state, "open"),
            "updated_datetime": iso(event.at),
            "description": event.get_action_display(),
            "media_url": "",
        }
        for event in events
    ]
