"""The web pages: thin callers of the task engine's selectors and services.

Every page is scoped by ``tasks.selectors.task_list_visible_to``: a task outside the
user's areas is a 404, whatever its number. Actions POST to views that call one service
with ``actor=request.user`` and the idempotency key the page was rendered with; the
services' errors (``core.errors``) come back as messages, never as a server error.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.messages.storage.base import BaseStorage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gridgov.areas.models import Area
from gridgov.core.errors import GridgovError, PermissionDenied, ValidationFailed
from gridgov.notifications.selectors import notification_list_for
from gridgov.notifications.services import notification_mark_read
from gridgov.people.masking import mask_name, mask_phone
from gridgov.people.models import Household
from gridgov.people.rules import NAME, PHONE
from gridgov.people.selectors import user_holds_role, user_reveal_classes
from gridgov.people.services import household_reveal, resident_reveal
from gridgov.tasks.choices import TaskSource
from gridgov.tasks.models import Task, TaskAttachment
from gridgov.tasks.selectors import task_list_visible_to, task_timeline, task_traffic_light
from gridgov.tasks.services import (
    DISPATCHER_ROLES,
    task_accept,
    task_create,
    task_extension_request,
    task_send_back,
    task_submit_feedback,
)
from gridgov.web.forms import (
    ExtensionForm,
    FeedbackForm,
    IdempotentForm,
    PhoneRevealForm,
    ReportForm,
    SendBackForm,
    feedback_problems_apply,
)
from gridgov.web.selectors import (
    manager_attention_for,
    task_actions_for,
    task_groups_by_light,
    task_list_todo_for,
    task_map_point,
    task_target_label,
    user_has_task_list,
)

#: Notifications shown on the inbox page (newest first).
INBOX_LIMIT = 100


def _task_or_404(request: HttpRequest, number: str) -> Task:
    """The task numbered ``number`` if the user may see it, else 404 (no difference between
    "does not exist" and "not yours", so numbers do not leak)."""
    task = (
        task_list_visible_to(request.user)
        .select_related("rule", "target_household", "target_place", "task_type__category")
        .filter(number=number)
        .first()
    )
    if task is None:
        raise Http404(_("No such task."))
    return task


def _error_message(request: HttpRequest, error: GridgovError) -> None:
    messages.error(request, error.message)


#: Request header the page script (``static/web/app.js``, ``form[data-resilient]``) sends
#: when it posts a form with ``fetch``; see ``_done``.
FETCH_HEADER = "X-Gridgov-Form"


def _success_once(request: HttpRequest, text: str) -> None:
    """Add the success message ``text`` unless the same one is already waiting to be shown.

    A retry after a lost answer is replayed by the service (same idempotency key); the
    first, lost, answer already queued the message, so it would otherwise show twice.
    Pending messages are read without consuming them (``storage.used = False``, as the
    Django documentation on message expiration describes)."""
    storage = messages.get_messages(request)
    pending = [str(message) for message in storage]
    if isinstance(storage, BaseStorage):
        storage.used = False
    if text not in pending:
        messages.success(request, text)


def _done(request: HttpRequest, url: str) -> HttpResponse:
    """The answer to a form sent successfully: a redirect to ``url`` for a plain browser
    POST; for the page script (header ``X-Gridgov-Form: fetch``) a JSON body
    ``{"redirect": url}`` with status 200, so that the script, not ``fetch`` itself, loads
    the next page (``fetch`` would follow a redirect and eat its one-time messages)."""
    if request.headers.get(FETCH_HEADER) == "fetch":
        return JsonResponse({"redirect": url})
    return redirect(url)


# --- home ------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The user's home: the today list of a grid worker or a department handler (the tasks
    they may act on, ``task_list_todo_for``); for other roles, links onward."""
    if not user_has_task_list(request.user):
        context: dict[str, Any] = {}
        if user_holds_role(request.user, DISPATCHER_ROLES):
            context["attention"] = manager_attention_for(request.user, now=timezone.now())
        return render(request, "web/home.html", context)
    now = timezone.now()
    tasks = list(task_list_todo_for(request.user, now=now))
    for task in tasks:
        task.target_label = task_target_label(task)  # type: ignore[attr-defined]
    context = {"groups": task_groups_by_light(tasks), "total": len(tasks), "now": now}
    return render(request, "web/today.html", context)


