"""Campaigns (remediation batches of assignment slips) over the REST API.

Issue a batch (``multipart/form-data``: the slips as JSON, one photo file per slip), list
and read batches with their progress and slips, submit a slip's rectification (before and
after photos) and verify it, and the monthly ranking ("三个一"). Thin over
``gridgov.campaigns.services`` / ``selectors``; scoped to the caller's areas.

(It lives in the API app because the campaigns app had no router of its own when the API
was written; it could move to ``gridgov/campaigns/api.py`` unchanged.)
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Header, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field, StringConstraints

from gridgov.api.schemas import (
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
from gridgov.campaigns.models import AssignmentSlip, Campaign
from gridgov.campaigns.selectors import (
    campaign_list_visible_to,
    campaign_monthly_ranking,
    campaign_progress,
    slip_list_visible_to,
)
from gridgov.campaigns.services import (
    campaign_issue,
    campaign_slip_submit_rectification,
    campaign_slip_verify,
)
from gridgov.catalog.models import TaskType
from gridgov.core.errors import NotFound, ValidationFailed
from gridgov.tasks.api import TaskDetailOut, TaskTypeRefOut, UserRefOut
from gridgov.tasks.choices import TaskState

router = Router(tags=["campaigns"])

Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
Note = Annotated[Text, StringConstraints(max_length=2000)]
Slips = Annotated[Text, StringConstraints(min_length=2, max_length=200_000)]

# Multipart fields, built once (module level).
TITLE_FORM = Form(..., min_length=1, max_length=200)
TYPE_FORM = Form(..., description="The task type's 4-digit code.")
DEADLINE_FORM = Form(..., description="ISO 8601; every slip's task gets it.")
MONTH_FORM = Form(None, description="YYYY-MM: the month of the 三个一 cycle.")
DESCRIPTION_FORM = Form("", max_length=5000)
SLIPS_FORM = Form(
    ...,
    description='A JSON list: [{"problem": "…", "place": <id>} or {"problem", "lon", "lat", '
    '"address"}], in the order of the photos.',
)
PHOTOS_FILE = File(..., description="One photo per slip, in order (JPEG, PNG, WebP, HEIC).")
NOTE_FORM = Form("")
LON_FORM = Form(None)
LAT_FORM = Form(None)
ANSWERS_FORM = Form("{}", description="A JSON object {field name: value}.")
BEFORE_FILE = File(..., description="Photos from before the rectification.")
AFTER_FILE = File(..., description="Photos from after the rectification.")
IDEMPOTENCY = Header(
    None, alias="Idempotency-Key", min_length=1, max_length=100, pattern=r"^[!-~]+$"
)


class CampaignOut(Schema):
    id: int
    title: str
    description: str
    task_type: TaskTypeRefOut
    area_code: str = Field(description="The smallest area containing every slip.")
    issued_by: UserRefOut | None
    issued_at: dt.datetime
    deadline: dt.datetime
    month: dt.date | None

    @staticmethod
    def resolve_area_code(obj: Campaign) -> str:
        return obj.area.code


class CampaignFiguresOut(Schema):
    slips: int
    closed: int
    closed_on_time: int
    open: int
    cancelled: int
    overdue: int
    completion_rate: Decimal | None = Field(description="closed / slips, percent.")
    on_time_rate: Decimal | None


class CommunityFiguresOut(CampaignFiguresOut):
    code: str
    name: str


class CampaignProgressOut(CampaignFiguresOut):
    communities: list[CommunityFiguresOut]


class CampaignDetailOut(CampaignOut):
    progress: CampaignProgressOut


class SlipOut(Schema):
    campaign_id: int
    number: int
    place_id: int | None
    lon: float | None
    lat: float | None
    address: str
    problem: str
    grid_code: str
    task_number: str | None
    state: TaskState | None

    @staticmethod
    def resolve_grid_code(obj: AssignmentSlip) -> str:
        return obj.area.code

    @staticmethod
    def resolve_task_number(obj: AssignmentSlip) -> str | None:
        return obj.task.number if obj.task else None

    @staticmethod
    def resolve_state(obj: AssignmentSlip) -> str | None:
        return obj.task.state if obj.task else None


class RankingRowOut(CampaignFiguresOut):
    level: Literal["community", "grid"]
    code: str
    name: str
    rank: int


class VerifyIn(Schema):
    passed: bool
    note: Note = ""


def _campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    campaign = campaign_list_visible_to(request.user).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(_("no campaign %(id)s") % {"id": campaign_id})
    return campaign


def _slip(request: HttpRequest, campaign_id: int, number: int) -> AssignmentSlip:
    slip = slip_list_visible_to(request.user).filter(campaign_id=campaign_id, number=number).first()
    if slip is None:
        raise NotFound(
            _("no slip %(number)s in campaign %(id)s") % {"number": number, "id": campaign_id}
        )
    return slip


def _with_progress(campaign: Campaign) -> Campaign:
    campaign.progress = campaign_progress(campaign=campaign)  # type: ignore[attr-defined]
    return campaign


def _json(text: str, field: str, kind: type) -> Any:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(
            _("%(field)s is not valid JSON: %(error)s") % {"field": field, "error": exc},
            details={"field": field},
        ) from exc
    if not isinstance(value, kind):
        raise ValidationFailed(
            _("%(field)s has the wrong JSON type.") % {"field": field}, details={"field": field}
        )
    return value


@router.post("/campaigns", response={201: CampaignDetailOut}, summary="Issue a batch of slips")
def campaign_issue_view(
    request: HttpRequest,
    title: Annotated[Text, StringConstraints(max_length=200)] = TITLE_FORM,
    task_type: CatalogCode = TYPE_FORM,
    deadline: Moment = DEADLINE_FORM,
    slips: Slips = SLIPS_FORM,
    photos: list[UploadedFile] = PHOTOS_FILE,
    month: Month | None = MONTH_FORM,
    description: Annotated[Text, StringConstraints(max_length=5000)] = DESCRIPTION_FORM,
) -> Status:
    """Issue a batch: each slip becomes one dispatched task of its grid, all with the
    batch's deadline. All or nothing: a bad slip refuses the batch (422, every slip's
    problems in ``details.slips``). The command centre, or a community admin."""
    items = _json(slips, "slips", list)
    if len(items) != len(photos):
        raise ValidationFailed(
            _("%(slips)d slips but %(photos)d photos: give one photo per slip.")
            % {"slips": len(items), "photos": len(photos)},
            details={"field": "photos"},
        )
    for item, photo in zip(items, photos, strict=True):
        if isinstance(item, dict):
            item["photo"] = photo
    kind = TaskType.objects.filter(code=task_type).first()
    if kind is None:
        raise ValidationFailed(
            _("no task type has code %(code)s") % {"code": task_type},
            details={"task_type": task_type},
        )
    campaign = campaign_issue(
        actor=request.user,
        title=title,
        task_type=kind,
        deadline=deadline,
        slips=items,
        month=month,
        description=description,
    )
    return Status(201, _with_progress(campaign))


@router.get("/campaigns", response=Page[CampaignOut], summary="List batches")
def campaign_list(request: HttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Batches with a slip in the caller's areas, newest first."""
    return paginate(campaign_list_visible_to(request.user), page)


