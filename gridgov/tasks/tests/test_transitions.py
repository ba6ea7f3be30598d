"""Every transition service: what it does, and every refusal (role, area, state)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridgov.core.errors import Conflict, PermissionDenied, ValidationFailed
from gridgov.notifications.models import Notification
from gridgov.people.choices import Role
from gridgov.people.tests.factories import DepartmentFactory, MembershipFactory, UserFactory
from gridgov.tasks import services
from gridgov.tasks.choices import ExtensionStatus, TaskAction, TaskSource, TaskState
from gridgov.tasks.models import Task, TaskEvent
from gridgov.tasks.tests.factories import TaskStreet, make_task

SH = ZoneInfo("Asia/Shanghai")
#: Monday 2025-06-09 10:00, an ordinary working day.
NOW = dt.datetime(2025, 6, 9, 10, 0, tzinfo=SH)
S = TaskState

#: Pseudo-states of the tables below: an accepted task with a flag set.
SUSPENDED = "accepted+suspended"
REQUESTED = "accepted+extension_requested"


def make(
    street: TaskStreet,
    state: str,
    *,
    area: str = "g11",
    assignee: str | None = "chen",
    type_key: str = "patrol",
    **fields: Any,
) -> Task:
    """A task of ``type_key`` in ``area`` in ``state`` (or a pseudo-state), without a rule."""
    if state == SUSPENDED:
        fields.update(suspended_at=NOW - dt.timedelta(hours=1), suspension_reason="待协调")
        state = S.ACCEPTED
    elif state == REQUESTED:
        fields.update(
            extension_status=ExtensionStatus.REQUESTED,
            extension_requested_until=NOW + dt.timedelta(days=10),
        )
        state = S.ACCEPTED
    if state in (S.REPORTED, S.REGISTERED, S.SENT_BACK, S.REJECTED):
        assignee = None
    return make_task(
        area=street[area],
        task_type=street.types[type_key],
        state=state,
        assignee=street[assignee] if assignee else None,
        deadline=NOW + dt.timedelta(days=3),
        **fields,
    )


def call(name: str, street: TaskStreet, actor: Any, task: Task, **overrides: Any) -> Task:
    """Run service ``name`` with sensible arguments (``overrides`` replace them)."""
    common: dict[str, Any] = {"actor": actor, "task": task, "now": NOW}
    calls: dict[str, Callable[..., Task]] = {
        "register": services.task_register,
        "reject": services.task_reject,
        "dispatch": services.task_dispatch,
        "accept": services.task_accept,
        "send_back": services.task_send_back,
        "submit_feedback": services.task_submit_feedback,
        "verify_pass": services.task_verify,
        "verify_fail": services.task_verify,
        "transfer": services.task_transfer,
        "cancel": services.task_cancel,
        "suspend": services.task_suspend,
        "resume": services.task_resume,
        "extension_request": services.task_extension_request,
        "extension_decide": services.task_extension_decide,
    }
    extra: dict[str, dict[str, Any]] = {
        "reject": {"reason": "不属于网格事项"},
        "send_back": {"reason": "不是本网格的事"},
        "submit_feedback": {
            "note": "已处理",
            "lon": None,
            "lat": None,
            "answers": {},
            "photos": [],
        },
        "verify_pass": {"passed": True},
        "verify_fail": {"passed": False, "note": "照片不清楚"},
        "transfer": {"area": street["g12"], "note": "属地调整"},
        "cancel": {"reason": "重复上报"},
        "suspend": {"reason": "需区级部门协调"},
        "extension_request": {"until": NOW + dt.timedelta(days=10), "reason": "等待配件"},
        "extension_decide": {"approve": True},
    }
    return calls[name](**{**common, **extra.get(name, {}), **overrides})


def snapshot(task: Task) -> tuple[Any, ...]:
    fresh = Task.objects.get(pk=task.pk)
    return (fresh.state, fresh.assignee_id, fresh.suspended_at, fresh.extension_status)


# --- what each transition does -------------------------------------------------------------

HAPPY = [
    # (service, from state, actor, expected state)
    ("register", S.REPORTED, "wu", S.REGISTERED),
    ("reject", S.REPORTED, "lin", S.REJECTED),
    ("dispatch", S.REGISTERED, "wu", S.DISPATCHED),
    ("dispatch", S.SENT_BACK, "zhou", S.DISPATCHED),
    ("accept", S.DISPATCHED, "chen", S.ACCEPTED),
    ("send_back", S.DISPATCHED, "chen", S.SENT_BACK),
    ("submit_feedback", S.ACCEPTED, "chen", S.HANDLED),
    ("submit_feedback", S.RETURNED, "chen", S.HANDLED),
    ("verify_pass", S.HANDLED, "wu", S.CLOSED),
    ("verify_fail", S.HANDLED, "lin", S.RETURNED),
    ("transfer", S.DISPATCHED, "zhou", S.DISPATCHED),
    ("transfer", S.ACCEPTED, "lin", S.DISPATCHED),
    ("transfer", S.SENT_BACK, "wu", S.DISPATCHED),
    ("transfer", S.RETURNED, "zhou", S.DISPATCHED),
    *[("cancel", state, "wu", S.CANCELLED) for state in sorted(services.OPEN_STATES)],
    ("suspend", S.ACCEPTED, "wu", S.ACCEPTED),
    ("resume", SUSPENDED, "lin", S.ACCEPTED),
    ("extension_request", S.ACCEPTED, "chen", S.ACCEPTED),
    ("extension_decide", REQUESTED, "zhou", S.ACCEPTED),
    # The system (actor None) may do anything.
    ("register", S.REPORTED, None, S.REGISTERED),
    ("accept", S.DISPATCHED, None, S.ACCEPTED),
    ("verify_pass", S.HANDLED, None, S.CLOSED),
]


@pytest.mark.parametrize(("name", "state", "actor", "expected"), HAPPY)
def test_each_transition_moves_the_task_and_writes_one_timeline_row(
    street: TaskStreet, name: str, state: str, actor: str | None, expected: str
) -> None:
    task = make(street, state)
    before = task.state
    result = call(name, street, street[actor] if actor else None, task)
    assert result.state == expected
    assert Task.objects.get(pk=task.pk).state == expected
    event = TaskEvent.objects.get(task=task)
    assert event.actor == (street[actor] if actor else None)
    assert event.at == NOW
    if name in ("suspend", "resume", "extension_request", "extension_decide"):
        # A flag action: the row records no state change.
        assert (event.from_state, event.to_state) == ("", "")
    else:
        assert (event.from_state, event.to_state) == (before, expected)


REFUSALS = [
    # wrong role
    ("register", S.REPORTED, "chen", "g11", PermissionDenied),
    ("register", S.REPORTED, "nobody", "g11", PermissionDenied),
    ("reject", S.REPORTED, "pm", "m11", PermissionDenied),
    ("dispatch", S.REGISTERED, "chen", "g11", PermissionDenied),
    ("dispatch", S.REGISTERED, "he", "g11", PermissionDenied),
    ("accept", S.DISPATCHED, "chen2", "g11", PermissionDenied),
    ("accept", S.DISPATCHED, "wu", "g11", PermissionDenied),
    ("accept", S.DISPATCHED, "root", "g11", PermissionDenied),
    ("send_back", S.DISPATCHED, "wu", "g11", PermissionDenied),
    ("submit_feedback", S.ACCEPTED, "chen2", "g11", PermissionDenied),
    ("submit_feedback", S.ACCEPTED, "wu", "g11", PermissionDenied),
    ("verify_pass", S.HANDLED, "chen2", "g11", PermissionDenied),
    ("verify_pass", S.HANDLED, "he", "g11", PermissionDenied),
    ("verify_fail", S.HANDLED, "pm", "m11", PermissionDenied),
    ("transfer", S.DISPATCHED, "chen", "g11", PermissionDenied),
    ("cancel", S.DISPATCHED, "chen", "g11", PermissionDenied),
    ("suspend", S.ACCEPTED, "chen", "g11", PermissionDenied),
    ("resume", SUSPENDED, "chen", "g11", PermissionDenied),
    ("extension_request", S.ACCEPTED, "chen2", "g11", PermissionDenied),
    ("extension_request", S.ACCEPTED, "wu", "g11", PermissionDenied),
    ("extension_decide", REQUESTED, "chen", "g11", PermissionDenied),
    ("extension_decide", REQUESTED, "nobody", "g11", PermissionDenied),
    # wrong area: the task is in community 2, these people serve community 1
    ("register", S.REPORTED, "wu", "g21", PermissionDenied),
    ("reject", S.REPORTED, "lin", "g21", PermissionDenied),
    ("dispatch", S.REGISTERED, "lin", "g21", PermissionDenied),
    ("verify_pass", S.HANDLED, "wu", "g21", PermissionDenied),
    ("verify_fail", S.HANDLED, "lin", "g21", PermissionDenied),
    ("transfer", S.DISPATCHED, "lin", "g21", PermissionDenied),
    ("cancel", S.DISPATCHED, "wu", "g21", PermissionDenied),
    ("suspend", S.ACCEPTED, "lin", "g21", PermissionDenied),
    ("resume", SUSPENDED, "wu", "g21", PermissionDenied),
    ("extension_decide", REQUESTED, "lin", "g21", PermissionDenied),
    # wrong state
    ("register", S.DISPATCHED, "wu", "g11", Conflict),
    ("register", S.REGISTERED, "wu", "g11", Conflict),
    ("reject", S.REGISTERED, "wu", "g11", Conflict),
    ("dispatch", S.REPORTED, "wu", "g11", Conflict),
    ("dispatch", S.ACCEPTED, "wu", "g11", Conflict),
    ("accept", S.ACCEPTED, "chen", "g11", Conflict),
    ("accept", S.HANDLED, "chen", "g11", Conflict),
    ("accept", S.RETURNED, "chen", "g11", Conflict),
    ("send_back", S.ACCEPTED, "chen", "g11", Conflict),
    ("submit_feedback", S.DISPATCHED, "chen", "g11", Conflict),
    ("submit_feedback", S.HANDLED, "chen", "g11", Conflict),
    ("verify_pass", S.ACCEPTED, "wu", "g11", Conflict),
    ("verify_fail", S.CLOSED, "wu", "g11", Conflict),
    ("transfer", S.HANDLED, "zhou", "g11", Conflict),
    ("transfer", S.REPORTED, "zhou", "g11", Conflict),
    ("transfer", S.CLOSED, "zhou", "g11", Conflict),
    ("cancel", S.CLOSED, "wu", "g11", Conflict),
    ("cancel", S.REJECTED, "wu", "g11", Conflict),
    ("cancel", S.CANCELLED, "wu", "g11", Conflict),
    ("suspend", S.CLOSED, "wu", "g11", Conflict),
    ("suspend", SUSPENDED, "wu", "g11", Conflict),
    ("resume", S.ACCEPTED, "wu", "g11", Conflict),
    ("extension_request", S.CLOSED, "chen", "g11", Conflict),
    ("extension_request", REQUESTED, "chen", "g11", Conflict),
    ("extension_decide", S.ACCEPTED, "wu", "g11", Conflict),
]


@pytest.mark.parametrize(("name", "state", "actor", "area", "error"), REFUSALS)
def test_each_refusal_changes_nothing(
    street: TaskStreet, name: str, state: str, actor: str, area: str, error: type[Exception]
) -> None:
    assignee = {"g21": "zhao", "m11": "chen"}.get(area, "chen")
    task = make(street, state, area=area, assignee=assignee)
    before = snapshot(task)
    with pytest.raises(error) as caught:
        call(name, street, street[actor], task)
    if error is Conflict:
        assert caught.value.code == "state_conflict"
    assert snapshot(task) == before
    assert not TaskEvent.objects.filter(task=task).exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("reject", {"reason": "  "}, "reason is required"),
        ("send_back", {"reason": ""}, "reason is required"),
        ("verify_fail", {"note": ""}, "reason is required"),
        ("transfer", {"note": ""}, "reason is required"),
        ("cancel", {"reason": ""}, "reason is required"),
        ("suspend", {"reason": ""}, "reason is required"),
        ("extension_request", {"reason": ""}, "reason is required"),
        ("extension_decide", {"approve": False, "note": ""}, "reason is required"),
        ("accept", {"lon": 120.0}, "both longitude and latitude"),
    ],
)
def test_reasons_are_required(
    street: TaskStreet, name: str, overrides: dict[str, Any], message: str
) -> None:
    state = {
        "reject": S.REPORTED,
        "send_back": S.DISPATCHED,
        "verify_fail": S.HANDLED,
        "transfer": S.DISPATCHED,
        "cancel": S.DISPATCHED,
        "suspend": S.ACCEPTED,
        "extension_request": S.ACCEPTED,
        "extension_decide": REQUESTED,
        "accept": S.DISPATCHED,
    }[name]
    actor = "chen" if name in ("send_back", "extension_request", "accept") else "zhou"
    task = make(street, state)
    with pytest.raises(ValidationFailed, match=message):
        call(name, street, street[actor], task, **overrides)
    assert not TaskEvent.objects.filter(task=task).exists()


# --- the whole loop ---------------------------------------------------------------------------


def test_the_closed_loop_from_report_to_close(street: TaskStreet, settings: Any) -> None:
    settings.GRIDGOV_WORKER_REPORT_AUTO_REGISTER = False  # the dispatcher registers it
    li, wu = street["li"], street["wu"]
    task = services.task_create(
        actor=li,
        source=TaskSource.WORKER_REPORT,
        task_type=street.types["patrol"],
        area=street["g12"],
        title="路灯不亮",
        reporter=li,
        now=NOW,
    )
    task = services.task_register(actor=wu, task=task, now=NOW + dt.timedelta(minutes=5))
    task = services.task_dispatch(actor=wu, task=task, now=NOW + dt.timedelta(minutes=10))
    assert task.assignee == li  # g12's grid worker
    # The "quick" rule's 4 working hours count from dispatch: 10:10 → 12:00 (1 h 50) and
    # 13:30 + 2 h 10 → 15:40.
    assert task.deadline == dt.datetime(2025, 6, 9, 15, 40, tzinfo=SH)
    task = services.task_accept(actor=li, task=task, now=NOW + dt.timedelta(minutes=20))
    task = services.task_submit_feedback(
        actor=li,
        task=task,
        note="已报修",
        lon=None,
        lat=None,
        answers={},
        photos=[],
        now=NOW + dt.timedelta(hours=2),
    )
    task = services.task_verify(actor=wu, task=task, passed=True, now=NOW + dt.timedelta(hours=3))
    assert task.state == S.CLOSED
    assert [
        (e.action, e.from_state, e.to_state, e.actor_id) for e in task.events.order_by("at", "id")
    ] == [
        (TaskAction.CREATE, "", S.REPORTED, li.pk),
        (TaskAction.REGISTER, S.REPORTED, S.REGISTERED, wu.pk),
        (TaskAction.DISPATCH, S.REGISTERED, S.DISPATCHED, wu.pk),
        (TaskAction.ACCEPT, S.DISPATCHED, S.ACCEPTED, li.pk),
        (TaskAction.SUBMIT_FEEDBACK, S.ACCEPTED, S.HANDLED, li.pk),
        (TaskAction.VERIFY_PASS, S.HANDLED, S.CLOSED, wu.pk),
    ]
    assert (task.registered_at, task.dispatched_at, task.accepted_at) == (
        NOW + dt.timedelta(minutes=5),
        NOW + dt.timedelta(minutes=10),
        NOW + dt.timedelta(minutes=20),
    )
    assert (task.handled_at, task.closed_at) == (
        NOW + dt.timedelta(hours=2),
        NOW + dt.timedelta(hours=3),
    )
    # The assignee heard of the dispatch, the verifiers of c1 of the feedback, the reporter
    # of the close.
    assert set(Notification.objects.values_list("recipient__username", "kind")) == {
        ("li", "task_dispatched"),
        ("wu", "task_handled"),
        ("lin", "task_handled"),
        ("li", "task_closed"),
    }


# --- dispatch, send back ---------------------------------------------------------------------


def test_dispatch_to_a_given_assignee_or_department(street: TaskStreet) -> None:
    task = make(street, S.REGISTERED)
    task = services.task_dispatch(actor=street["wu"], task=task, assignee=street["chen2"], now=NOW)
    assert (task.assignee, task.department, task.needs_attention) == (street["chen2"], None, False)
    other = make(street, S.REGISTERED)
    other = services.task_dispatch(
        actor=street["wu"], task=other, department=street.department, now=NOW
    )
    assert (other.assignee, other.department) == (None, street.department)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"assignee": "li"}, "has no role in"),  # li works in g12, the task is in g11
        ({"assignee": "chen", "department": True}, "not both"),
        ({"department": "inactive"}, "is not active"),
    ],
)
def test_dispatch_refuses_an_assignee_or_department_that_does_not_fit(
    street: TaskStreet, kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {}
    if "assignee" in kwargs:
        args["assignee"] = street[kwargs["assignee"]]
    if kwargs.get("department") is True:
        args["department"] = street.department
    elif kwargs.get("department") == "inactive":
        args["department"] = DepartmentFactory(code="closed_dept", is_active=False)
    task = make(street, S.REGISTERED)
    with pytest.raises(ValidationFailed, match=message):
        services.task_dispatch(actor=street["wu"], task=task, now=NOW, **args)
    assert Task.objects.get(pk=task.pk).state == S.REGISTERED


def test_send_back_clears_the_assignee_and_tells_the_dispatcher(street: TaskStreet) -> None:
    task = make(street, S.REGISTERED)
    task = services.task_dispatch(actor=street["lin"], task=task, now=NOW)
    task = services.task_send_back(actor=task.assignee, task=task, reason="不是本网格的事", now=NOW)
    assert (task.state, task.assignee, task.department, task.needs_attention) == (
        S.SENT_BACK,
        None,
        None,
        True,
    )
    assert Notification.objects.filter(recipient=street["lin"], kind="task_sent_back").exists()
    # Re-dispatched, it is ready for someone else.
    task = services.task_dispatch(actor=street["lin"], task=task, assignee=street["chen2"], now=NOW)
    assert (task.state, task.assignee, task.needs_attention) == (
        S.DISPATCHED,
        street["chen2"],
        False,
    )


def test_a_system_dispatched_task_sent_back_goes_to_the_grid_leaders(street: TaskStreet) -> None:
    task = services.task_create(
        actor=None,
        source=TaskSource.ROUTINE,
        task_type=street.types["patrol"],
        rule=street.rules["patrol"],
        area=street["g11"],
        title="巡查",
        now=NOW,
    )
    services.task_send_back(actor=task.assignee, task=task, reason="调岗", now=NOW)
    assert Notification.objects.filter(recipient=street["wu"], kind="task_sent_back").exists()


def test_a_department_handler_takes_a_task_from_the_queue(street: TaskStreet) -> None:
    task = make(street, S.DISPATCHED, assignee=None, type_key="enforcement")
    Task.objects.filter(pk=task.pk).update(department=street.department)
    outsider = UserFactory(username="market")
    MembershipFactory(
        user=outsider,
        area=street["street"],
        role=Role.DEPARTMENT_HANDLER,
        department=DepartmentFactory(code="market", area=street["street"]),
    )
    with pytest.raises(PermissionDenied):
        services.task_accept(actor=outsider, task=task, now=NOW)
    task = services.task_accept(actor=street["he"], task=task, now=NOW)
    assert (task.state, task.assignee, task.department) == (
        S.ACCEPTED,
        street["he"],
        street.department,
    )


# --- verification ---------------------------------------------------------------------------


def test_a_failed_verification_counts_rework_and_tells_the_assignee(street: TaskStreet) -> None:
    task = make(street, S.HANDLED)
    task = services.task_verify(
        actor=street["wu"], task=task, passed=False, note="垃圾未清运", now=NOW
    )
    assert (task.state, task.rework_count) == (S.RETURNED, 1)
    assert Notification.objects.filter(recipient=street["chen"], kind="task_returned").exists()
    task = call("submit_feedback", street, street["chen"], task)
    task = services.task_verify(actor=street["lin"], task=task, passed=False, note="仍有", now=NOW)
    assert task.rework_count == 2
    assert task.events.filter(action=TaskAction.VERIFY_FAIL).count() == 2


def test_nobody_verifies_their_own_work(street: TaskStreet) -> None:
    # A task from the grid leader's queue, handled by the grid leader himself.
    task = make(street, S.HANDLED, assignee="wu")
    with pytest.raises(PermissionDenied, match="may not verify"):
        services.task_verify(actor=street["wu"], task=task, passed=True, now=NOW)
    assert services.task_verify(actor=street["lin"], task=task, passed=True, now=NOW).state == (
        S.CLOSED
    )


# --- transfer -----------------------------------------------------------------------------------


def test_transfer_to_another_grid_routes_there(street: TaskStreet) -> None:
    task = make(street, S.ACCEPTED)
    task = services.task_transfer(actor=street["zhou"], task=task, area=street["g21"], note="越界")
    assert (task.state, task.area, task.assignee) == (S.DISPATCHED, street["g21"], street["zhao"])
    assert task.accepted_at is None
    event = task.events.get(action=TaskAction.TRANSFER)
    assert event.data["from"]["area"] == street["g11"].code
    assert event.data["to"]["assignee"] == street["zhao"].pk
    assert Notification.objects.filter(recipient=street["zhao"], kind="task_transferred").exists()


def test_transfer_to_a_worker_or_a_department(street: TaskStreet) -> None:
    task = make(street, S.DISPATCHED)
    task = services.task_transfer(
        actor=street["wu"], task=task, assignee=street["chen2"], note="换人", now=NOW
    )
    assert (task.area, task.assignee) == (street["g11"], street["chen2"])
    task = services.task_transfer(
        actor=street["wu"], task=task, department=street.department, note="执法事项", now=NOW
    )
    assert (task.assignee, task.department) == (None, street.department)
    assert Notification.objects.filter(recipient=street["he"], kind="task_transferred").exists()


@pytest.mark.parametrize(
    ("actor", "kwargs", "error"),
    [
        ("wu", {"area": "g21"}, PermissionDenied),  # the new area is outside wu's community
        ("wu", {"assignee": "li"}, ValidationFailed),  # li has no role in g11
        ("zhou", {"area": "c2"}, ValidationFailed),  # not a grid
        ("zhou", {}, ValidationFailed),  # nowhere to go
    ],
)
def test_transfer_refusals(
    street: TaskStreet, actor: str, kwargs: dict[str, str], error: type[Exception]
) -> None:
    task = make(street, S.DISPATCHED)
    args = {key: street[value] for key, value in kwargs.items()}
    with pytest.raises(error):
        services.task_transfer(actor=street[actor], task=task, note="调整", now=NOW, **args)
    assert snapshot(task) == (S.DISPATCHED, street["chen"].pk, None, "")


# --- suspension ---------------------------------------------------------------------------------


def test_resume_adds_the_suspended_working_time_to_a_working_day_deadline(
    street: TaskStreet,
) -> None:
    thursday_end = dt.datetime(2025, 6, 12, 17, 30, tzinfo=SH)
    task = make(street, S.ACCEPTED, rule=street.rules["patrol"])  # 3 work_day
    Task.objects.filter(pk=task.pk).update(deadline=thursday_end, deadline_original=thursday_end)
    services.task_suspend(actor=street["wu"], task=task, reason="等待区级协调", now=NOW)
    # Suspended Monday 10:00 → Wednesday 10:00: 6 + 7.5 + 1.5 = 15 working hours.
    resumed = services.task_resume(
        actor=street["wu"], task=task, now=dt.datetime(2025, 6, 11, 10, 0, tzinfo=SH)
    )
    # Thursday 17:30 + 15 h: Friday's 7.5 h and Monday's 7.5 h → Monday 17:30.
    assert resumed.deadline == dt.datetime(2025, 6, 16, 17, 30, tzinfo=SH)
    assert resumed.deadline_original == thursday_end
    assert (resumed.suspended_at, resumed.suspension_reason) == (None, "")
    assert resumed.yellow_at is not None
    assert resumed.yellow_at < resumed.deadline
    event = resumed.events.get(action=TaskAction.RESUME)
    assert event.data["deadline_before"] == thursday_end.isoformat()


def test_a_weekend_suspension_costs_no_working_time(street: TaskStreet) -> None:
    task = make(street, S.ACCEPTED, rule=street.rules["patrol"])
    deadline = task.deadline
    friday = dt.datetime(2025, 6, 13, 17, 0, tzinfo=SH)
    services.task_suspend(actor=street["wu"], task=task, reason="周末", now=friday)
    monday = dt.datetime(2025, 6, 16, 9, 0, tzinfo=SH)
    resumed = services.task_resume(actor=street["wu"], task=task, now=monday)
    # Friday 17:00–17:30 and Monday 08:30–09:00: one working hour.
    assert services.working_time_between(deadline, resumed.deadline) == dt.timedelta(hours=1)


def test_resume_adds_elapsed_time_for_natural_units_and_clears_overdue(
    street: TaskStreet,
) -> None:
    task = make(street, S.ACCEPTED, is_overdue=True, overdue_at=NOW)
    deadline = task.deadline
    services.task_suspend(actor=street["wu"], task=task, reason="挂账", now=NOW)
    later = NOW + dt.timedelta(days=5)
    resumed = services.task_resume(actor=street["wu"], task=task, now=later)
    assert resumed.deadline == deadline + dt.timedelta(days=5)
    assert (resumed.is_overdue, resumed.overdue_at) == (False, None)


# --- extension --------------------------------------------------------------------------------


def test_an_approved_extension_moves_the_deadline_and_keeps_the_original(
    street: TaskStreet,
) -> None:
    task = make(street, S.ACCEPTED)
    original = task.deadline
    until = NOW + dt.timedelta(days=10)
    task = services.task_extension_request(
        actor=street["chen"], task=task, until=until, reason="等待配件", now=NOW
    )
    assert (task.extension_status, task.extension_requested_until) == (
        ExtensionStatus.REQUESTED,
        until,
    )
    assert Notification.objects.filter(kind="task_extension_requested").exists()
    task = services.task_extension_decide(actor=street["lin"], task=task, approve=True, now=NOW)
    assert (task.deadline, task.deadline_original, task.extension_count) == (until, original, 1)
    assert task.extension_status == ExtensionStatus.APPROVED
    # 80% of dispatch (2025-06-02 09:00) → until, in elapsed time.
    assert task.yellow_at == task.dispatched_at + (until - task.dispatched_at) * 0.8
    assert Notification.objects.filter(
        recipient=street["chen"], kind="task_extension_decided"
    ).exists()


def test_a_refused_extension_keeps_the_deadline(street: TaskStreet) -> None:
    task = make(street, REQUESTED)
    deadline = task.deadline
    task = services.task_extension_decide(
        actor=street["wu"], task=task, approve=False, note="理由不充分", now=NOW
    )
    assert (task.deadline, task.extension_status, task.extension_count) == (
        deadline,
        ExtensionStatus.REJECTED,
        0,
    )


def test_the_requester_does_not_decide_their_own_extension(street: TaskStreet) -> None:
    task = make(street, S.ACCEPTED, assignee="wu")
    services.task_extension_request(
        actor=street["wu"], task=task, until=NOW + dt.timedelta(days=9), reason="人手不足", now=NOW
    )
    with pytest.raises(PermissionDenied, match="may not decide"):
        services.task_extension_decide(actor=street["wu"], task=task, approve=True, now=NOW)


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (NOW - dt.timedelta(hours=1), "in the past"),
        (NOW + dt.timedelta(days=1), "not after the current one"),
        (dt.datetime(2025, 7, 1), "time zone"),  # noqa: DTZ001 - the point of the test
    ],
)
def test_an_extension_must_be_later(street: TaskStreet, until: dt.datetime, message: str) -> None:
    task = make(street, S.ACCEPTED)
    with pytest.raises(ValidationFailed, match=message):
        services.task_extension_request(
            actor=street["chen"], task=task, until=until, reason="原因", now=NOW
        )


@pytest.mark.parametrize(
    ("name", "actor"),
    [
        ("submit_feedback", "chen"),
        ("transfer", "zhou"),
        ("extension_request", "chen"),
    ],
)
def test_a_suspended_task_waits_for_its_resume(street: TaskStreet, name: str, actor: str) -> None:
    task = make(street, SUSPENDED)
    before = snapshot(task)
    with pytest.raises(Conflict) as caught:
        call(name, street, street[actor], task)
    assert caught.value.code == "suspended"
    assert snapshot(task) == before
    assert not TaskEvent.objects.filter(task=task).exists()
    # Resumed, the same action goes through.
    services.task_resume(actor=street["wu"], task=task, now=NOW)
    call(name, street, street[actor], task)
    assert TaskEvent.objects.filter(task=task).count() == 2