# --- one task --------------------------------------------------------------------------


def _phone_rows(household: Household) -> list[dict[str, str]]:
    """The household's phone and its residents' (and their emergency contacts'), masked:
    ``{"who", "phone"}`` rows, blank numbers left out."""
    rows: list[dict[str, str]] = []
    if household.phone:
        rows.append({"who": str(_("Household")), "phone": mask_phone(household.phone)})
    for r in household.residents.all():
        if r.phone:
            rows.append({"who": mask_name(r.name), "phone": mask_phone(r.phone)})
        if r.emergency_contact_phone:
            who = _("%(name)s's emergency contact %(contact)s") % {
                "name": mask_name(r.name),
                "contact": mask_name(r.emergency_contact_name),
            }
            rows.append({"who": who, "phone": mask_phone(r.emergency_contact_phone)})
    return rows


def _may_reveal_phones(request: HttpRequest, task: Task) -> bool:
    """Whether the page offers "show phone numbers": a target household and a role that
    may reveal phones in its area (``people.selectors.user_reveal_classes``)."""
    household = task.target_household
    return household is not None and PHONE in user_reveal_classes(request.user, household.area)


def _task_page(
    request: HttpRequest,
    task: Task,
    *,
    phones: list[dict[str, str]] | None = None,
    phone_form: PhoneRevealForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the task page; ``phones``: revealed numbers to show (then never cached)."""
    task.target_label = task_target_label(task)  # type: ignore[attr-defined]
    household = task.target_household
    context = {
        "task": task,
        "light": task_traffic_light(task),
        "point": task_map_point(task),
        "rule": task.rule,
        "timeline": list(task_timeline(task)),
        "actions": task_actions_for(request.user, task),
        "accept_form": IdempotentForm(),
        "send_back_form": SendBackForm(),
        "extension_form": ExtensionForm(),
        "masked_phones": _phone_rows(household) if household is not None else [],
        "may_reveal": _may_reveal_phones(request, task),
        "phone_form": phone_form or PhoneRevealForm(initial={"purpose": _purpose(task)}),
        "phones": phones,
    }
    response = render(request, "web/task_detail.html", context, status=status)
    if phones is not None:
        response["Cache-Control"] = "no-store"
    return response


def _purpose(task: Task) -> str:
    """The reason offered for a reveal (the worker may change it)."""
    if task.source == TaskSource.ALARM:
        return str(_("Alarm call (task %(number)s)") % {"number": task.number})
    return str(_("Contact about task %(number)s") % {"number": task.number})


@login_required
@require_GET
def task_detail(request: HttpRequest, number: str) -> HttpResponse:
    """What, where, the rule's evidence, the timeline and the actions of one task."""
    return _task_page(request, _task_or_404(request, number))


@login_required
@require_POST
def task_phones_view(request: HttpRequest, number: str) -> HttpResponse:
    """Reveal the phone numbers of the task's target household (its phone, each resident's
    and emergency contact's, with names when the role may see them) through
    ``people.services.household_reveal`` / ``resident_reveal``: one ``PersonalDataAccess``
    row per record read, with the given purpose and ``context="task:<number>"``.

    Answers the task page with the numbers as ``tel:`` links (200, ``no-store``); 400 without
    a purpose; 403 (the page with the masked numbers and a message) when the role may not
    reveal phones there; 404 for a task the user may not see or without a household."""
    task = _task_or_404(request, number)
    household = task.target_household
    if household is None:
        raise Http404(_("This task has no household."))
    form = PhoneRevealForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, phone_form=form, status=400)
    purpose = form.cleaned_data["purpose"]
    context = f"task:{task.number}"
    ip = request.META.get("REMOTE_ADDR")
    names = NAME in user_reveal_classes(request.user, household.area)
    phones: list[dict[str, str]] = []
    try:
        if household.phone:
            got = household_reveal(
                actor=request.user,
                household=household,
                fields=["phone"],
                purpose=purpose,
                context=context,
                ip_address=ip,
            )
            phones.append({"who": str(_("Household")), "phone": got["phone"]})
        for r in household.residents.all():
            fields = [f for f in ("phone", "emergency_contact_phone") if getattr(r, f)]
            if not fields:
                continue
            if names:
                fields.append("name")
                if r.emergency_contact_name:
                    fields.append("emergency_contact_name")
            got = resident_reveal(
                actor=request.user,
                resident=r,
                fields=fields,
                purpose=purpose,
                context=context,
                ip_address=ip,
            )
            name = got.get("name") or mask_name(r.name)
            if got.get("phone"):
                phones.append({"who": name, "phone": got["phone"]})
            if got.get("emergency_contact_phone"):
                contact = got.get("emergency_contact_name") or mask_name(r.emergency_contact_name)
                who = _("%(name)s's emergency contact %(contact)s") % {
                    "name": name,
                    "contact": contact,
                }
                phones.append({"who": who, "phone": got["emergency_contact_phone"]})
    except PermissionDenied as error:
        _error_message(request, error)
        return _task_page(request, task, status=403)
    except ValidationFailed as error:
        form.add_error("purpose", error.message)
        return _task_page(request, task, phone_form=form, status=400)
    return _task_page(request, task, phones=phones)


