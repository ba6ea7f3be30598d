"""A directive's indicator period over the API lies in the years 1970–9998 (``Day``)."""

from __future__ import annotations

import pytest

from gridgov.api.tests.helpers import bearer_client, envelope, ok
from gridgov.tasks.models import Directive
from gridgov.tasks.tests.factories import TaskStreet
from gridgov.tasks.tests.test_api_directives import issue


@pytest.mark.parametrize(
    ("field", "value"),
    [("period_start", "0001-01-01"), ("period_start", "1969-12-31"), ("period_end", "9999-12-31")],
)
def test_an_indicator_period_outside_the_years_is_refused(
    street: TaskStreet, field: str, value: str
) -> None:
    period = {"period_start": "2099-06-01", "period_end": "2099-06-30"} | {field: value}
    body = {"indicator": "patrol_coverage", "indicator_target": "95", **period}
    error = envelope(issue(bearer_client(street["zhou"]), street, **body), 422)
    assert error["details"][0]["loc"] == ["body", "payload", field]
    assert not Directive.objects.exists()


def test_an_indicator_period_of_1970_is_taken(street: TaskStreet) -> None:
    body = {
        "indicator": "patrol_coverage",
        "indicator_target": "95",
        "period_start": "1970-01-01",
        "period_end": "2099-06-30",
    }
    directive = ok(issue(bearer_client(street["zhou"]), street, **body), 201)
    assert directive["indicator"] == "patrol_coverage"
