"""Query counts of the analysis pages and the manager task list are pinned and do not
grow with the number of tasks or areas (no N+1)."""

from __future__ import annotations

from typing import Any

import pytest

from gridgov.analytics.tests.conftest import june, may, task
from gridgov.analytics.tests.test_stats_and_dashboard import login
from gridgov.areas.tests.factories import make_area
from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.tests.factories import TaskStreet

#: Page → the most queries it may take (session, user and memberships included).
PAGES = {
    "/en/dashboard/?start=2025-06-02&end=2025-06-08": 15,
    "/en/dashboard/map/?start=2025-06-02&end=2025-06-08": 12,
    "/en/dashboard/ranking/?month=2025-06&level=grid": 10,
    "/en/dashboard/hotspots/?end=2025-06-08": 14,
    "/en/manage/tasks/": 9,
}


def more_of_everything(street: TaskStreet, n: int) -> None:
    """``n`` more tasks of every kind in every grid, and a new grid with tasks."""
    shop, home = street.places["shop"], street.households["home"]
    grid = make_area(code=street["c2"].code + "009", name="新网格", parent=street["c2"])
    street.tree["g29"] = grid
    for key in ("g11", "g12", "g21", "g22", "m11", "g29"):
        for i in range(n):
            task(street, key, created=june(2 + i % 6), deadline=june(3 + i % 6),
                 source=TaskSource.RESIDENT_REPORT, target_place=shop)  # fmt: skip
            task(street, key, created=may(20 + i % 6), deadline=june(4), state=TaskState.CLOSED,
                 closed_at=june(5), target_household=home, rework_count=1)  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("url", list(PAGES))
def test_queries_do_not_grow_with_the_rows(
    street: TaskStreet, week: Any, url: str, django_assert_max_num_queries: Any
) -> None:
    client = login(street, "zhou")
    client.get(url)  # warm the caches (content types, catalogue) like a running server
    with django_assert_max_num_queries(PAGES[url]) as few:
        assert client.get(url).status_code == 200
    more_of_everything(street, 4)
    with django_assert_max_num_queries(PAGES[url]) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
