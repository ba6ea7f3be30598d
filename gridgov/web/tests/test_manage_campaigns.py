"""Campaigns on the manager pages: the list, creating a batch of slips (all or nothing,
once), the detail with progress, photos and ranking, and the exports — scoped."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from gridgov.campaigns.models import AssignmentSlip, Campaign
from gridgov.campaigns.services import campaign_issue
from gridgov.tasks.choices import TaskState
from gridgov.tasks.models import Task, TaskAttachment
from gridgov.tasks.tests.factories import TaskStreet
from gridgov.web.tests.conftest import NOW, png_bytes

LIST = "/manage/campaigns/"
NEW = "/manage/campaigns/new/"
#: A point inside each grid of the test street (WGS84 lon, lat).
POINTS = {"g11": (120.007, 30.007), "g12": (120.017, 30.007), "g21": (120.027, 30.007)}


def png(name: str = "p.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def issue(street: TaskStreet, *grids: str, month: str | None = "2025-06") -> Campaign:
    slips = [
        {"lon": POINTS[g][0], "lat": POINTS[g][1], "problem": f"{g} 乱堆放", "photo": png()}
        for g in grids
    ]
    return campaign_issue(
        actor=street["zhou"],
        title="全域共美第3批",
        task_type=street.types["patrol"],
        deadline=NOW + dt.timedelta(days=10),
        slips=slips,
        month=month,
    )


def batch_form(street: TaskStreet, slips: list[dict[str, Any]], key: str = "c-1") -> dict[str, Any]:
    data: dict[str, Any] = {
        "idempotency_key": key,
        "title": "背街小巷整治",
        "description": "",
        "task_type": str(street.types["patrol"].pk),
        "deadline": "2025-06-20T17:30",
        "month": "2025-06",
        "slip-TOTAL_FORMS": "5",
        "slip-INITIAL_FORMS": "0",
        "slip-MIN_NUM_FORMS": "0",
        "slip-MAX_NUM_FORMS": "200",
    }
    for index, slip in enumerate(slips):
        for name, value in slip.items():
            data[f"slip-{index}-{name}"] = value
    return data


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_the_list_shows_each_batchs_progress_in_the_users_areas(
    login: Any, street: TaskStreet
) -> None:
    campaign = issue(street, "g11", "g12", "g21")
    slip = campaign.slips.get(area=street["g11"])
    Task.objects.filter(pk=slip.task_id).update(state=TaskState.CLOSED, closed_at=NOW)
    whole = login("zhou").get(LIST)
    [row] = list(whole.context["page"])
    assert (row.progress["closed"], row.progress["total"]) == (1, 3)
    mine = login("lin").get(LIST)
    [row] = list(mine.context["page"])
    assert (row.progress["closed"], row.progress["total"], row.progress["rate"]) == (1, 2, 50)
    assert login("chen").get(LIST).status_code == 403


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_the_detail_has_progress_photos_ranking_and_task_links(
    login: Any, street: TaskStreet
) -> None:
    campaign = issue(street, "g11", "g12", "g21")
    slip = campaign.slips.get(area=street["g11"])
    event = slip.task.events.first()
    for kind in ("before", "after", "after"):
        TaskAttachment.objects.create(
            task=slip.task,
            event=event,
            file="x.png",
            content_type="image/png",
            size=1,
            sha256="0" * 64,
            kind=kind,
        )
    page = login("lin").get(f"/manage/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    progress = page.context["progress"]
    assert progress["slips"] == 2  # her community's two slips
    assert [c["code"] for c in progress["communities"]] == [street["c1"].code]
    counts = {s.area.code: (s.before, s.after) for s in page.context["slips"]}
    assert counts == {street["g11"].code: (1, 2), street["g12"].code: (0, 0)}
    body = page.content.decode()
    assert f"/manage/tasks/{slip.task.number}/" in body
    other = campaign.slips.get(area=street["g21"])
    assert other.task.number not in body
    ranking = page.context["ranking"]
    assert {r["code"] for r in ranking} == {
        street["c1"].code,
        street["g11"].code,
        street["g12"].code,
    }
    # Ranks are among every area of the month (c2 is ranked too, but not shown to her).
    assert all(r["rank"] >= 1 for r in ranking)
    assert login("zhao").get(f"/manage/campaigns/{campaign.pk}/").status_code == 403


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_a_campaign_outside_the_users_areas_is_a_404(login: Any, street: TaskStreet) -> None:
    campaign = issue(street, "g21")
    assert login("lin").get(f"/manage/campaigns/{campaign.pk}/").status_code == 404
    assert login("lin").get(f"/manage/campaigns/{campaign.pk}/export.csv").status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_the_exports_are_the_slip_table(login: Any, street: TaskStreet) -> None:
    campaign = issue(street, "g11", "g12")
    client = login("zhou")
    response = client.get(f"/manage/campaigns/{campaign.pk}/export.csv")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "交办单"
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    assert rows[1][3] == "g11 乱堆放"
    book = client.get(f"/manage/campaigns/{campaign.pk}/export.xlsx")
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    # A real Excel datetime, local and naive (Excel has no time zones).
    local = dt.datetime(2025, 6, 13, 10, 0, tzinfo=NOW.tzinfo).replace(tzinfo=None)
    assert sheet.cell(row=2, column=7).value == local
    english = client.get(f"/en/manage/campaigns/{campaign.pk}/export.csv")
    assert english.content.decode("utf-8-sig").startswith("Slip,Grid")


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_creating_a_batch_from_the_form_once(login: Any, street: TaskStreet) -> None:
    client = login("lin")
    assert client.get(NEW).status_code == 200
    slips = [
        {"problem": "占道经营", "lon": "120.007", "lat": "30.007", "photo": png("a.png")},
        {"problem": "垃圾满溢", "place": str(street.places["shop"].pk), "photo": png("b.png")},
    ]
    first = client.post(NEW, batch_form(street, slips))
    assert first.status_code == 302, first.context and first.context["formset"].errors
    campaign = Campaign.objects.get()
    assert first["Location"] == f"/manage/campaigns/{campaign.pk}/"
    assert campaign.month == dt.date(2025, 6, 1)
    assert [(s.number, s.area.code) for s in campaign.slips.order_by("number")] == [
        (1, street["g11"].code),
        (2, street["g12"].code),
    ]
    slips = [
        {"problem": "占道经营", "lon": "120.007", "lat": "30.007", "photo": png("a.png")},
        {"problem": "垃圾满溢", "place": str(street.places["shop"].pk), "photo": png("b.png")},
    ]
    again = client.post(NEW, batch_form(street, slips))
    assert again["Location"] == first["Location"]
    assert Campaign.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_a_bad_slip_refuses_the_batch_with_its_problem_under_its_row(
    login: Any, street: TaskStreet
) -> None:
    client = login("lin")
    slips = [
        {"problem": "占道经营", "lon": "120.007", "lat": "30.007", "photo": png("a.png")},
        {"problem": "", "lon": "120.017", "lat": "30.007", "photo": png("b.png")},
        {"problem": "外社区", "lon": "120.027", "lat": "30.007", "photo": png("c.png")},
    ]
    response = client.post(NEW, batch_form(street, slips, key="c-bad"))
    assert response.status_code == 400
    forms = response.context["formset"].forms
    assert not forms[0].non_field_errors()
    assert forms[1].non_field_errors()  # no problem described
    assert Campaign.objects.count() == AssignmentSlip.objects.count() == Task.objects.count() == 0

    outside = [{"problem": "外社区", "lon": "120.027", "lat": "30.007", "photo": png("c.png")}]
    refused = client.post(NEW, batch_form(street, outside, key="c-out"))
    assert refused.status_code == 400
    assert refused.context["formset"].forms[0].non_field_errors()
    assert Campaign.objects.count() == 0


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_the_query_counts_do_not_grow(login: Any, street: TaskStreet) -> None:
    client = login("zhou")
    small = issue(street, "g11")
    list_few = _queries(client, LIST)
    detail_few = _queries(client, f"/manage/campaigns/{small.pk}/")
    for _ in range(3):
        issue(street, "g11", "g12", "g21")
    big = issue(street, "g11", "g12", "g21", "g11", "g12")
    assert _queries(client, LIST) == list_few
    assert _queries(client, f"/manage/campaigns/{big.pk}/") == detail_few
