"""The manager pages (``/manage/``): task search and list, exports, the manager's actions
on one task, and the verification queue.

For the command centre, community admins and grid leaders (``tasks.services
.DISPATCHER_ROLES``); anyone else gets 403. Every list is scoped by
``tasks.selectors.task_list_visible_to``; a task outside the user's areas is a 404.
Actions POST to ``task_action`` which calls one service with ``actor=request.user`` and
the page's idempotency key; the services' errors come back as messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.functions import Substr
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_POST

from gridgov.areas.models import CODE_LENGTH, Area, AreaLevel
from gridgov.campaigns.models import AssignmentSlip, Campaign
from gridgov.campaigns.selectors import (
    campaign_list_visible_to,
    campaign_monthly_ranking,
    campaign_progress,
    slip_list_visible_to,
)
from gridgov.campaigns.services import AFTER, BEFORE, CAMPAIGN_ISSUER_ROLES, campaign_issue
from gridgov.core.errors import GridgovError
from gridgov.people.choices import Role
from gridgov.people.selectors import area_codes_visible_to, user_holds_role
from gridgov.tasks.choices import OPEN_STATES, ExtensionStatus, TaskAction, TaskState
from gridgov.tasks.directives import (
    DIRECTIVE_ISSUER_ROLES,
    directive_issue,
    directive_list_visible_to,
    directive_progress,
    percent,
)
from gridgov.tasks.models import Directive, Task, TaskEvent
from gridgov.tasks.selectors import (
    task_light_annotate,
    task_list_visible_to,
    task_timeline,
    task_traffic_light,
)
from gridgov.tasks.services import (
    DISPATCHER_ROLES,
    task_cancel,
    task_dispatch,
    task_extension_decide,
    task_register,
    task_reject,
    task_resume,
    task_suspend,
    task_transfer,
    task_verify,
)
from gridgov.web.exports import (
    export_refused,
    local_naive,
    table_csv,
    table_xlsx,
    task_export_csv,
    task_export_xlsx,
)
from gridgov.web.forms import answer_rows
from gridgov.web.forms_manage import (
    CampaignForm,
    DirectiveForm,
    DispatchForm,
    NoteForm,
    ReasonForm,
    SlipFormSet,
    TaskFilterForm,
    TransferForm,
    issuer_areas,
)
from gridgov.web.selectors import task_target_label

#: Rows per page of the task list.
PAGE_SIZE = 50
#: Most rows one export writes (a district's month is far below).
EXPORT_LIMIT = 100_000
#: Tasks shown on the verification queue at once (oldest first).
QUEUE_LIMIT = 100

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let in signed-in users with a dispatcher role (or superusers); 403 for the rest."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_holds_role(request.user, DISPATCHER_ROLES):
            raise PermissionDenied(_("The manager pages are for dispatchers."))
        return view(request, *args, **kwargs)

    return wrapped


def _task_or_404(request: HttpRequest, number: str) -> Task:
    task = (
        task_list_visible_to(request.user)
        .select_related("rule", "target_household", "target_place", "task_type__category")
        .filter(number=number)
        .first()
    )
    if task is None:
        raise Http404(_("No such task."))
    return task


# --- list and exports ------------------------------------------------------------------


def _filtered(request: HttpRequest) -> tuple[TaskFilterForm, QuerySet[Task]]:
    """The filter form of the query string and the tasks it selects (by deadline)."""
    form = TaskFilterForm(request.GET or None, user=request.user)
    now = timezone.now()
    if form.is_bound and form.is_valid():
        try:
            qs = task_list_visible_to(request.user, now=now, **form.selector_kwargs())
        except GridgovError as error:
            form.add_error(None, error.message)
            qs = task_list_visible_to(request.user).none()
        else:
            qs = form.narrow(qs, now=now)
    elif form.is_bound:
        qs = task_list_visible_to(request.user).none()
    else:
        qs = task_list_visible_to(request.user)
    qs = task_light_annotate(qs, now=now)
    return form, qs.order_by(F("deadline").asc(nulls_last=True), "number")


@manager_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    """Search and list the tasks in the user's areas, 50 a page, by deadline."""
    form, qs = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "now": timezone.now()}
    return render(request, "web/manage/task_list.html", context)


