"""A batch's month and deadline lie in ``core.validators.YEAR_MIN…YEAR_MAX`` (1970–9998)."""

from __future__ import annotations

import datetime as dt

import pytest

from gridgov.campaigns.services import campaign_issue, campaign_month
from gridgov.core.errors import ValidationFailed
from gridgov.tasks.tests.factories import TaskStreet


@pytest.mark.parametrize("value", ["1969-12", "9999-12", "0001-01", dt.date(1969, 12, 31)])
def test_a_month_outside_1970_to_9998_is_refused(value: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        campaign_month(value)  # type: ignore[arg-type]
    assert caught.value.details == {"month": f"{str(value)[:7]}-01"}


@pytest.mark.parametrize(
    ("value", "first"),
    [("1970-01", dt.date(1970, 1, 1)), ("9998-12", dt.date(9998, 12, 1)),
     (dt.date(2025, 6, 20), dt.date(2025, 6, 1)), ("", None), (None, None)],
)  # fmt: skip
def test_a_month_inside_the_range_is_its_first_day(value: object, first: object) -> None:
    assert campaign_month(value) == first  # type: ignore[arg-type]


@pytest.mark.django_db
def test_a_batch_refuses_a_month_or_a_deadline_past_9998(street: TaskStreet) -> None:
    now = dt.datetime(2025, 6, 3, 2, 0, tzinfo=dt.UTC)
    common = {"actor": street["zhou"], "title": "t", "task_type": street.types["patrol"]}
    slips = [{"problem": "p", "lon": 120.007, "lat": 30.007}]
    with pytest.raises(ValidationFailed) as month:
        campaign_issue(
            **common, deadline=now + dt.timedelta(days=3), month="9999-12", slips=slips, now=now
        )
    assert month.value.details == {"month": "9999-12-01"}
    far = dt.datetime(9999, 12, 31, 15, 59, tzinfo=dt.UTC)
    with pytest.raises(ValidationFailed) as deadline:
        campaign_issue(**common, deadline=far, slips=slips, now=now)
    assert deadline.value.details == {"deadline": far.isoformat()}
