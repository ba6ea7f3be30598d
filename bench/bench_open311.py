"""Residents' reports over Open311: a POST through the whole GeoReport v2 stack against the
task engine's own ``task_create`` of the same report, and GET requests (1,000 answered)
against reading the same rows with ``values()`` and ``json.dumps``.

Fixture: the test street (``tasks.tests.factories.make_task_street``: 2 communities × 2
grids, lon 120.00–120.04, lat 30.00–30.01) with type 8801 public and its six-datatype
report fields, one api key. Ours (POST): ``POST /open311/v2/requests.json`` through the
Django test client — throttle, key check, parsing, validation of every field, duplicate
search, ``task_create``, the request row, the JSON answer. Baseline: ``task_create``
(``resident_report``, same type and points, duplicate search included) called directly.
Points are random over the street, so some reports are duplicates on both sides. GET: the
default 90-day window answering ``GRIDGOV_OPEN311_REQUESTS_LIMIT`` (1,000) requests, best
of 5, against ``values()`` of the same fields of the same 1,000 rows plus ``json.dumps``.

``DATABASE_URL=postgres://…/gridgov_bench_open311 python -m bench.bench_open311``;
``POSTS=…`` resizes it.
"""

from __future__ import annotations

import json
import os
import random
import time

from bench import emit, progress, setup_django

POSTS = int(os.environ.get("POSTS", "300"))
REPEAT = 5


def main() -> None:
    setup_django("bench_open311")
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.GRIDGOV_OPEN311_THROTTLE_PER_IP = 0  # off: the benchmark is one client
    settings.GRIDGOV_OPEN311_THROTTLE_PER_KEY = 0
    settings.ALLOWED_HOSTS = ["testserver"]

    import factory.random

    from gridgov.open311.services import api_key_create
    from gridgov.open311.tests.conftest import REPORT_FIELDS
    from gridgov.tasks.models import Task
    from gridgov.tasks.services import task_create
    from gridgov.tasks.tests.factories import make_task_street

    factory.random.reseed_random("bench-open311")
    progress("bench_open311: building the street …")
    street = make_task_street()
    service = street.types["patrol"]
    service.public = True
    service.report_fields = REPORT_FIELDS
    service.save()
    _key, raw = api_key_create(name="bench")
    rng = random.Random(311)
    points = [
        (rng.uniform(120.0005, 120.0395), rng.uniform(30.0005, 30.0095)) for _ in range(POSTS)
    ]

    progress(f"bench_open311: baseline, {POSTS} task_create calls …")
    started = time.perf_counter()
    for lon, lat in points:
        task_create(
            actor=None,
            source="resident_report",
            task_type=service,
            lon=lon,
            lat=lat,
            title="Street light out",
            description="The street light at the gate is out.",
        )
    baseline = POSTS / (time.perf_counter() - started)

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    progress(f"bench_open311: ours, {POSTS} POST requests.json …")
    started = time.perf_counter()
    for lon, lat in points:
        answer = client.post(
            "/open311/v2/requests.json",
            {
                "api_key": raw,
                "service_code": service.code,
                "lat": lat,
                "long": lon,
                "description": "The street light at the gate is out.",
                "attribute[where_exactly]": "North gate",
                "attribute[danger]": "no",
                "attribute[kinds][]": ["light", "cover"],
                "attribute[seen_at]": "2026-11-29T20:00:00+08:00",
                "phone": "13812345678",
            },
        )
        if answer.status_code != 201:
            raise SystemExit(
                f"bench_open311: POST answered {answer.status_code}: {answer.content!r}"
            )
    ours = POSTS / (time.perf_counter() - started)
    emit("open311_post_request", ours, "requests/s", baseline=baseline, goal=">= 0.5")

    progress("bench_open311: GET requests.json …")
    extra = max(0, settings.GRIDGOV_OPEN311_REQUESTS_LIMIT - POSTS)
    for i in range(extra):  # fill up to the limit with reports far from each other
        lon, lat = 120.0005 + (i % 90) * 0.00043, 30.0005 + (i // 90) * 0.0008
        client.post(
            "/open311/v2/requests.json",
            {
                "api_key": raw,
                "service_code": service.code,
                "lat": lat,
                "long": lon,
                "attribute[where_exactly]": "x",
                "attribute[danger]": "no",
            },
        )
    best = float("inf")
    count = len(client.get("/open311/v2/requests.json").json())
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get("/open311/v2/requests.json")
        best = min(best, time.perf_counter() - started)
    fields = (
        "number",
        "state",
        "task_type__code",
        "description",
        "created_at",
        "deadline",
        "lon",
        "lat",
    )
    plain = float("inf")
    for _ in range(REPEAT):
        started = time.perf_counter()
        rows = list(
            Task.objects.filter(service_request__isnull=False)
            .order_by("-created_at")
            .values(*fields)[:count]
        )
        json.dumps(rows, default=str)
        plain = min(plain, time.perf_counter() - started)
    emit(
        "open311_get_requests",
        best * 1000,
        "ms",
        baseline=plain * 1000,
        ratio=plain / best,
        goal="<= 1000 ms",
        requests_answered=count,
    )


if __name__ == "__main__":
    main()
