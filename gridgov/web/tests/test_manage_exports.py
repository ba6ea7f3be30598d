"""Exports of the manager's task list: xlsx and CSV, scoped and filtered like the list."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from gridgov.tasks.choices import TaskState
from gridgov.tasks.tests.factories import TaskStreet, make_task
from gridgov.web.tests.conftest import NOW

DEADLINE = dt.datetime(2025, 6, 5, 17, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def tasks(street: TaskStreet) -> list[Any]:
    patrol = street.types["patrol"]
    return [
        make_task(
            area=street["g11"],
            task_type=patrol,
            assignee=street["chen"],
            title="井盖缺失",
            deadline=DEADLINE,
        ),
        make_task(
            area=street["g12"],
            task_type=patrol,
            state=TaskState.HANDLED,
            assignee=street["li"],
            title="垃圾堆放",
            deadline=NOW + dt.timedelta(days=1),
        ),
        make_task(area=street["g21"], task_type=patrol, title="别的社区"),
    ]


@pytest.mark.django_db
def test_the_xlsx_has_a_chinese_header_and_real_local_datetimes(
    login: Any, tasks: list[Any]
) -> None:
    response = login("lin").get("/manage/tasks/export.xlsx", {"state": "dispatched"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "标题", "区域")
    assert len(rows) == 2  # the header and the one dispatched task of her community
    number, title, area, assignee, state, light, deadline, _created = rows[1]
    first = tasks[0]
    assert (number, title, area, state) == (first.number, "井盖缺失", first.area.name, "已派遣")
    assert assignee == (first.assignee.get_full_name() or first.assignee.username)
    assert light == "绿灯"
    assert deadline == DEADLINE.replace(tzinfo=None)  # local time, as Excel shows it
    assert sheet.column_dimensions["B"].width == 40


@pytest.mark.django_db
def test_the_csv_is_utf8_with_bom_and_scoped(login: Any, tasks: list[Any]) -> None:
    response = login("lin").get("/manage/tasks/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "编号"
    titles = {row[1] for row in rows[1:]}
    assert titles == {"井盖缺失", "垃圾堆放"}  # not the other community's task
    row = next(r for r in rows if r[1] == "井盖缺失")
    assert row[6] == "2025-06-05 17:30"


@pytest.mark.django_db
def test_the_header_follows_the_language(login: Any, tasks: list[Any]) -> None:
    response = login("lin").get("/en/manage/tasks/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Number", "Title"]
