"""Tasks over the REST API: the list, one task with its timeline, and one POST per
transition of the life cycle; directives.

Thin: parse, call ``tasks.selectors`` / ``tasks.services``, render. Scope comes from the
selectors (a task outside the caller's areas is "not found", so numbers do not leak);
roles and states are checked by the services (403 ``permission_denied``, 409
``state_conflict``). Every POST accepts an ``Idempotency-Key`` header, passed to the
service: repeating a request with the same key changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Header, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import AfterValidator, Field, StringConstraints

from gridgov.api.schemas import (
    AreaCode,
    CatalogCode,
    Id,
    Latitude,
    Longitude,
    Moment,
    Page,
    PageParams,
    Text,
    paginate,
)
from gridgov.areas.models import Area, AreaLevel
from gridgov.catalog.choices import Priority
from gridgov.catalog.models import TaskType
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.core.validators import YEAR_MAX, YEAR_MIN, year_in_range
from gridgov.people.models import Department
from gridgov.people.names import user_display_name
from gridgov.people.selectors import area_codes_visible_to
from gridgov.tasks.choices import (
    EscalationLevel,
    ExtensionStatus,
    TaskAction,
    TaskSource,
    TaskState,
    TrafficLight,
)
from gridgov.tasks.directives import (
    directive_issue,
    directive_list_visible_to,
    directive_progress,
)
from gridgov.tasks.models import Directive, Task, TaskAttachment, TaskEvent
from gridgov.tasks.selectors import (
    task_light_annotate,
    task_list_visible_to,
    task_timeline,
    task_traffic_light,
)
from gridgov.tasks.services import (
    task_accept,
    task_cancel,
    task_create,
    task_dispatch,
    task_extension_decide,
    task_extension_request,
    task_register,
    task_reject,
    task_resume,
    task_send_back,
    task_submit_feedback,
    task_suspend,
    task_transfer,
    task_verify,
)

router = Router(tags=["tasks"])

#: A task number as the services allocate it (``YYYYMMDD-NNNNNN``) or an imported one.
TaskNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")]


# --- output -----------------------------------------------------------------------------


class AreaRefOut(Schema):
    code: str
    name: str
    level: AreaLevel


class TaskTypeRefOut(Schema):
    code: str
    name: str


class UserRefOut(Schema):
    id: int
    username: str
    name: str = Field(description="Full name, or the username when none is set.")

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return user_display_name(obj)


class DepartmentRefOut(Schema):
    code: str
    name: str


class TaskOut(Schema):
    number: str
    source: TaskSource
    task_type: TaskTypeRefOut
    rule_code: str | None
    directive_id: int | None
    area: AreaRefOut
    target_household_id: int | None
    target_place_id: int | None
    lon: float | None = Field(description="WGS84 longitude.")
    lat: float | None = Field(description="WGS84 latitude.")
    title: str
    description: str
    priority: Priority
    state: TaskState
    light: TrafficLight = Field(description="green < 80% of the time limit used ≤ yellow ≤ red.")
    assignee: UserRefOut | None
    department: DepartmentRefOut | None
    needs_attention: bool
    deadline: dt.datetime | None
    deadline_original: dt.datetime | None
    reported_at: dt.datetime | None
    registered_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    accepted_at: dt.datetime | None
    handled_at: dt.datetime | None
    closed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    is_overdue: bool
    escalation_level: EscalationLevel
    rework_count: int
    extension_status: ExtensionStatus
    extension_requested_until: dt.datetime | None
    extension_count: int
    suspended_at: dt.datetime | None
    suspension_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_rule_code(obj: Task) -> str | None:
        return obj.rule.code if obj.rule else None

    @staticmethod
    def resolve_light(obj: Task) -> str:
        light = getattr(obj, "light", None)
        return light if light is not None else task_traffic_light(obj)


class AttachmentOut(Schema):
    id: int
    event_id: int
    url: str = Field(description="Download URL (same authentication as the API).")
    content_type: str
    size: int = Field(description="Bytes.")
    sha256: str
    kind: str

    @staticmethod
    def resolve_url(obj: TaskAttachment) -> str:
        return reverse(
            "api-v1:task_attachment", kwargs={"number": obj.task.number, "attachment_id": obj.pk}
        )


class TaskEventOut(Schema):
    id: int
    action: TaskAction
    actor: UserRefOut | None
    at: dt.datetime
    from_state: str
    to_state: str
    note: str
    lon: float | None
    lat: float | None
    data: dict[str, Any]
    attachment_ids: list[int]

    @staticmethod
    def resolve_attachment_ids(obj: TaskEvent) -> list[int]:
        return [a.pk for a in obj.attachments.all()]


class TaskDetailOut(TaskOut):
    events: list[TaskEventOut] = Field(description="The timeline, oldest first.")
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_events(obj: Task) -> list[TaskEvent]:
        return _timeline(obj)

    @staticmethod
    def resolve_attachments(obj: Task) -> list[TaskAttachment]:
        attachments = [a for event in _timeline(obj) for a in event.attachments.all()]
        for attachment in attachments:
            attachment.task = obj  # for the URL, without a query per attachment
        return attachments


def _timeline(task: Task) -> list[TaskEvent]:
    """The task's timeline, read once per response (cached on the instance)."""
    cached: list[TaskEvent] | None = getattr(task, "_api_timeline", None)
    if cached is None:
        cached = list(task_timeline(task))
        task._api_timeline = cached  # type: ignore[attr-defined]
    return cached


