"""Bounds of the manager forms (``web.forms_manage``): ids past ``ID_MAX`` are invalid
choices, not a 500 (SQLite's INTEGER overflows past 2^63); a directive's or a batch's
deadline lies within ``core.calendar.DEADLINE_HORIZON_DAYS``; a batch's month in
1970–9998."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from gridgov.areas.models import Area
from gridgov.campaigns.models import Campaign
from gridgov.tasks.models import Directive, Task
from gridgov.tasks.tests.factories import TaskStreet
from gridgov.web.forms_manage import CampaignForm, DirectiveForm, DispatchForm, TaskFilterForm
from gridgov.web.tests.test_manage_campaigns import NEW as NEW_CAMPAIGN
from gridgov.web.tests.test_manage_campaigns import POINTS, batch_form, png
from gridgov.web.tests.test_manage_directives import NEW as NEW_DIRECTIVE
from gridgov.web.tests.test_manage_directives import form as directive_form

AREAS = Area.objects.all()
HUGE = ["99999999999999999999", str(2**53 + 1), "-99999999999999999999", "0"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", HUGE)
def test_a_directive_with_an_area_id_past_the_range_is_refused(
    login: Any, street: TaskStreet, value: str
) -> None:
    data = directive_form(street, "c1", key="d-huge") | {"areas": [str(street["c1"].pk), value]}
    response = login("zhou").post(NEW_DIRECTIVE, data)
    assert response.status_code == 400
    assert response.context["form"].errors["areas"]
    assert Directive.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("value", HUGE)
def test_every_model_choice_refuses_an_id_past_the_range(street: TaskStreet, value: str) -> None:
    directive = DirectiveForm(directive_form(street, "c1") | {"task_type": value}, areas=AREAS)
    assert not directive.is_valid()
    assert directive.errors["task_type"]
    campaign = CampaignForm({"title": "t", "task_type": value, "deadline": "2025-06-20T17:30"})
    assert not campaign.is_valid()
    assert campaign.errors["task_type"]
    dispatch = DispatchForm(
        {"idempotency_key": "k", "assignee": value},
        workers=get_user_model().objects.all(),
    )
    assert not dispatch.is_valid()
    assert dispatch.errors["assignee"]
    filters = TaskFilterForm({"task_type": value}, user=street["zhou"])
    assert not filters.is_valid()
    assert filters.errors["task_type"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("deadline", "message"),
    [
        ("9999-12-31T23:59", "9998"),  # outside the years 1970–9998
        ("9998-12-31T23:59", "366"),  # more than 366 days ahead
        ("2026-06-05T10:00", "366"),  # the clock is 2025-06-03 10:00
    ],
)
def test_a_directive_deadline_far_ahead_is_refused(
    login: Any, street: TaskStreet, deadline: str, message: str
) -> None:
    data = directive_form(street, "c1", key="d-far", deadline=deadline)
    response = login("zhou").post(NEW_DIRECTIVE, data)
    assert response.status_code == 400
    [error] = response.context["form"].errors.as_data()["deadline"]
    assert error.code == "deadline"
    assert message in " ".join(error.messages)
    assert Directive.objects.count() == 0
    assert Task.objects.count() == 0


@pytest.mark.django_db
def test_a_directive_deadline_a_year_ahead_is_taken(login: Any, street: TaskStreet) -> None:
    data = directive_form(street, "c1", key="d-year", deadline="2026-06-03T10:00")
    response = login("zhou").post(NEW_DIRECTIVE, data)
    assert response.status_code == 302
    assert Directive.objects.get().deadline.year == 2026


def _slip_batch(street: TaskStreet, **extra: str) -> dict[str, Any]:
    lon, lat = POINTS["g11"]
    slip = {"problem": "乱堆放", "lon": str(lon), "lat": str(lat), "photo": png()}
    return batch_form(street, [slip], key="c-bounds") | extra


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("month", "1969-12", "9998"),  # the years 1970–9998
        ("month", "9999-12", "9998"),
        ("deadline", "9999-12-31T23:59", "9998"),
        ("deadline", "2027-01-01T09:00", "366"),  # more than 366 days ahead
    ],
)
def test_a_batch_month_or_deadline_out_of_range_is_refused(
    login: Any, street: TaskStreet, field: str, value: str, message: str
) -> None:
    response = login("zhou").post(NEW_CAMPAIGN, _slip_batch(street, **{field: value}))
    assert response.status_code == 400
    [error] = response.context["form"].errors.as_data()[field]
    assert error.code == field
    assert message in " ".join(error.messages)
    assert Campaign.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("month", ["1970-01", "9998-12", ""])
def test_a_batch_month_in_range_is_taken(login: Any, street: TaskStreet, month: str) -> None:
    response = login("zhou").post(NEW_CAMPAIGN, _slip_batch(street, month=month))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (f"{campaign.month:%Y-%m}" if campaign.month else "") == month