def _attachment(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export_name(ext: str) -> str:
    return f"tasks-{timezone.localtime():%Y%m%d-%H%M}.{ext}"


@manager_required
@require_GET
def task_export_xlsx_view(request: HttpRequest) -> HttpResponse:
    """The filtered list as an xlsx workbook (400 when the filters are not valid)."""
    form, qs = _filtered(request)
    if refused := export_refused(form):
        return refused
    return _attachment(
        task_export_xlsx(qs[:EXPORT_LIMIT]),
        XLSX_TYPE,
        _export_name("xlsx"),
    )


@manager_required
@require_GET
def task_export_csv_view(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV (UTF-8 with BOM; 400 when the filters are not valid)."""
    form, qs = _filtered(request)
    if refused := export_refused(form):
        return refused
    return _attachment(
        task_export_csv(qs[:EXPORT_LIMIT]), "text/csv; charset=utf-8", _export_name("csv")
    )


# --- one task --------------------------------------------------------------------------


def _workers_of(task: Task) -> QuerySet[Any]:
    """Grid workers whose area holds the task's area (its grid and the street above it)."""
    codes = [task.area.code[:n] for n in range(1, len(task.area.code) + 1)]
    return (
        get_user_model()
        .objects.filter(
            memberships__role=Role.GRID_WORKER,
            memberships__area__code__in=codes,
            is_active=True,
        )
        .distinct()
        .order_by("username")
    )


def _actions(request: HttpRequest, task: Task) -> dict[str, bool]:
    """Which buttons the page offers by state (the services decide in the end)."""
    state = task.state
    is_open = state in OPEN_STATES
    if task.suspended_at is not None:  # the engine's WHILE_SUSPENDED
        return {"resume": True, "cancel": is_open}
    return {
        "register": state == TaskState.REPORTED,
        "reject": state == TaskState.REPORTED,
        "dispatch": state in (TaskState.REGISTERED, TaskState.SENT_BACK),
        "verify": state == TaskState.HANDLED and task.assignee_id != request.user.pk,
        "transfer": state
        in (TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.SENT_BACK, TaskState.RETURNED),
        "cancel": is_open,
        "suspend": is_open and task.suspended_at is None,
        "resume": task.suspended_at is not None,
        "extension": task.extension_status == ExtensionStatus.REQUESTED,
    }


@manager_required
@require_GET
def task_manage(request: HttpRequest, number: str) -> HttpResponse:
    """One task for a manager: the facts, the timeline and the buttons its state allows."""
    task = _task_or_404(request, number)
    task.target_label = task_target_label(task)  # type: ignore[attr-defined]
    context = {
        "task": task,
        "light": task_traffic_light(task),
        "timeline": list(task_timeline(task)),
        "actions": (actions := _actions(request, task)),
        "has_actions": any(actions.values()),
        "note_form": NoteForm(),
        "reason_form": ReasonForm(),
        "dispatch_form": DispatchForm(workers=_workers_of(task)),
        "transfer_form": TransferForm(user=request.user),
    }
    return render(request, "web/manage/task.html", context)


def _back(request: HttpRequest, task: Task) -> HttpResponse:
    if request.POST.get("back") == "queue":
        return redirect("manage:verify")
    return redirect("manage:task", number=task.number)


#: The actions of ``task_action`` and their success messages.
ACTION_MESSAGES = {
    "register": gettext_lazy("Task %(number)s registered."),
    "reject": gettext_lazy("Task %(number)s rejected."),
    "dispatch": gettext_lazy("Task %(number)s dispatched."),
    "pass": gettext_lazy("Task %(number)s passed the check and is closed."),
    "return": gettext_lazy("Task %(number)s returned for rework."),
    "transfer": gettext_lazy("Task %(number)s transferred."),
    "cancel": gettext_lazy("Task %(number)s cancelled."),
    "suspend": gettext_lazy("Task %(number)s suspended."),
    "resume": gettext_lazy("Task %(number)s resumed."),
    "approve": gettext_lazy("Extension of task %(number)s approved."),
    "refuse": gettext_lazy("Extension of task %(number)s refused."),
}
REASON_REQUIRED = {"reject", "return", "cancel", "suspend", "refuse"}


@manager_required
@require_POST
def task_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Carry out one manager action on the task (``ACTION_MESSAGES`` names them)."""
    if action not in ACTION_MESSAGES:
        raise Http404(_("No such action."))
    task = _task_or_404(request, number)
    form: Any
    if action == "dispatch":
        form = DispatchForm(request.POST, workers=_workers_of(task))
    elif action == "transfer":
        form = TransferForm(request.POST, user=request.user)
    elif action in REASON_REQUIRED:
        form = ReasonForm(request.POST)
    else:
        form = NoteForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            _("%(field)s: %(error)s") % {"field": form[name].label, "error": error}
            if name in form.fields
            else str(error)
            for name, errors in form.errors.items()
            for error in errors
        )
        messages.error(request, _("Not done: %(problems)s") % {"problems": problems})
        return _back(request, task)
    data = form.cleaned_data
    common = {"actor": request.user, "task": task, "idempotency_key": data["idempotency_key"]}
    reason = data.get("reason") or ""
    try:
        if action == "register":
            task_register(note=reason, **common)
        elif action == "reject":
            task_reject(reason=reason, **common)
        elif action == "dispatch":
            task_dispatch(assignee=data.get("assignee"), **common)
        elif action in ("pass", "return"):
            task_verify(passed=action == "pass", note=reason, **common)
        elif action == "transfer":
            task_transfer(area=data["area"], assignee=data.get("worker"), note=reason, **common)
        elif action == "cancel":
            task_cancel(reason=reason, **common)
        elif action == "suspend":
            task_suspend(reason=reason, **common)
        elif action == "resume":
            task_resume(note=reason, **common)
        else:
            task_extension_decide(approve=action == "approve", note=reason, **common)
    except GridgovError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(ACTION_MESSAGES[action]) % {"number": task.number})
    return _back(request, task)


# --- verification queue ----------------------------------------------------------------


@manager_required
@require_GET
def verify_queue(request: HttpRequest) -> HttpResponse:
    """Handled tasks in the user's areas waiting for the check (核查), oldest first, each
    with its feedback: note, answers, photos (thumbnails through the scoped
    ``web:task-photo`` view) and check-in distance."""
    feedback = Prefetch(
        "events",
        queryset=TaskEvent.objects.filter(action=TaskAction.SUBMIT_FEEDBACK)
        .prefetch_related("attachments")
        .order_by("-at"),
        to_attr="feedback_events",
    )
    tasks = list(
        task_list_visible_to(request.user, state=TaskState.HANDLED)
        .select_related("target_household", "target_place", "rule")
        .prefetch_related(feedback)
        .order_by(F("handled_at").asc(nulls_first=True), "number")[:QUEUE_LIMIT]
    )
    for task in tasks:
        events = task.feedback_events  # type: ignore[attr-defined]
        task.feedback = events[0] if events else None  # type: ignore[attr-defined]
        task.target_label = task_target_label(task)  # type: ignore[attr-defined]
        answers = (events[0].data.get("answers") or {}) if events else {}
        fields = task.rule.form_fields if task.rule else []
        task.answer_rows = answer_rows(fields, answers)  # type: ignore[attr-defined]
    context = {"tasks": tasks, "note_form": NoteForm(), "reason_form": ReasonForm()}
    return render(request, "web/manage/verify.html", context)


# --- directives and campaigns: shared -----------------------------------------------------

#: Remembered creations per session (idempotency key → id), most recent last.
CREATED_MEMORY = 50


def _created_once(request: HttpRequest, kind: str, key: str, create: Callable[[], Any]) -> int:
    """Run ``create`` once per form key in this session and return the id it made.

    The directive and campaign services take no idempotency key, so a double submission
    of the same form (same key) finds the id the first one stored in the session and
    creates nothing. ``create`` raises the services' errors."""
    memory: dict[str, int] = dict(request.session.get("gridgov-created", {}))
    name = f"{kind}:{key}"
    if name in memory:
        return memory[name]
    made = create()
    memory[name] = made.pk
    request.session["gridgov-created"] = dict(list(memory.items())[-CREATED_MEMORY:])
    return int(made.pk)


def _overdue_q(prefix: str, now: dt.datetime) -> Q:
    """Open, not suspended, deadline before ``now`` (GLOSSARY 超期), for ``prefix`` + the
    task's fields."""
    return Q(
        **{
            f"{prefix}state__in": list(OPEN_STATES),
            f"{prefix}suspended_at__isnull": True,
            f"{prefix}deadline__lt": now,
        }
    )


def _tallies(rows: Iterable[Any], key: str) -> dict[Any, dict[str, Any]]:
    """``{row[key]: row}`` with ``rate`` = closed / (total − cancelled) added."""
    result = {}
    for row in rows:
        row["rate"] = percent(row["closed"], row["total"] - row["cancelled"])
        result[row[key]] = row
    return result


def _counts(prefix: str, now: dt.datetime) -> dict[str, Any]:
    """The conditional counts of a progress row, over tasks at ``prefix``."""
    return {
        "total": Count("pk"),
        "closed": Count("pk", filter=Q(**{f"{prefix}state": TaskState.CLOSED})),
        "cancelled": Count("pk", filter=Q(**{f"{prefix}state": TaskState.CANCELLED})),
        "overdue": Count("pk", filter=_overdue_q(prefix, now)),
    }


EMPTY_TALLY = {"total": 0, "closed": 0, "cancelled": 0, "overdue": 0, "rate": None}
#: The formulas of ``tasks.directives.INDICATORS`` in the reader's language.
INDICATOR_FORMULAS = {
    "patrol_coverage": gettext_lazy("households visited / households in the grid"),
}


# --- directives ---------------------------------------------------------------------------


def _visible_or_404(qs: QuerySet[Any], pk: int, missing: str) -> Any:
    """Row ``pk`` of a scoped queryset, else 404 (outside the user's areas or absent: the
    two are not told apart)."""
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404(missing)
    return found


def _directive_or_404(request: HttpRequest, pk: int) -> Directive:
    return _visible_or_404(directive_list_visible_to(request.user), pk, _("No such directive."))


@manager_required
@require_GET
def directive_list(request: HttpRequest) -> HttpResponse:
    """The directives with tasks in the user's areas, newest first, 50 a page, each with
    its areas and its progress there — closed / tasks, overdue, closure rate — overall and
    per community (one grouped query for the page, one for the communities' names)."""
    now = timezone.now()
    qs = directive_list_visible_to(request.user).prefetch_related("areas")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [d.pk for d in page]
    length = CODE_LENGTH[AreaLevel.COMMUNITY]
    groups: list[dict[str, Any]] = [
        dict(row)
        for row in task_list_visible_to(request.user)
        .filter(directive_id__in=ids)
        .annotate(community=Substr("area__code", 1, length))
        .order_by()
        .values("directive_id", "community")
        .annotate(**_counts("", now))
    ]
    codes = {g["community"] for g in groups}
    names = dict(Area.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    totals: dict[int, dict[str, Any]] = {}
    per_community: dict[int, list[dict[str, Any]]] = {}
    for group in sorted(groups, key=lambda g: g["community"]):
        total = totals.setdefault(group["directive_id"], {**EMPTY_TALLY})
        for key in ("total", "closed", "cancelled", "overdue"):
            total[key] += group[key]
        group["name"] = names.get(group["community"], group["community"])
        per_community.setdefault(group["directive_id"], []).append(group)
    _tallies([*totals.values(), *groups], "total")  # adds each row's closure rate
    for directive in page:
        directive.progress = totals.get(directive.pk, EMPTY_TALLY)  # type: ignore[attr-defined]
        directive.communities = per_community.get(directive.pk, [])  # type: ignore[attr-defined]
    context = {
        "page": page,
        "can_issue": user_holds_role(request.user, DIRECTIVE_ISSUER_ROLES),
    }
    return render(request, "web/manage/directives.html", context)


def _scoped_progress(progress: dict[str, Any], visible: set[int]) -> dict[str, Any]:
    """``directive_progress`` restricted to the tasks in ``visible`` (ids): the grid rows
    of those tasks and the totals recomputed from them (the indicator's too)."""
    rows = [r for r in progress["grids"] if r["task_id"] in visible]
    if len(rows) == len(progress["grids"]):
        return progress
    cancelled = sum(r["state"] == TaskState.CANCELLED for r in rows)
    closed = sum(r["closed"] for r in rows)
    on_time = sum(r["closed_on_time"] for r in rows)
    due = len(rows) - cancelled
    scoped = {
        **progress,
        "grids": rows,
        "issued": len(rows),
        "closed": closed,
        "cancelled": cancelled,
        "open": sum(r["state"] in OPEN_STATES for r in rows),
        "overdue": sum(r["overdue"] for r in rows),
        "closed_on_time": on_time,
        "due": due,
        "closure_rate": percent(closed, due),
        "on_time_rate": percent(on_time, due),
    }
    indicator = progress["indicator"]
    if indicator is not None:
        numerator = sum(r["indicator"]["numerator"] for r in rows)
        denominator = sum(r["indicator"]["denominator"] for r in rows)
        met = [r["indicator"]["met"] for r in rows]
        scoped["indicator"] = {
            **indicator,
            "numerator": numerator,
            "denominator": denominator,
            "value": percent(numerator, denominator),
            "grids_met": met.count(True),
            "grids_not_met": met.count(False),
            "grids_undefined": met.count(None),
            "met": met.count(False) == 0 and met.count(True) > 0,
        }
    return scoped


def _by_community(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group a progress's grid rows by community (the grid code's community prefix): one
    row per community with its name, tasks, closed, overdue and closure rate (one query
    for the names)."""
    length = CODE_LENGTH[AreaLevel.COMMUNITY]
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        code = row["grid_code"][:length]
        group = groups.setdefault(code, {"code": code, **EMPTY_TALLY})
        group["total"] += 1
        group["closed"] += row["closed"]
        group["cancelled"] += row["state"] == TaskState.CANCELLED
        group["overdue"] += row["overdue"]
    names = dict(Area.objects.filter(code__in=list(groups)).values_list("code", "name"))
    result = []
    for code in sorted(groups):
        group = groups[code]
        group["name"] = names.get(code, code)
        group["rate"] = percent(group["closed"], group["total"] - group["cancelled"])
        result.append(group)
    return result


@manager_required
@require_GET
def directive_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One directive: its instruction, the progress (overall, by community, by grid with
    each grid's task) and its indicator, restricted to the user's areas."""
    directive = _directive_or_404(request, pk)
    visible = set(
        task_list_visible_to(request.user).filter(directive=directive).values_list("pk", flat=True)
    )
    progress = _scoped_progress(directive_progress(directive=directive), visible)
    for row in progress["grids"]:
        row["state_label"] = TaskState(row["state"]).label
    if progress["indicator"] is not None:
        name = progress["indicator"]["name"]
        formula = INDICATOR_FORMULAS.get(name, progress["indicator"]["formula"])
        progress["indicator"] = {**progress["indicator"], "formula_label": formula}
    context = {
        "directive": directive,
        "areas": list(directive.areas.order_by("code")),
        "progress": progress,
        "communities": _by_community(progress["grids"]),
    }
    return render(request, "web/manage/directive.html", context)


@manager_required
@require_GET
def directive_export(request: HttpRequest, pk: int, ext: str) -> HttpResponse:
    """The directive's progress, one row per grid task (in the user's areas), as xlsx or
    CSV (UTF-8 with BOM): grid code and name, task number, state, overdue, indicator."""
    directive = _directive_or_404(request, pk)
    visible = set(
        task_list_visible_to(request.user).filter(directive=directive).values_list("pk", flat=True)
    )
    progress = _scoped_progress(directive_progress(directive=directive), visible)
    header = [_("Grid code"), _("Grid"), _("Task"), _("State"), _("Overdue"), _("Indicator (%)")]
    rows = [
        [
            row["grid_code"],
            row["grid_name"],
            row["task_number"],
            str(TaskState(row["state"]).label),
            _("Yes") if row["overdue"] else _("No"),
            (row.get("indicator") or {}).get("value"),
        ]
        for row in progress["grids"]
    ]
    name = f"directive-{directive.pk}-{timezone.localtime():%Y%m%d-%H%M}.{ext}"
    if ext == "csv":
        return _attachment(table_csv(header=header, rows=rows), "text/csv; charset=utf-8", name)
    return _attachment(
        table_xlsx(sheet_title=_("Directive"), header=header, rows=rows), XLSX_TYPE, name
    )


@manager_required
def directive_issue_view(request: HttpRequest) -> HttpResponse:
    """Issue a directive: the form (GET), ``directive_issue`` (POST) → its page."""
    if not user_holds_role(request.user, DIRECTIVE_ISSUER_ROLES):
        raise PermissionDenied(_("Only the command centre or a community admin issue directives."))
    areas = issuer_areas(request.user, roles=DIRECTIVE_ISSUER_ROLES, on=timezone.localdate())
    form = DirectiveForm(request.POST or None, areas=areas)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def issue() -> Directive:
            return directive_issue(
                actor=request.user,
                title=data["title"],
                instruction=data["instruction"],
                task_type=data["task_type"],
                deadline=data["deadline"],
                areas=list(data["areas"]),
                priority=data["priority"],
                indicator=data["indicator"] or "",
                indicator_target=data["indicator_target"],
                period_start=data["period_start"],
                period_end=data["period_end"],
            )

        try:
            pk = _created_once(request, "directive", data["idempotency_key"], issue)
        except GridgovError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Directive issued."))
            return redirect("manage:directive", pk=pk)
    status = 400 if form.is_bound else 200
    return render(request, "web/manage/directive_form.html", {"form": form}, status=status)


# --- campaigns ------------------------------------------------------------------------------


def _campaign_or_404(request: HttpRequest, pk: int) -> Campaign:
    return _visible_or_404(campaign_list_visible_to(request.user), pk, _("No such campaign."))


@manager_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    """The batches with slips in the user's areas, newest first, 50 a page, each with its
    progress there: slips closed / slips, overdue, completion rate."""
    now = timezone.now()
    page = Paginator(campaign_list_visible_to(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ids = [c.pk for c in page]
    counts = _tallies(
        slip_list_visible_to(request.user)
        .filter(campaign_id__in=ids)
        .order_by()
        .values("campaign_id")
        .annotate(**_counts("task__", now)),
        "campaign_id",
    )
    for campaign in page:
        tally = dict(counts.get(campaign.pk, EMPTY_TALLY))
        # The completion rate counts every slip (campaigns.selectors): closed / slips.
        tally["rate"] = percent(tally["closed"], tally["total"])
        campaign.progress = tally  # type: ignore[attr-defined]
    context = {"page": page, "can_issue": user_holds_role(request.user, CAMPAIGN_ISSUER_ROLES)}
    return render(request, "web/manage/campaigns.html", context)


def _campaign_slips(request: HttpRequest, campaign: Campaign) -> list[AssignmentSlip]:
    """The batch's slips in the user's areas with their task and the number of before
    and after photos on the task (one query)."""
    photos = "task__attachments__kind"
    return list(
        slip_list_visible_to(request.user, campaign=campaign)
        .select_related("task__assignee")
        .annotate(
            before=Count("task__attachments", filter=Q(**{photos: BEFORE})),
            after=Count("task__attachments", filter=Q(**{photos: AFTER})),
        )
    )


def _campaign_figures(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    """``campaign_progress`` restricted to the user's communities: their rows, and the
    totals summed from them."""
    progress = campaign_progress(campaign=campaign)
    codes = area_codes_visible_to(request.user, roles=DISPATCHER_ROLES)
    rows = [r for r in progress["communities"] if any(str(r["code"]).startswith(c) for c in codes)]
    if len(rows) == len(progress["communities"]):
        return progress
    keys = ("slips", "closed", "closed_on_time", "open", "cancelled", "overdue")
    totals = {k: sum(r[k] for r in rows) for k in keys}
    return {
        **progress,
        **totals,
        "completion_rate": percent(totals["closed"], totals["slips"]),
        "on_time_rate": percent(totals["closed_on_time"], totals["slips"]),
        "communities": rows,
    }


@manager_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One batch: progress (overall and by community), completion rate, every slip with
    its task and before/after photo counts, and — for a batch of the monthly cycle — the
    month's ranking rows in the user's areas (ranks among all)."""
    campaign = _campaign_or_404(request, pk)
    ranking: list[dict[str, Any]] = []
    if campaign.month is not None:
        codes = area_codes_visible_to(request.user, roles=DISPATCHER_ROLES)
        ranking = [
            r
            for r in campaign_monthly_ranking(month=campaign.month)
            if any(str(r["code"]).startswith(c) for c in codes)
        ]
    context = {
        "campaign": campaign,
        "progress": _campaign_figures(request, campaign),
        "slips": _campaign_slips(request, campaign),
        "ranking": ranking,
    }
    return render(request, "web/manage/campaign.html", context)


def _slip_header() -> list[str]:
    return [
        _("Slip"),
        _("Grid"),
        _("Address"),
        _("Problem"),
        pgettext("task", "Number"),
        _("State"),
        _("Deadline"),
        _("Closed"),
        _("Before photos"),
        _("After photos"),
    ]


def _slip_rows(slips: list[AssignmentSlip]) -> Iterable[list[Any]]:
    for slip in slips:
        task = slip.task
        yield [
            slip.number,
            slip.area.name,
            slip.address,
            slip.problem,
            task.number if task else "",
            str(task.get_state_display()) if task else "",
            local_naive(task.deadline) if task else None,
            local_naive(task.closed_at) if task else None,
            slip.before,  # type: ignore[attr-defined]
            slip.after,  # type: ignore[attr-defined]
        ]


@manager_required
@require_GET
def campaign_export(request: HttpRequest, pk: int, ext: str) -> HttpResponse:
    """The batch's progress table, one row per slip, as xlsx or CSV (UTF-8 with BOM)."""
    campaign = _campaign_or_404(request, pk)
    slips = _campaign_slips(request, campaign)
    name = f"campaign-{campaign.pk}-{timezone.localtime():%Y%m%d-%H%M}.{ext}"
    if ext == "csv":
        body = table_csv(header=_slip_header(), rows=_slip_rows(slips))
        return _attachment(body, "text/csv; charset=utf-8", name)
    body = table_xlsx(
        sheet_title=_("Slips"),
        header=_slip_header(),
        rows=_slip_rows(slips),
        widths=[6, 16, 30, 40, 18, 12, 18, 18, 10, 10],
    )
    return _attachment(body, XLSX_TYPE, name)


def _slip_errors(formset: Any, slip_forms: list[Any], error: GridgovError) -> None:
    """Put each refused slip's problems (``details["slips"]``, numbered 1… in the order
    given) under its row; anything else on the formset."""
    placed = False
    for item in (error.details or {}).get("slips", []):
        index = int(item.get("number", 0)) - 1
        if 0 <= index < len(slip_forms):
            for problem in item.get("errors", []):
                slip_forms[index].add_error(None, problem)
            placed = True
    if not placed:
        formset.non_form_errors().append(error.message)


@manager_required
def campaign_issue_view(request: HttpRequest) -> HttpResponse:
    """Create a batch of assignment slips: the form with slip rows (GET), ``campaign_issue``
    (POST; all or nothing, each bad slip's problems under its row) → the batch's page."""
    if not user_holds_role(request.user, CAMPAIGN_ISSUER_ROLES):
        raise PermissionDenied(_("Only the command centre or a community admin issue slips."))
    form = CampaignForm(request.POST or None)
    formset = SlipFormSet(request.POST or None, request.FILES or None, prefix="slip")
    error = ""
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        filled = [(f, f.slip()) for f in formset.forms]
        slip_forms = [f for f, slip in filled if slip is not None]
        slips = [slip for _f, slip in filled if slip is not None]

        def issue() -> Campaign:
            return campaign_issue(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                task_type=data["task_type"],
                deadline=data["deadline"],
                month=data["month"] or None,
                slips=slips,
            )

        try:
            pk = _created_once(request, "campaign", data["idempotency_key"], issue)
        except GridgovError as exc:
            error = exc.message
            _slip_errors(formset, slip_forms, exc)
        else:
            messages.success(request, _("Campaign issued."))
            return redirect("manage:campaign", pk=pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "formset": formset, "error": error}
    return render(request, "web/manage/campaign_form.html", context, status=status)
