"""The command centre's pages with 1,000,000 tasks in the database, rendered through the
Django test client, against the login page (a template render with no task query).

Fixture: ``bench_stats``' district (``STREETS`` streets × 10 communities × 10 grids) and
``TASKS`` tasks over January–June 2025 (COPY on PostgreSQL), plus a command-centre user
on street 1. Each page is fetched once to warm up, then ``REPEAT`` times; the fastest
counts (full request: middleware, session, queries, template). Pages: the dashboard of
street 1 for June, the manager task list (first page, no filter — every task of the
street, by deadline — and the list behind the dashboard's "due" figure), the map, the
monthly ranking of grids and the hot spots. Goal: each under 1 s on PostgreSQL (issue 4).

``DATABASE_URL=postgres://…/gridgov_bench_pages python -m bench.bench_pages``; ``TASKS=…``
resizes it.
"""

from __future__ import annotations

import os
import time
from typing import Any

from bench import emit, progress, setup_django

REPEAT = 5


def fetch(client: Any, url: str) -> float:
    """The fastest of ``REPEAT`` GETs of ``url`` (after one to warm up), in seconds."""
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"bench_pages: {url} answered {response.status_code}")
    best = float("inf")
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get(url)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    setup_django("bench_pages")
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from bench.bench_stats import TASKS, build_fixture
    from gridgov.people.choices import Role
    from gridgov.people.models import Membership

    streets = build_fixture()
    street = streets[0]
    user = get_user_model().objects.create(username="centre", is_staff=True)
    Membership.objects.create(user=user, area=street, role=Role.COMMAND_CENTRE)
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    anonymous = Client()

    june = "start=2025-06-01&end=2025-06-30"
    baseline = fetch(anonymous, "/en/login/")
    pages = {
        "page_dashboard": f"/en/dashboard/?area={street.code}&{june}",
        "page_task_list": "/en/manage/tasks/",
        "page_task_list_due": (
            f"/en/manage/tasks/?area={street.code}&due=1&deadline_from=2025-06-01"
            "&deadline_to=2025-06-30"
        ),
        "page_map": f"/en/dashboard/map/?area={street.code}&{june}",
        "page_ranking": f"/en/dashboard/ranking/?area={street.code}&month=2025-06&level=grid",
        "page_hotspots": f"/en/dashboard/hotspots/?area={street.code}&end=2025-06-30",
    }
    goal = "< 1000 ms" if connection.vendor == "postgresql" else None
    for name, url in pages.items():
        progress(f"{name}: {url}")
        seconds = fetch(client, url)
        emit(name, seconds * 1000, "ms", baseline=baseline * 1000, goal=goal,
             db=connection.vendor, tasks=TASKS)  # fmt: skip


if __name__ == "__main__":
    main()
