"""``task_figures``: each figure on a hand-made week, a published bulletin, scope, queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from gridgov.analytics.selectors import rate, score_and_grade, task_figures
from gridgov.analytics.tests.conftest import END, NOW, START, june, task
from gridgov.core.errors import PermissionDenied, ValidationFailed
from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.models import Task
from gridgov.tasks.tests.factories import TaskStreet


@pytest.mark.django_db
def test_each_headline_figure_on_a_hand_made_week(street: TaskStreet, week: Any) -> None:
    f = task_figures(area=street["street"], start=START, end=END, now=NOW)
    assert (f["issued"], f["due"], f["closed"], f["closed_on_time"]) == (5, 4, 3, 2)
    assert (f["reworked"], f["extended"], f["overdue_open"]) == (1, 1, 1)
    assert f["closure_rate"] == Decimal("75.00")
    assert f["on_time_rate"] == Decimal("50.00")
    assert f["rework_rate"] == Decimal("25.00")
    assert f["extension_rate"] == Decimal("25.00")
    assert (f["area"], f["start"], f["end"]) == (street["street"].code, START, END)


@pytest.mark.django_db
def test_by_source_and_by_category(street: TaskStreet, week: Any) -> None:
    f = task_figures(area=street["street"], start=START, end=END, now=NOW)
    sources = {r["source"]: (r["issued"], r["due"], r["closed"], r["closure_rate"])
               for r in f["by_source"]}  # fmt: skip
    assert sources == {
        "worker_report": (4, 3, 2, Decimal("66.67")),
        "routine": (1, 1, 1, Decimal("100.00")),
    }
    assert [r["source"] for r in f["by_source"]] == ["worker_report", "routine"]
    assert [
        (r["category"], r["issued"], r["due"], r["overdue_open"]) for r in f["by_category"]
    ] == [("88", 5, 4, 1)]


@pytest.mark.django_db
def test_trend_counts_issued_and_closed_per_local_day(street: TaskStreet, week: Any) -> None:
    f = task_figures(area=street["street"], start=START, end=END, now=NOW)
    assert [(r["day"].day, r["issued"], r["closed"]) for r in f["trend"]] == [
        (2, 2, 0), (3, 2, 1), (4, 1, 0), (5, 0, 1), (6, 0, 1), (7, 0, 0), (8, 0, 0),
    ]  # fmt: skip


@pytest.mark.django_db
def test_by_area_scores_and_grades_each_community(street: TaskStreet, week: Any) -> None:
    f = task_figures(area=street["street"], start=START, end=END, now=NOW)
    rows = {r["code"]: r for r in f["by_area"]}
    c1, c2 = rows[street["c1"].code], rows[street["c2"].code]
    assert (c1["due"], c1["closed"], c1["closed_on_time"], c1["reworked"]) == (3, 2, 1, 1)
    assert (c1["closure_rate"], c1["on_time_rate"], c1["rework_rate"]) == (
        Decimal("66.67"), Decimal("33.33"), Decimal("33.33"),
    )  # fmt: skip
    # 0.5 × 66.67 + 0.3 × 33.33 + 0.2 × 66.67 = 56.668
    assert (c1["score"], c1["grade"]) == (Decimal("56.67"), "D")
    assert (c2["due"], c2["closure_rate"], c2["score"], c2["grade"]) == (
        1, Decimal("100.00"), Decimal("100.00"), "A",
    )  # fmt: skip
    # Grids of c1: g12 has c (overdue) and d (suspended): due 1, nothing closed.
    grids = task_figures(area=street["c1"], start=START, end=END, now=NOW)["by_area"]
    g12 = next(r for r in grids if r["code"] == street["g12"].code)
    assert (g12["due"], g12["closure_rate"], g12["overdue_open"], g12["grade"]) == (
        1, Decimal("0.00"), 1, "E",
    )  # fmt: skip


@pytest.mark.django_db
def test_nothing_due_gives_no_rates(street: TaskStreet) -> None:
    f = task_figures(area=street["c2"], start=START, end=END, now=NOW)
    assert f["due"] == 0
    assert f["closure_rate"] is f["on_time_rate"] is f["rework_rate"] is None
    assert all(r["score"] is None and r["grade"] is None for r in f["by_area"])


def test_grades_follow_the_glossary_thresholds() -> None:
    def grade(closure: str) -> str | None:
        return score_and_grade(
            closure_rate=Decimal(closure), on_time_rate=Decimal(closure), rework_rate=Decimal(0)
        )[1]

    # score = 0.8 × x + 20 when on-time = closure and no rework
    assert [grade(x) for x in ("87.5", "87.49", "68.75", "50", "25", "24.99")] == [
        "A", "B", "B", "C", "D", "E",
    ]  # fmt: skip
    assert rate(1, 3) == Decimal("33.33")
    assert rate(2, 3) == Decimal("66.67")


@pytest.mark.django_db
def test_it_reproduces_a_published_bulletin(street: TaskStreet) -> None:
    """972 due, 911 closed, 737 of them on time → 93.72% and 75.82%."""
    area, patrol = street["g11"], street.types["patrol"]
    created, deadline = june(2), june(5)
    tasks = []
    for n in range(972):
        if n < 737:
            fields = {"state": TaskState.CLOSED, "closed_at": june(4)}
        elif n < 911:
            fields = {"state": TaskState.CLOSED, "closed_at": june(6)}
        else:
            fields = {"state": TaskState.DISPATCHED}
        tasks.append(Task(number=f"B{n:06d}", source=TaskSource.ROUTINE, task_type=patrol,
                          area=area, title="bulletin", deadline=deadline, **fields))  # fmt: skip
    Task.objects.bulk_create(tasks, batch_size=500)
    Task.objects.filter(number__startswith="B").update(created_at=created)
    f = task_figures(area=street["street"], start=START, end=END, now=NOW)
    assert (f["due"], f["closed"], f["closed_on_time"]) == (972, 911, 737)
    assert f["closure_rate"] == Decimal("93.72")
    assert f["on_time_rate"] == Decimal("75.82")
    assert f["issued"] == 972
    assert f["overdue_open"] == 61


@pytest.mark.django_db
def test_a_community_admin_counts_only_her_community(street: TaskStreet, week: Any) -> None:
    lin = street["lin"]  # community admin of c1
    f = task_figures(user=lin, start=START, end=END, now=NOW)
    assert (f["issued"], f["due"], f["closed"], f["overdue_open"]) == (4, 3, 2, 1)
    assert task_figures(user=street["zhou"], start=START, end=END, now=NOW)["due"] == 4
    with pytest.raises(PermissionDenied, match=street["c2"].code):
        task_figures(user=lin, area=street["c2"], start=START, end=END, now=NOW)


@pytest.mark.django_db
def test_a_period_ending_before_it_starts_is_refused(street: TaskStreet) -> None:
    with pytest.raises(ValidationFailed, match="before it starts"):
        task_figures(start=END, end=START)


@pytest.mark.django_db
def test_the_number_of_queries_is_fixed(
    street: TaskStreet, week: Any, django_assert_num_queries: Any
) -> None:
    zhou = street["zhou"]
    task_figures(user=zhou, start=START, end=END, now=NOW)  # memberships cached on the user
    # areas in scope, child areas, the grouped counts ×2, categories, trend ×2
    with django_assert_num_queries(7):
        task_figures(user=zhou, area=street["street"], start=START, end=END, now=NOW)
    task(street, "g22", created=june(3), deadline=june(4))
    with django_assert_num_queries(7):
        task_figures(user=zhou, area=street["street"], start=START, end=END, now=NOW)


@pytest.mark.django_db
def test_the_trend_counts_a_late_closure_of_an_older_task(street: TaskStreet, week: Any) -> None:
    """Created and due in May, closed on June 3rd at 00:30 local (May 2nd 16:30 UTC)."""
    from gridgov.analytics.tests.conftest import may

    late = june(3, 0).replace(minute=30)
    task(street, "g22", created=may(20), deadline=may(25), state=TaskState.CLOSED, closed_at=late)
    f = task_figures(area=street["street"], start=START, end=END, now=NOW)
    assert [(r["day"].day, r["closed"]) for r in f["trend"]][:3] == [(2, 0), (3, 2), (4, 0)]
    assert (f["issued"], f["due"]) == (5, 4)  # neither issued nor due in the week
