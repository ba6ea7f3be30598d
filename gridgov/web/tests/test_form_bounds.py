"""Bounds of the feedback's number answers, and a report outside the reporter's grid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gridgov.catalog.choices import FormFieldType
from gridgov.tasks.models import Task
from gridgov.tasks.tests.factories import TaskStreet
from gridgov.web.forms import FeedbackForm, answer_field

MINUTES = {"name": "minutes", "label_zh": "用时", "type": FormFieldType.NUMBER.value}


def _clean(value: str, spec: dict[str, Any] = MINUTES) -> tuple[bool, Any]:
    form = FeedbackForm({"idempotency_key": "k", "a_minutes": value}, form_fields=[spec])
    ok = form.is_valid()
    return ok, form.cleaned_data.get("a_minutes") if ok else form.errors["a_minutes"]


@pytest.mark.parametrize(
    "value", ["1e400", "-5", "inf", "NaN", "-0.5", "10000000000", "1.23456", "1e9"]
)
def test_a_number_answer_refuses_huge_negative_and_non_finite_values(value: str) -> None:
    ok, _errors = _clean(value)
    assert not ok


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", Decimal(0)),
        ("15", Decimal(15)),
        ("2.5", Decimal("2.5")),
        ("999999999", Decimal(999999999)),
    ],
)
def test_a_number_answer_takes_ordinary_values(value: str, expected: Decimal) -> None:
    assert _clean(value) == (True, expected)


def test_a_spec_may_allow_negative_numbers_and_set_a_maximum() -> None:
    spec = {**MINUTES, "min": -40, "max": 60}
    assert _clean("-5", spec) == (True, Decimal(-5))
    assert not _clean("-41", spec)[0]
    assert not _clean("61", spec)[0]
    field = answer_field(MINUTES)
    assert field.widget.attrs["min"] == Decimal(0)


def test_a_report_outside_the_workers_grid_says_so_at_the_location(
    login: Any, street: TaskStreet
) -> None:
    form = {
        "idempotency_key": "r-out",
        "task_type": str(street.types["patrol"].pk),
        "title": "井盖缺失",
        "note": "路口东侧",
        "lon": "120.015",  # grid g12, li's; chen works in g11
        "lat": "30.005",
    }
    response = login("chen").post("/report/", form)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["lon"]
    message = errors["lon"][0]
    assert street["g12"].name in message
    assert "不在你负责的网格内" in message
    assert "chen" not in message
    page = response.content.decode()
    # Everything entered is still on the page.
    assert "井盖缺失" in page
    assert "路口东侧" in page
    assert 'value="120.015"' in page
    assert not Task.objects.exists()

    english = login("chen").post("/en/report/", {**form, "idempotency_key": "r-out-2"})
    assert "outside the grids you work in" in english.content.decode()
