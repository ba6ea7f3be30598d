"""Reads: counts, active rules, public types and when a rule's tasks fall due."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from gridgov.catalog.selectors import (
    catalog_stats,
    task_rule_list_active,
    task_rule_occurrences,
    task_type_get,
    task_type_list_public,
)
from gridgov.catalog.services import catalog_import_default
from gridgov.catalog.tests.factories import TaskRuleFactory, TaskTypeFactory
from gridgov.core.errors import NotFound, ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_active_rules_leave_out_inactive_and_negative_list_rules() -> None:
    routine = TaskRuleFactory()
    event = TaskRuleFactory(recurrence="", target_kind="none")
    TaskRuleFactory(active=False)
    TaskRuleFactory(task_type=TaskTypeFactory(negative_list=True))

    assert list(task_rule_list_active()) == sorted([routine, event], key=lambda r: r.code)
    assert list(task_rule_list_active(recurring=True)) == [routine]
    assert list(task_rule_list_active(recurring=False)) == [event]


@pytest.mark.django_db(transaction=False)
def test_active_rules_load_their_type_and_category_in_one_query(
    django_assert_num_queries: object,
) -> None:
    catalog_import_default()
    with django_assert_num_queries(1):  # type: ignore[operator]
        categories = {rule.task_type.category.code for rule in task_rule_list_active()}
    assert categories == {"01", "02", "03", "04", "05", "06"}


@pytest.mark.django_db
def test_default_catalogue_figures() -> None:
    catalog_import_default()

    assert catalog_stats() == {"categories": 6, "task_types": 60, "rules": 83}
    assert len(task_rule_list_active()) == 81  # 020902 is off by default, 0507 is not grid work
    public = [t.code for t in task_type_list_public()]
    assert "0313" in public
    assert "0507" not in public
    assert task_type_get(code="0405").category.code == "04"
    with pytest.raises(NotFound):
        task_type_get(code="9999")


@pytest.mark.django_db
def test_weekly_occurrences_fall_on_monday_at_the_start_of_the_working_day() -> None:
    rule = TaskRuleFactory(recurrence="FREQ=WEEKLY;BYDAY=MO")

    got = task_rule_occurrences(rule=rule, start=_at(2025, 6, 1), end=_at(2025, 6, 30))

    assert got == [_at(2025, 6, d, 8, 30) for d in (2, 9, 16, 23)]


@pytest.mark.django_db
def test_interval_rules_are_anchored_so_reruns_agree() -> None:
    rule = TaskRuleFactory(recurrence="FREQ=DAILY;INTERVAL=10")

    june = task_rule_occurrences(rule=rule, start=_at(2025, 6, 1), end=_at(2025, 7, 1))
    half = task_rule_occurrences(rule=rule, start=_at(2025, 6, 10), end=_at(2025, 7, 1))

    assert [d.day for d in june] == [4, 14, 24]  # 2024-01-01 + 10 n (2024 is a leap year)
    assert half == june[1:]
    assert all((b - a).days == 10 for a, b in itertools.pairwise(june))


@pytest.mark.django_db
def test_occurrences_respect_byhour_and_exclude_the_end() -> None:
    rule = TaskRuleFactory(recurrence="FREQ=DAILY;BYHOUR=18;BYMINUTE=0")

    got = task_rule_occurrences(rule=rule, start=_at(2025, 6, 1), end=_at(2025, 6, 3, 18))

    assert got == [_at(2025, 6, 1, 18), _at(2025, 6, 2, 18)]


@pytest.mark.django_db
def test_monthly_rules_give_twelve_tasks_a_year_and_event_rules_none() -> None:
    monthly = TaskRuleFactory(recurrence="FREQ=MONTHLY;BYMONTHDAY=1")
    event = TaskRuleFactory(recurrence="", target_kind="none")
    year = {"start": _at(2025, 1, 1), "end": _at(2026, 1, 1)}

    assert len(task_rule_occurrences(rule=monthly, **year)) == 12
    assert task_rule_occurrences(rule=event, **year) == []


@pytest.mark.django_db
def test_occurrences_need_aware_datetimes() -> None:
    rule = TaskRuleFactory()
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        task_rule_occurrences(
            rule=rule,
            start=dt.datetime(2025, 1, 1),  # noqa: DTZ001
            end=_at(2025, 2, 1),
        )