# --- input ------------------------------------------------------------------------------


class TaskFilters(Schema):
    state: list[TaskState] | None = Field(None, description="Repeat for several states.")
    area: AreaCode | None = Field(None, description="An area's code: tasks inside it.")
    assignee: Text | None = Field(
        None, max_length=150, description="A username, or `me` for the caller."
    )
    source: TaskSource | None = None
    task_type: CatalogCode | None = Field(None, description="A task type's 4-digit code.")
    overdue: bool | None = None
    light: TrafficLight | None = None
    created_from: Moment | None = Field(None, description="Created at or after (ISO 8601).")
    created_to: Moment | None = Field(None, description="Created at or before (ISO 8601).")
    deadline_from: Moment | None = Field(None, description="Deadline at or after.")
    deadline_to: Moment | None = Field(None, description="Deadline at or before.")


def _filter_area(code: str | None) -> Area | None:
    if not code:
        return None
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise ValidationFailed(
            _("no area has code %(code)s") % {"code": code}, details={"area": code}
        )
    return area


def _filter_task_type(code: str | None) -> TaskType | None:
    if not code:
        return None
    task_type = TaskType.objects.filter(code=code).first()
    if task_type is None:
        raise ValidationFailed(
            _("no task type has code %(code)s") % {"code": code}, details={"task_type": code}
        )
    return task_type


def _task_type(code: str) -> TaskType:
    task_type = _filter_task_type(code)
    if task_type is None:
        raise ValidationFailed(_("a task type is required"), details={"field": "task_type"})
    return task_type


def _filter_user(request: HttpRequest, username: str | None) -> Any:
    if not username:
        return None
    if username == "me":
        return request.user
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationFailed(
            _("no user is called %(username)s") % {"username": username},
            details={"assignee": username},
        )
    return user


def task_get_by_number(request: HttpRequest, number: str) -> Task:
    """The task ``number`` if the caller may see it; ``NotFound`` otherwise."""
    task = task_list_visible_to(request.user).select_related("rule").filter(number=number).first()
    if task is None:
        raise NotFound(_("no task numbered %(number)s") % {"number": number})
    return task


# --- reads ------------------------------------------------------------------------------


