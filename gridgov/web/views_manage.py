"""The manager pages (``/manage/``): task search and list, exports, the manager's actions
on one task, and the verification queue.

For the command centre, community admins and grid leaders (``tasks.services
.DISPATCHER_ROLES``); anyone else gets 403. Every list is scoped by
``tasks.selectors.task_list_visible_to``; a task outside the user's areas is a 404.
Actions POST to ``task_action`` which calls one service with ``actor=request.user`` and
the page's idempotency key; the services' errors come back as messages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from gridgov.core.errors import GridgovError
from gridgov.people.choices import Role
from gridgov.people.selectors import user_holds_role
from gridgov.tasks.choices import ExtensionStatus, TaskAction, TaskState
from gridgov.tasks.models import Task, TaskEvent
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
from gridgov.web.exports import task_export_csv, task_export_xlsx
from gridgov.web.forms_manage import (
    DispatchForm,
    NoteForm,
    ReasonForm,
    TaskFilterForm,
    TransferForm,
)
from gridgov.web.selectors import task_target_label

#: Rows per page of the task list.
PAGE_SIZE = 50
#: Most rows one export writes (a district's month is far below).
EXPORT_LIMIT = 100_000
#: Tasks shown on the verification queue at once (oldest first).
QUEUE_LIMIT = 100

OPEN_STATES = [
    TaskState.REPORTED,
    TaskState.REGISTERED,
    TaskState.DISPATCHED,
    TaskState.ACCEPTED,
    TaskState.SENT_BACK,
    TaskState.HANDLED,
    TaskState.RETURNED,
]


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
    """The filtered list as an xlsx workbook."""
    _form, qs = _filtered(request)
    return _attachment(
        task_export_xlsx(qs[:EXPORT_LIMIT]),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _export_name("xlsx"),
    )


@manager_required
@require_GET
def task_export_csv_view(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV (UTF-8 with BOM)."""
    _form, qs = _filtered(request)
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
        "actions": _actions(request, task),
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
        problems = "; ".join(str(e) for errors in form.errors.values() for e in errors)
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
    with its feedback: note, answers, photo count and check-in distance."""
    feedback = Prefetch(
        "events",
        queryset=TaskEvent.objects.filter(action=TaskAction.SUBMIT_FEEDBACK).order_by("-at"),
        to_attr="feedback_events",
    )
    tasks = list(
        task_list_visible_to(request.user, state=TaskState.HANDLED)
        .select_related("target_household", "target_place")
        .prefetch_related(feedback)
        .order_by(F("handled_at").asc(nulls_first=True), "number")[:QUEUE_LIMIT]
    )
    for task in tasks:
        events = task.feedback_events  # type: ignore[attr-defined]
        task.feedback = events[0] if events else None  # type: ignore[attr-defined]
        task.target_label = task_target_label(task)  # type: ignore[attr-defined]
    context = {"tasks": tasks, "note_form": NoteForm(), "reason_form": ReasonForm()}
    return render(request, "web/manage/verify.html", context)
