"""Directives on the manager pages: the list with progress, issuing to chosen areas, the
detail by community and grid — all scoped to the user's areas, with pinned query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridgov.tasks.choices import TaskSource, TaskState
from gridgov.tasks.directives import directive_issue
from gridgov.tasks.models import Directive, Task
from gridgov.tasks.tests.factories import TaskStreet
from gridgov.web.tests.conftest import NOW

LIST = "/manage/directives/"
NEW = "/manage/directives/new/"


def issue(street: TaskStreet, *areas: str, title: str = "防汛排查") -> Directive:
    return directive_issue(
        actor=street["zhou"],
        title=title,
        instruction="排查地下车库积水隐患",
        task_type=street.types["patrol"],
        deadline=NOW + dt.timedelta(days=2),
        areas=[street[a] for a in areas],
    )


def form(street: TaskStreet, *areas: str, key: str = "d-1", **extra: Any) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "title": "燃气安全排查",
        "instruction": "逐户检查燃气软管",
        "task_type": str(street.types["patrol"].pk),
        "deadline": "2025-06-06T17:30",
        "priority": "high",
        "areas": [str(street[a].pk) for a in areas],
        **extra,
    }


@pytest.mark.django_db
def test_the_list_shows_progress_in_the_users_areas(login: Any, street: TaskStreet) -> None:
    directive = issue(street, "street")
    tasks = {t.area.code: t for t in directive.tasks.select_related("area")}
    assert len(tasks) == 4
    Task.objects.filter(pk=tasks[street["g11"].code].pk).update(
        state=TaskState.CLOSED, closed_at=NOW
    )
    Task.objects.filter(pk=tasks[street["g12"].code].pk).update(
        deadline=NOW - dt.timedelta(hours=1)
    )

    whole = login("zhou").get(LIST)
    assert whole.status_code == 200
    [row] = list(whole.context["page"])
    assert (row.progress["closed"], row.progress["total"], row.progress["overdue"]) == (1, 4, 1)
    assert row.progress["rate"] == 25
    per_community = [(c["community"], c["closed"], c["total"]) for c in row.communities]
    assert per_community == [(street["c1"].code, 1, 2), (street["c2"].code, 0, 2)]

    # The community admin of c1 sees the two tasks of her community only.
    lin = login("lin").get(LIST)
    [mine] = list(lin.context["page"])
    assert (mine.progress["closed"], mine.progress["total"]) == (1, 2)
    assert lin.context["can_issue"] is True
    # A grid leader reads the list but may not issue.
    assert login("wu").get(LIST).context["can_issue"] is False
    assert login("wu").get(NEW).status_code == 403


@pytest.mark.django_db
def test_a_directive_of_another_community_is_invisible(login: Any, street: TaskStreet) -> None:
    directive = issue(street, "c2")
    assert list(login("lin").get(LIST).context["page"]) == []
    assert login("lin").get(f"/manage/directives/{directive.pk}/").status_code == 404
    assert login("zhou").get(f"/manage/directives/{directive.pk}/").status_code == 200


@pytest.mark.django_db
def test_the_detail_shows_progress_by_community_and_grid_scoped(
    login: Any, street: TaskStreet
) -> None:
    directive = issue(street, "street")
    page = login("zhou").get(f"/manage/directives/{directive.pk}/")
    assert page.status_code == 200
    progress = page.context["progress"]
    assert progress["issued"] == 4
    assert [c["code"] for c in page.context["communities"]] == [
        street["c1"].code,
        street["c2"].code,
    ]
    assert [c["total"] for c in page.context["communities"]] == [2, 2]
    body = page.content.decode()
    for task in directive.tasks.all():
        assert f"/manage/tasks/{task.number}/" in body

    mine = login("lin").get(f"/manage/directives/{directive.pk}/")
    assert mine.context["progress"]["issued"] == 2
    assert {r["grid_code"] for r in mine.context["progress"]["grids"]} == {
        street["g11"].code,
        street["g12"].code,
    }
    other = directive.tasks.get(area=street["g21"])
    assert other.number not in mine.content.decode()


@pytest.mark.django_db
def test_issuing_from_the_form_creates_one_task_per_grid_once(
    login: Any, street: TaskStreet
) -> None:
    client = login("lin")
    page = client.get(NEW)
    assert page.status_code == 200
    offered = {a.code for a in page.context["form"].fields["areas"].queryset}
    assert street["c1"].code in offered
    assert street["g11"].code in offered
    assert street["c2"].code not in offered  # outside her community

    first = client.post(NEW, form(street, "c1"))
    second = client.post(NEW, form(street, "c1"))  # a double submission
    assert first.status_code == second.status_code == 302
    directive = Directive.objects.get()
    assert first["Location"] == second["Location"] == f"/manage/directives/{directive.pk}/"
    assert directive.priority == "high"
    assert directive.deadline == dt.datetime(2025, 6, 6, 17, 30, tzinfo=NOW.tzinfo)
    tasks = Task.objects.filter(directive=directive)
    assert {t.area.code for t in tasks} == {street["g11"].code, street["g12"].code}
    assert {t.source for t in tasks} == {TaskSource.DIRECTIVE}
    assert {t.state for t in tasks} == {TaskState.DISPATCHED}


@pytest.mark.django_db
def test_an_area_outside_hers_or_a_past_deadline_is_refused_with_nothing_created(
    login: Any, street: TaskStreet
) -> None:
    client = login("lin")
    outside = client.post(NEW, form(street, "c2", key="d-out"))
    assert outside.status_code == 400
    assert outside.context["form"].errors["areas"]
    past = client.post(NEW, form(street, "c1", key="d-past", deadline="2025-06-01T09:00"))
    assert past.status_code == 400
    assert "2025-06-01 09:00" in " ".join(past.context["form"].non_field_errors())
    target = client.post(
        NEW, form(street, "c1", key="d-target", indicator="patrol_coverage", indicator_target="")
    )
    assert target.status_code == 400
    assert Directive.objects.count() == 0
    assert Task.objects.count() == 0


@pytest.mark.django_db
def test_an_indicator_is_tracked_on_the_detail(login: Any, street: TaskStreet) -> None:
    client = login("zhou")
    posted = client.post(
        NEW,
        form(
            street,
            "c1",
            key="d-ind",
            indicator="patrol_coverage",
            indicator_target="95",
            period_start="2025-06-01",
            period_end="2025-06-30",
        ),
    )
    assert posted.status_code == 302
    page = client.get(posted["Location"])
    indicator = page.context["progress"]["indicator"]
    assert indicator["name"] == "patrol_coverage"
    assert indicator["target"] == 95
    assert "已走访户数 / 网格内户数 · 目标 95.00%" in page.content.decode()


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


#: Session, user, memberships, unread count, verify badge, alarms badge (iot), count, page,
#: areas, progress per community, the communities' names.
LIST_QUERIES = 11


@pytest.mark.django_db
def test_the_pages_query_counts_do_not_grow(login: Any, street: TaskStreet) -> None:
    client = login("zhou")
    first = issue(street, "c1", title="一")
    few = _queries(client, LIST)
    detail = _queries(client, f"/manage/directives/{first.pk}/")
    for n in range(5):
        issue(street, "street", title=f"批次{n}")
    big = issue(street, "street", title="全街道")
    assert _queries(client, LIST) == few == LIST_QUERIES
    assert _queries(client, f"/manage/directives/{big.pk}/") == detail


@pytest.mark.django_db
def test_the_progress_exports_to_csv_and_xlsx_in_the_users_areas(
    login: Any, street: TaskStreet
) -> None:
    import csv
    import io

    import openpyxl

    directive = issue(street, "street")
    page = login("lin").get(f"/manage/directives/{directive.pk}/").content.decode()
    assert f"/manage/directives/{directive.pk}/export.csv" in page
    answer = login("lin").get(f"/manage/directives/{directive.pk}/export.csv")
    assert answer.status_code == 200
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    mine = {t.number for t in directive.tasks.filter(area__code__startswith=street["c1"].code)}
    assert {row[2] for row in table[1:]} == mine  # lin's community only
    xlsx = login("zhou").get(f"/manage/directives/{directive.pk}/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet.max_row == 1 + directive.tasks.count()