@router.get("/campaigns/ranking", response=list[RankingRowOut], summary="Monthly ranking")
def campaign_ranking(
    request: HttpRequest,
    month: Month,
    level: Literal["community", "grid"] | None = None,
) -> list[dict[str, Any]]:
    """The month's ranking of communities and grids by completion rate, then on-time
    rate (the "三个一" cycle's one ranking)."""
    return campaign_monthly_ranking(month=month, level=level)


@router.get("/campaigns/{campaign_id}", response=CampaignDetailOut, summary="One batch")
def campaign_detail(request: HttpRequest, campaign_id: Id) -> Campaign:
    """The batch and its progress (overall and per community)."""
    return _with_progress(_campaign(request, campaign_id))


@router.get("/campaigns/{campaign_id}/slips", response=Page[SlipOut], summary="A batch's slips")
def campaign_slips(
    request: HttpRequest, campaign_id: Id, page: Query[PageParams]
) -> dict[str, Any]:
    """The batch's slips in the caller's areas, by number, with their task's state."""
    campaign = _campaign(request, campaign_id)
    return paginate(slip_list_visible_to(request.user, campaign=campaign), page)


@router.post(
    "/campaigns/{campaign_id}/slips/{number}/rectification",
    response=TaskDetailOut,
    summary="Submit a slip's rectification",
)
def slip_rectification(
    request: HttpRequest,
    campaign_id: Id,
    number: Id,
    before: list[UploadedFile] = BEFORE_FILE,
    after: list[UploadedFile] = AFTER_FILE,
    note: Note = NOTE_FORM,
    lon: Longitude | None = LON_FORM,
    lat: Latitude | None = LAT_FORM,
    answers: Annotated[Text, StringConstraints(max_length=20000)] = ANSWERS_FORM,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Any:
    """The slip's task feedback with before and after photos: accepted → handled."""
    return campaign_slip_submit_rectification(
        actor=request.user,
        slip=_slip(request, campaign_id, number),
        note=note,
        before_photos=before,
        after_photos=after,
        lon=lon,
        lat=lat,
        answers=_json(answers or "{}", "answers", dict),
        idempotency_key=idempotency_key,
    )


@router.post(
    "/campaigns/{campaign_id}/slips/{number}/verify",
    response=TaskDetailOut,
    summary="Verify a slip (验收)",
)
def slip_verify(
    request: HttpRequest,
    campaign_id: Id,
    number: Id,
    payload: VerifyIn,
    idempotency_key: str | None = IDEMPOTENCY,
) -> Any:
    """Pass (the task closes; needs before and after photos) or fail (rework)."""
    return campaign_slip_verify(
        actor=request.user,
        slip=_slip(request, campaign_id, number),
        passed=payload.passed,
        note=payload.note,
        idempotency_key=idempotency_key,
    )