@router.get("/tasks", response=Page[TaskOut], summary="List tasks")
def task_list(
    request: HttpRequest, filters: Query[TaskFilters], page: Query[PageParams]
) -> dict[str, Any]:
    """The tasks the caller may see (their areas, plus tasks assigned to them or their
    department), newest first, filtered and paginated (``count`` is the total)."""
    now = timezone.now()
    qs: QuerySet[Task] = task_list_visible_to(
        request.user,
        state=[str(s) for s in filters.state] if filters.state else None,
        area=_filter_area(filters.area),
        assignee=_filter_user(request, filters.assignee),
        source=filters.source,
        task_type=_filter_task_type(filters.task_type),
        overdue=filters.overdue,
        light=filters.light,
        date_from=filters.created_from,
        date_to=filters.created_to,
        now=now,
    ).select_related("rule")
    if filters.deadline_from is not None:
        qs = qs.filter(deadline__gte=filters.deadline_from)
    if filters.deadline_to is not None:
        qs = qs.filter(deadline__lte=filters.deadline_to)
    return paginate(task_light_annotate(qs, now=now), page)


@router.get("/tasks/{number}", response=TaskDetailOut, summary="One task with its timeline")
def task_detail(request: HttpRequest, number: TaskNumber) -> Task:
    """One task, its timeline (oldest first) and its attachments' download URLs."""
    return task_get_by_number(request, number)


