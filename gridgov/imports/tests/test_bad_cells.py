"""Rows ``import-cases`` must refuse before anything is written, in dry runs and real runs
alike: a control character in any cell (``control_character``), a year outside
``YEAR_MIN…YEAR_MAX`` and a created or closed time in the future (``bad_date``); and the
mapping's hint when YAML reads an unquoted column name (``No``) as a boolean."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command

from gridgov.areas.models import Area
from gridgov.core.errors import ValidationFailed
from gridgov.imports.mapping import mapping_load, mapping_parse
from gridgov.imports.tests.conftest import HEADER
from gridgov.imports.tests.test_import import run
from gridgov.tasks.models import Task, TaskEvent, TaskNumberCounter

pytestmark = pytest.mark.django_db


def row(number: str, created: str = "2025-06-02 09:00", **cells: str) -> list[str]:
    """A good closed case in grid g12; ``cells`` by header name replace its values."""
    values = dict(
        zip(
            HEADER,
            [number, created, "2025-06-03 10:00", "", "垃圾", "已结案", "120.015", "30.007",
             "", "文三路1号"],
            strict=True,
        )
    )  # fmt: skip
    values.update(cells)
    return [values[name] for name in HEADER]


CONTROL = [
    (row("C\x00"), "编号", "U+0000"),
    (row("C2", 地址="文三\x01路"), "地址", "U+0001"),
    (row("C3", 状态="已结案\x0b"), "状态", "U+000B"),
    (row("C4", 网格编码="\x1f"), "网格编码", "U+001F"),
    (row("C5", 期限="\x7f"), "期限", "U+007F"),
]
DATES = [
    row("D1", "0001-01-01 00:00"),  # overflowed moving to UTC (OverflowError)
    row("D2", "9999-12-31 23:59"),  # beyond YEAR_MAX
    row("D3", "1969-12-31 23:59"),  # before YEAR_MIN
    row("D4", "2100-01-01 00:00", 结案时间="2100-01-02 00:00"),  # the future
    row("D5", "2025-06-10 12:01", 结案时间="2025-06-10 13:00"),  # a minute after NOW
    row("D6", 结案时间="2025-06-10 12:01"),  # created before NOW, closed after it
    row("D7", 结案时间="0001-01-01 00:00"),
    row("D8", 期限="0001-01-01T00:00:00+14:00"),  # a deadline with an offset, year 1
]
GOOD = [
    row("G1", "2025-06-10 12:00", 结案时间="2025-06-10 12:00"),  # exactly NOW
    row("G2", 期限="2030-01-01T00:00:00+08:00", 地址="多行\t地址"),  # a deadline ahead is fine
]


@pytest.fixture
def cases(write_csv: Callable[..., Path]) -> Path:
    return write_csv([r for r, _column, _name in CONTROL] + DATES + GOOD)


@pytest.mark.parametrize("dry_run", [True, False])
def test_control_characters_and_bad_dates_are_rejected_row_by_row(
    tree: dict[str, Area], catalogue: None, cases: Path, mapping_path: Path, dry_run: bool
) -> None:
    summary = run(cases, mapping_path, dry_run=dry_run)

    assert dict(summary.rejected_by_reason) == {
        "control_character": len(CONTROL),
        "bad_date": len(DATES),
    }
    assert summary.imported == len(GOOD)
    by_line = {r.line: r for r in summary.rejected_rows}
    for index, (_row, column, name) in enumerate(CONTROL):
        rejected = by_line[2 + index]
        assert rejected.reason == "control_character"
        assert column in rejected.message
        assert name in rejected.message
    messages = [r.message for r in summary.rejected_rows if r.reason == "bad_date"]
    assert "0001-01-01 00:00" in messages[0]
    assert "1970" in messages[0]
    assert "9998" in messages[1]
    assert "future" in messages[3]
    if dry_run:
        assert not Task.objects.exists()
        assert not TaskNumberCounter.objects.exists()
        return
    keys = set(Task.objects.values_list("source_key", flat=True))
    assert keys == {"import:old:G1", "import:old:G2"}
    assert Task.objects.get(source_key="import:old:G2").title == "垃圾：多行\t地址"
    texts = [
        text
        for fields in Task.objects.values_list("title", "description", "source_key")
        for text in fields
    ]
    assert not any(ch in text for text in texts for ch in "\x00\x01\x0b\x1f\x7f")
    assert TaskEvent.objects.filter(task__source_key="import:old:G1").count() == 2


def test_the_command_reports_year_one_instead_of_a_traceback(
    tree: dict[str, Area],
    catalogue: None,
    write_csv: Callable[..., Path],
    mapping_path: Path,
    tmp_path: Path,
) -> None:
    path = write_csv([row("Y1", "0001-01-01 00:00"), row("Y2", "9999-01-01 00:00"), row("Y3")])
    for dry_run in (True, False):
        out = io.StringIO()
        call_command(
            "import_cases", str(path), mapping=str(mapping_path), json=True, dry_run=dry_run,
            stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
        summary = json.loads(out.getvalue())
        assert summary["rejected_by_reason"] == {"bad_date": 2}
        assert summary["imported"] == 1
    assert Task.objects.get().source_key == "import:old:Y3"


def test_an_unquoted_no_as_a_column_name_says_to_quote_it(mapping_path: Path) -> None:
    text = mapping_path.read_text(encoding="utf-8").replace("number: 编号", "number: No")
    mapping_path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        mapping_load(path=mapping_path)
    problem = caught.value.details["problems"][0]
    assert problem.startswith("number: Input should be a valid string")
    assert "YAML read False" in problem
    assert '"No"' in problem
    with pytest.raises(ValidationFailed) as caught:
        mapping_parse({"system": "x", "number": 2017})
    assert "YAML read 2017" in caught.value.message