@login_required
@require_POST
def task_accept_view(request: HttpRequest, number: str) -> HttpResponse:
    task = _task_or_404(request, number)
    form = IdempotentForm(request.POST)
    if form.is_valid():
        try:
            task_accept(
                actor=request.user,
                task=task,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except GridgovError as error:
            _error_message(request, error)
        else:
            messages.success(request, _("Task accepted."))
    return redirect("web:task", number=task.number)


@login_required
@require_POST
def task_send_back_view(request: HttpRequest, number: str) -> HttpResponse:
    task = _task_or_404(request, number)
    form = SendBackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason to send the task back."))
        return redirect("web:task", number=task.number)
    try:
        task_send_back(
            actor=request.user,
            task=task,
            reason=form.cleaned_data["reason"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except GridgovError as error:
        _error_message(request, error)
        return redirect("web:task", number=task.number)
    messages.success(request, _("Task %(number)s sent back.") % {"number": task.number})
    return redirect("web:home")


@login_required
@require_POST
def task_extension_view(request: HttpRequest, number: str) -> HttpResponse:
    task = _task_or_404(request, number)
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the new deadline and a reason."))
        return redirect("web:task", number=task.number)
    try:
        task_extension_request(
            actor=request.user,
            task=task,
            until=form.until_datetime(),
            reason=form.cleaned_data["reason"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except GridgovError as error:
        _error_message(request, error)
    else:
        messages.success(request, _("Extension requested."))
    return redirect("web:task", number=task.number)


@login_required
def task_feedback(request: HttpRequest, number: str) -> HttpResponse:
    """The feedback form (回单): note, photos, location, the rule's questions."""
    task = _task_or_404(request, number)
    fields: list[dict[str, Any]] = list(task.rule.form_fields) if task.rule else []
    if request.method == "POST":
        form = FeedbackForm(request.POST, request.FILES, form_fields=fields)
        if form.is_valid():
            try:
                task_submit_feedback(
                    actor=request.user,
                    task=task,
                    note=form.cleaned_data["note"],
                    lon=form.cleaned_data["lon"],
                    lat=form.cleaned_data["lat"],
                    answers=form.answers(),
                    photos=form.cleaned_data["photos"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except ValidationFailed as error:
                problems = (error.details or {}).get("problems") if error.details else None
                if problems:
                    feedback_problems_apply(form, problems)
                else:
                    form.add_error(None, error.message)
            except GridgovError as error:
                _error_message(request, error)
                return _done(request, reverse("web:task", kwargs={"number": task.number}))
            else:
                _success_once(
                    request, _("Feedback on task %(number)s sent.") % {"number": task.number}
                )
                # The page then clears the draft the browser kept of this form.
                url = reverse("web:task", kwargs={"number": task.number})
                return _done(request, f"{url}?draft=feedback-{task.number}")
        # Failed: the same page with what was typed (400). The page script keeps the chosen
        # photos; after a plain browser POST they must be chosen again.
        status = 400
    else:
        form = FeedbackForm(form_fields=fields)
        status = 200
    task.target_label = task_target_label(task)  # type: ignore[attr-defined]
    context = {"task": task, "rule": task.rule, "form": form, "failed": request.method == "POST"}
    return render(request, "web/task_feedback.html", context, status=status)


@login_required
@require_GET
def task_photo(request: HttpRequest, number: str, pk: int) -> FileResponse:
    """One photo of a task's timeline (``TaskAttachment`` ``pk``), served only when the user
    may see the task (``task_list_visible_to``); otherwise 404, as for the task itself.
    The response is the stored file with its checked content type, private to the browser
    (``Cache-Control: private``)."""
    task = _task_or_404(request, number)
    photo = TaskAttachment.objects.filter(task=task, pk=pk).first()
    if photo is None:
        raise Http404(_("No such photo."))
    try:
        handle = photo.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404(_("No such photo.")) from missing
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- report a problem ------------------------------------------------------------------


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """Report a problem found on patrol: it becomes a ``worker_report`` task in the loop."""
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            lon, lat = data["lon"], data["lat"]
            if lon is None or lat is None:
                form.add_error("lon", _("Your location is needed to place the report."))
            else:
                try:
                    task = task_create(
                        actor=request.user,
                        source=TaskSource.WORKER_REPORT,
                        task_type=data["task_type"],
                        lon=lon,
                        lat=lat,
                        title=data["title"] or data["task_type"].name_stored,
                        description=data["note"],
                        reporter=request.user,
                        photos=data.get("photos") or [],
                        # The same key again (a double tap) finds the task made the first time.
                        source_key=f"web-report:{data['idempotency_key']}",
                    )
                except PermissionDenied as error:
                    # The actor holds no role over the area at that point (task_create's
                    # _require_roles): say why, at the location, not who may do what.
                    form.add_error("lon", _outside_message(error))
                except GridgovError as error:
                    form.add_error(None, error.message)
                else:
                    _success_once(
                        request, _("Reported: task %(number)s.") % {"number": task.number}
                    )
                    url = reverse("web:task", kwargs={"number": task.number})
                    return _done(request, f"{url}?draft=report")
        status = 400
    else:
        form = ReportForm()
        status = 200
    return render(request, "web/report.html", {"form": form}, status=status)


def _outside_message(error: PermissionDenied) -> str:
    """The report form's message when the location lies outside the reporter's areas."""
    code = (error.details or {}).get("area")
    area = Area.objects.filter(code=code).values_list("name", flat=True).first() if code else None
    if area:
        return _(
            "This location lies in %(area)s, outside the grids you work in. "
            "Report from within your grid, or tell that grid's worker."
        ) % {"area": area}
    return _(
        "This location lies outside the grids you work in. "
        "Report from within your grid, or tell that grid's worker."
    )


# --- inbox -----------------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first; POST marks them read (all, or ``id``)."""
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
        notification_mark_read(actor=request.user, ids=ids or None)
        return redirect("web:inbox")
    items = list(notification_list_for(request.user)[:INBOX_LIMIT])
    unread = sum(1 for n in items if n.read_at is None)
    return render(request, "web/inbox.html", {"items": items, "unread": unread})