@router.get(
    "/tasks/{number}/attachments/{attachment_id}",
    url_name="task_attachment",
    summary="Download an attachment",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def task_attachment(
    request: HttpRequest,
    number: TaskNumber,
    attachment_id: Id,
) -> FileResponse:
    """The attachment's file, for callers who may see the task."""
    task = task_get_by_number(request, number)
    attachment = TaskAttachment.objects.filter(task=task, pk=attachment_id).first()
    if attachment is None or not attachment.file:
        raise NotFound(_("no such attachment"))
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(_("no such attachment")) from exc
    return FileResponse(handle, content_type=attachment.content_type)


# --- writes -----------------------------------------------------------------------------

IDEMPOTENCY = Header(
    None,
    alias="Idempotency-Key",
    min_length=1,
    max_length=100,
    pattern=r"^[!-~]+$",
    description="Any string up to 100 printable ASCII characters, one per intended action; "
    "a repeat with the same key changes nothing and returns the task.",
)
Username = Annotated[str, StringConstraints(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")]
DepartmentCode = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^\S+$")]
Note = Annotated[Text, StringConstraints(max_length=2000)]
Reason = Annotated[Text, StringConstraints(min_length=1, max_length=2000)]
Answers = Annotated[Text, StringConstraints(max_length=20000)]
# The feedback's multipart fields (module-level, so that the defaults are built once).
NOTE_FORM = Form("")
LON_FORM = Form(None)
LAT_FORM = Form(None)
ANSWERS_FORM = Form("{}", description="A JSON object {field name: value}.")
PHOTOS_FILE = File(None, description="Image files: JPEG, PNG, WebP or HEIC, ≤ 10 MB each.")


class TaskCreateIn(Schema):
    task_type: CatalogCode = Field(description="The task type's 4-digit code.")
    lon: Longitude
    lat: Latitude
    title: Annotated[Text, StringConstraints(min_length=1, max_length=200)]
    description: Annotated[Text, StringConstraints(max_length=5000)] = ""
    priority: Priority | None = None


class NoteIn(Schema):
    note: Note = ""


class ReasonIn(Schema):
    reason: Reason


class DispatchIn(Schema):
    assignee: Username | None = Field(None, description="A username; or give department.")
    department: DepartmentCode | None = Field(None, description="A department's code.")
    note: Note = ""


class LocatedNoteIn(NoteIn):
    lon: Longitude | None = None
    lat: Latitude | None = None


class VerifyIn(LocatedNoteIn):
    passed: bool = Field(description="true closes the task; false returns it for rework.")


class TransferIn(Schema):
    area: AreaCode | None = Field(None, description="The new grid or micro-grid.")
    assignee: Username | None = None
    department: DepartmentCode | None = None
    note: Reason


class ExtensionRequestIn(Schema):
    until: Moment = Field(
        description="The deadline asked for (ISO 8601): after the current deadline and at "
        "most 366 days after it (after now, for a task without one); otherwise 422."
    )
    reason: Reason


class ExtensionDecisionIn(NoteIn):
    approve: bool


def _user(username: str | None, field: str) -> Any:
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationFailed(
            _("no user is called %(username)s") % {"username": username},
            details={field: username},
        )
    return user


def _department(code: str | None) -> Department | None:
    if not code:
        return None
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise ValidationFailed(
            _("no department has code %(code)s") % {"code": code}, details={"department": code}
        )
    return department


def _act(request: HttpRequest, number: str, service: Any, key: str | None, **kwargs: Any) -> Task:
    """Find the caller's task ``number`` and run ``service`` on it as the caller."""
    task = task_get_by_number(request, number)
    return service(actor=request.user, task=task, idempotency_key=key, **kwargs)


@router.post("/tasks", response={201: TaskDetailOut}, summary="Report a problem")
def task_report(
    request: HttpRequest, payload: TaskCreateIn, idempotency_key: str | None = IDEMPOTENCY
) -> Status:
    """A grid worker's report (worker_report) at (lon, lat): registered and dispatched at
    once by the system when ``GRIDGOV_WORKER_REPORT_AUTO_REGISTER`` is true (the default),
    else it stays ``reported`` for a dispatcher.

    The grid is the one containing the point. With an ``Idempotency-Key``, a repeat
    returns the task the first request created.
    """
    task_type = _task_type(payload.task_type)
    task = task_create(
        actor=request.user,
        source=TaskSource.WORKER_REPORT,
        task_type=task_type,
        lon=payload.lon,
        lat=payload.lat,
        title=payload.title,
        description=payload.description,
        priority=payload.priority,
        reporter=request.user,
        source_key=f"api:{request.user.pk}:{idempotency_key}" if idempotency_key else None,
    )
    return Status(201, task)


@router.post("/tasks/{number}/register", response=TaskDetailOut, summary="Register (立案)")
def task_register_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: NoteIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """reported → registered. A dispatcher over the task's area."""
    return _act(request, number, task_register, idempotency_key, note=payload.note)


@router.post("/tasks/{number}/reject", response=TaskDetailOut, summary="Reject (不予立案)")
def task_reject_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: ReasonIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """reported → rejected. A dispatcher over the task's area."""
    return _act(request, number, task_reject, idempotency_key, reason=payload.reason)


@router.post("/tasks/{number}/dispatch", response=TaskDetailOut, summary="Dispatch (派遣)")
def task_dispatch_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: DispatchIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """registered or sent_back → dispatched, to an assignee, a department, or by routing."""
    return _act(
        request,
        number,
        task_dispatch,
        idempotency_key,
        assignee=_user(payload.assignee, "assignee"),
        department=_department(payload.department),
        note=payload.note,
    )


@router.post("/tasks/{number}/accept", response=TaskDetailOut, summary="Accept (签收)")
def task_accept_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: LocatedNoteIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """dispatched → accepted. The assignee, or a handler of the task's department.

    409 ``state_conflict`` when someone else accepted it first.
    """
    return _act(
        request,
        number,
        task_accept,
        idempotency_key,
        note=payload.note,
        lon=payload.lon,
        lat=payload.lat,
    )


@router.post("/tasks/{number}/send-back", response=TaskDetailOut, summary="Send back (回退)")
def task_send_back_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: ReasonIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """dispatched → sent_back, to the dispatcher, as not the caller's."""
    return _act(request, number, task_send_back, idempotency_key, reason=payload.reason)


@router.post("/tasks/{number}/feedback", response=TaskDetailOut, summary="Submit feedback (反馈)")
def task_feedback_view(
    request: HttpRequest,
    number: TaskNumber,
    note: Note = NOTE_FORM,
    lon: Longitude | None = LON_FORM,
    lat: Latitude | None = LAT_FORM,
    answers: Answers = ANSWERS_FORM,
    photos: list[UploadedFile] = PHOTOS_FILE,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """accepted or returned → handled, with evidence (``multipart/form-data``).

    ``answers``: a JSON object ``{field name: value}`` for the rule's form fields;
    ``photos``: image files (JPEG, PNG, WebP, HEIC; ≤ 10 MB each); ``lon``/``lat``: the
    worker's WGS84 location. Missing or wrong evidence is one 422 whose
    ``details.problems`` lists every problem.
    """
    try:
        parsed = json.loads(answers or "{}")
    except ValueError as exc:
        raise ValidationFailed(
            _("answers must be a JSON object: %(error)s") % {"error": exc},
            details={"field": "answers"},
        ) from exc
    if not isinstance(parsed, dict):
        raise ValidationFailed(_("answers must be a JSON object."), details={"field": "answers"})
    return _act(
        request,
        number,
        task_submit_feedback,
        idempotency_key,
        note=note,
        lon=lon,
        lat=lat,
        answers=parsed,
        photos=list(photos or []),
    )


@router.post("/tasks/{number}/verify", response=TaskDetailOut, summary="Verify (核查)")
def task_verify_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: VerifyIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """handled → closed (passed) or returned for rework (failed, with a note)."""
    return _act(
        request,
        number,
        task_verify,
        idempotency_key,
        passed=payload.passed,
        note=payload.note,
        lon=payload.lon,
        lat=payload.lat,
    )


@router.post("/tasks/{number}/transfer", response=TaskDetailOut, summary="Transfer (转派)")
def task_transfer_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: TransferIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """To another grid, worker or department (at least one); it arrives dispatched."""
    area = None
    if payload.area:
        area = Area.objects.filter(code=payload.area).first()
        if area is None:
            raise ValidationFailed(
                _("no area has code %(code)s") % {"code": payload.area},
                details={"area": payload.area},
            )
    return _act(
        request,
        number,
        task_transfer,
        idempotency_key,
        area=area,
        assignee=_user(payload.assignee, "assignee"),
        department=_department(payload.department),
        note=payload.note,
    )


@router.post("/tasks/{number}/cancel", response=TaskDetailOut, summary="Cancel (作废)")
def task_cancel_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: ReasonIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """Any open state → cancelled. A dispatcher over the task's area."""
    return _act(request, number, task_cancel, idempotency_key, reason=payload.reason)


@router.post("/tasks/{number}/suspend", response=TaskDetailOut, summary="Suspend (挂账)")
def task_suspend_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: ReasonIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """Stop the task's clock (it keeps its state). A dispatcher over the task's area."""
    return _act(request, number, task_suspend, idempotency_key, reason=payload.reason)


@router.post("/tasks/{number}/resume", response=TaskDetailOut, summary="Resume")
def task_resume_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: NoteIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """Restart a suspended task's clock; the deadline moves by the time suspended."""
    return _act(request, number, task_resume, idempotency_key, note=payload.note)


@router.post(
    "/tasks/{number}/extension-request", response=TaskDetailOut, summary="Request an extension"
)
def task_extension_request_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: ExtensionRequestIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """Ask for a later deadline (延期申请). The assignee."""
    return _act(
        request,
        number,
        task_extension_request,
        idempotency_key,
        until=payload.until,
        reason=payload.reason,
    )


@router.post(
    "/tasks/{number}/extension-decision", response=TaskDetailOut, summary="Decide an extension"
)
def task_extension_decision_view(
    request: HttpRequest,
    number: TaskNumber,
    payload: ExtensionDecisionIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Task:
    """Approve or refuse a pending extension request (延期审批). A dispatcher."""
    return _act(
        request,
        number,
        task_extension_decide,
        idempotency_key,
        approve=payload.approve,
        note=payload.note,
    )


# --- directives ---------------------------------------------------------------------------


def _day_in_range(value: dt.date) -> dt.date:
    if not year_in_range(value):
        raise ValueError(f"the year must be between {YEAR_MIN} and {YEAR_MAX}")
    return value


#: A local date in the years ``core.validators.YEAR_MIN…YEAR_MAX``.
Day = Annotated[dt.date, AfterValidator(_day_in_range)]


class DirectiveIn(Schema):
    title: Annotated[Text, StringConstraints(min_length=1, max_length=200)]
    instruction: Annotated[Text, StringConstraints(min_length=1, max_length=5000)]
    task_type: CatalogCode = Field(description="The task type's 4-digit code.")
    deadline: Moment
    areas: list[AreaCode] = Field(
        min_length=1, max_length=1000, description="Streets, communities or grids (codes)."
    )
    priority: Priority | None = None
    indicator: Literal["patrol_coverage"] | None = Field(
        None, description="An indicator to track per grid, e.g. patrol_coverage."
    )
    indicator_target: (
        Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)] | None
    ) = None
    period_start: Day | None = None
    period_end: Day | None = None


class DirectiveOut(Schema):
    id: int
    title: str
    instruction: str
    task_type: TaskTypeRefOut
    deadline: dt.datetime
    priority: Priority
    issued_by: UserRefOut | None
    indicator: str
    indicator_target: Decimal | None
    indicator_period_start: dt.date | None
    indicator_period_end: dt.date | None
    created_at: dt.datetime


class DirectiveGridOut(Schema):
    grid_code: str
    grid_name: str
    task_number: str
    state: TaskState
    closed: bool
    overdue: bool
    closed_on_time: bool
    indicator: dict[str, Any] | None = None


class DirectiveProgressOut(Schema):
    issued: int
    closed: int
    open: int
    cancelled: int
    overdue: int
    closed_on_time: int
    due: int
    closure_rate: Decimal | None = Field(description="closed / due, percent (结案率).")
    on_time_rate: Decimal | None = Field(description="closed on time / due, percent.")
    grids: list[DirectiveGridOut] = Field(description="The caller's grids only.")
    indicator: dict[str, Any] | None


class DirectiveDetailOut(DirectiveOut):
    progress: DirectiveProgressOut


def _directive_detail(request: HttpRequest, directive: Directive) -> Directive:
    """The directive with ``progress`` attached: totals over all its tasks, per-grid rows
    only for the caller's grids."""
    progress = directive_progress(directive=directive)
    codes = area_codes_visible_to(request.user)
    progress["grids"] = [
        row for row in progress["grids"] if any(row["grid_code"].startswith(c) for c in codes)
    ]
    directive.progress = progress  # type: ignore[attr-defined]
    return directive


@router.post(
    "/directives", response={201: DirectiveDetailOut}, tags=["directives"], summary="Issue"
)
def directive_issue_view(request: HttpRequest, payload: DirectiveIn) -> Status:
    """Send an instruction with a deadline to areas: one dispatched task per grid.

    The command centre, or a community admin inside their community.
    """
    areas = list(Area.objects.filter(code__in=payload.areas))
    missing = sorted(set(payload.areas) - {a.code for a in areas})
    if missing:
        raise ValidationFailed(
            _("no area has code %(code)s") % {"code": ", ".join(missing)},
            details={"areas": missing},
        )
    directive = directive_issue(
        actor=request.user,
        title=payload.title,
        instruction=payload.instruction,
        task_type=_task_type(payload.task_type),
        deadline=payload.deadline,
        areas=areas,
        priority=payload.priority,
        indicator=payload.indicator or "",
        indicator_target=payload.indicator_target,
        period_start=payload.period_start,
        period_end=payload.period_end,
    )
    return Status(201, _directive_detail(request, directive))


@router.get(
    "/directives", response=Page[DirectiveOut], tags=["directives"], summary="List directives"
)
def directive_list(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Directives with at least one task in the caller's areas, newest first."""
    return paginate(directive_list_visible_to(request.user), page)


@router.get(
    "/directives/{directive_id}",
    response=DirectiveDetailOut,
    tags=["directives"],
    summary="One directive with its progress",
)
def directive_detail(request: HttpRequest, directive_id: Id) -> Directive:
    """The directive and its progress: totals over all its tasks, rows for the caller's
    grids, and the indicator against its target."""
    directive = directive_list_visible_to(request.user).filter(pk=directive_id).first()
    if directive is None:
        raise NotFound(_("no directive %(id)s") % {"id": directive_id})
    return _directive_detail(request, directive)
