"""``cases_import`` and ``gridgov import-cases`` on a small synthetic export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gridgov.areas.models import Area
from gridgov.core.errors import ValidationFailed
from gridgov.imports import services
from gridgov.imports.mapping import mapping_load
from gridgov.imports.services import ImportSummary, cases_import
from gridgov.imports.tests.conftest import HEADER
from gridgov.notifications.models import Notification
from gridgov.tasks.models import Task, TaskEvent, TaskNumberCounter

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")

# 编号, 上报时间, 结案时间, 期限, 类别, 状态, 经度, 纬度, 网格编码, 地址
GOOD = [
    # closed, located in grid g12
    ["A1", "2025-06-02 09:00", "2025-06-03 10:00", "2025-06-03T17:30:00+08:00", "垃圾",
     "已结案", "120.015", "30.007", "", "文三路1号"],
    # cancelled, in micro-grid m11 (the deepest area wins)
    ["A2", "2025-06-02 10:00", "2025-06-02 11:00", "", "涂鸦", "已作废", "120.002",
     "30.002", "", "文三路2号"],
    # open, no coordinates: the fallback code names grid g21
    ["A3", "2025-06-03 08:00", "", "2025-06-01T12:00:00", "路灯", "处理中", "", "",
     "330106004002001", "文三路3号"],
    # rejected, coordinates outside every area: the fallback code names g22
    ["A4", "2025-06-03 09:00", "2025-06-03 09:30", "", "垃圾", "不予受理", "121.5", "31.2",
     "330106004002002", "文三路4号"],
    # closed "00:00" on its created day (a date-only closed time): moved to the created time
    ["A5", "2025-06-04 15:00", "2025-06-04 00:00", "", "涂鸦", "已结案", "120.015",
     "30.007", "", "文三路5号"],
]  # fmt: skip
BAD = [
    (["B1", "2025-13-01 09:00", "", "", "垃圾", "处理中", "120.015", "30.007", "", ""], "bad_date"),
    (["B2", "2025-06-02 09:00", "", "", "噪音", "处理中", "120.015", "30.007", "", ""],
     "unknown_type"),
    (["B3", "2025-06-02 09:00", "", "", "垃圾", "处理中", "", "", "", ""], "no_location"),
    (["B4", "2025-06-02 09:00", "", "", "垃圾", "处理中", "121.5", "31.2", "", ""],
     "outside_areas"),
    (["B5", "2025-06-02 09:00", "", "", "垃圾", "处理中", "", "", "999", ""], "unknown_area"),
    (["A1", "2025-06-02 09:00", "", "", "垃圾", "处理中", "120.015", "30.007", "", ""],
     "duplicate_number"),
    (["B7", "2025-06-02 09:00", "", "", "垃圾", "挂起", "120.015", "30.007", "", ""],
     "unknown_status"),
    (["B8", "2025-06-02 09:00", "", "", "垃圾", "已结案", "120.015", "30.007", "", ""],
     "missing_closed_time"),
    (["B9", "2025-06-02 09:00", "2025-06-01 10:00", "", "垃圾", "已结案", "120.015", "30.007",
      "", ""], "closed_before_created"),
    (["B10", "2025-06-02 09:00", "", "", "垃圾", "处理中", "abc", "30.007", "", ""],
     "bad_location"),
    (["", "2025-06-02 09:00", "", "", "垃圾", "处理中", "120.015", "30.007", "", ""],
     "missing_number"),
    (["B11", "2025-06-02 09:00"], "row_width"),  # cut short: the type's cell is missing
    (["B12", "2025-06-02 09:00", "", "", "垃圾", "处理中", "120", ".015", "30.007", "", ""],
     "row_width"),  # a stray comma: one cell too many
]  # fmt: skip
NOW = dt.datetime(2025, 6, 10, 12, 0, tzinfo=SH)


def run(path: Path, mapping_path: Path, **kwargs: Any) -> ImportSummary:
    return cases_import(path=path, mapping=mapping_load(path=mapping_path), now=NOW, **kwargs)


@pytest.fixture
def cases_csv(write_csv: Callable[..., Path]) -> Path:
    return write_csv(GOOD + [row for row, _reason in BAD])


def test_good_rows_become_tasks_in_their_final_state(
    tree: dict[str, Area], catalogue: None, cases_csv: Path, mapping_path: Path
) -> None:
    summary = run(cases_csv, mapping_path)

    assert summary.total == len(GOOD) + len(BAD)
    assert summary.imported == len(GOOD)
    assert summary.skipped_existing == 0
    assert dict(summary.by_state) == {
        "closed": 2, "cancelled": 1, "registered": 1, "rejected": 1,
    }  # fmt: skip
    tasks = {t.source_key: t for t in Task.objects.select_related("area", "task_type", "rule")}
    assert set(tasks) == {f"import:old:A{i}" for i in range(1, 6)}
    assert all(t.source == "import" for t in tasks.values())

    a1 = tasks["import:old:A1"]
    assert (a1.state, a1.area, a1.task_type.code) == ("closed", tree["g12"], "0502")
    assert a1.rule is not None
    assert a1.rule.code == "050201"
    assert a1.created_at == a1.reported_at == dt.datetime(2025, 6, 2, 9, 0, tzinfo=SH)
    assert a1.closed_at == dt.datetime(2025, 6, 3, 10, 0, tzinfo=SH)
    assert a1.deadline == a1.deadline_original == dt.datetime(2025, 6, 3, 17, 30, tzinfo=SH)
    assert a1.yellow_at is not None
    assert a1.reported_at < a1.yellow_at < a1.deadline
    assert not a1.is_overdue  # closed before its deadline
    assert (a1.lon, a1.lat) == (120.015, 30.007)
    assert a1.title == "垃圾：文三路1号"
    assert a1.description == "原编号 A1"
    assert a1.number == "20250602-000001"  # a number of its created day
    assert a1.assignee_id is None
    assert a1.department_id is None
    assert not a1.needs_attention

    a2 = tasks["import:old:A2"]
    assert (a2.state, a2.area) == ("cancelled", tree["m11"])
    assert a2.cancelled_at == dt.datetime(2025, 6, 2, 11, 0, tzinfo=SH)
    assert a2.deadline is None
    assert a2.closed_at is None
    assert a2.number == "20250602-000002"

    a3 = tasks["import:old:A3"]
    assert (a3.state, a3.area, a3.lon) == ("registered", tree["g21"], None)
    assert a3.rule is not None
    assert a3.rule.code == "031302"
    # A naive ISO deadline is read in the mapping's time zone; open past it → overdue.
    assert a3.deadline == dt.datetime(2025, 6, 1, 12, 0, tzinfo=SH)
    assert a3.is_overdue
    assert a3.overdue_at == a3.deadline

    assert (tasks["import:old:A4"].state, tasks["import:old:A4"].area) == ("rejected", tree["g22"])

    a5 = tasks["import:old:A5"]
    assert a5.closed_at == a5.reported_at == dt.datetime(2025, 6, 4, 15, 0, tzinfo=SH)

    timeline = {
        key: [(e.action, e.from_state, e.to_state, e.at, e.actor_id) for e in t.events.all()]
        for key, t in tasks.items()
    }
    created = a1.reported_at
    assert timeline["import:old:A1"] == [
        ("create", "", "reported", created, None),
        ("verify_pass", "reported", "closed", a1.closed_at, None),
    ]
    assert [e[0] for e in timeline["import:old:A2"]] == ["create", "cancel"]
    assert [e[0] for e in timeline["import:old:A3"]] == ["create", "register"]
    assert [e[0] for e in timeline["import:old:A4"]] == ["create", "reject"]
    first = a1.events.get(action="create")
    assert first.data == {
        "source": "import", "source_key": "import:old:A1", "system": "old", "number": "A1",
        "status": "已结案",
    }  # fmt: skip
    assert a5.events.get(action="verify_pass").data["closed_in_source"] == (
        "2025-06-04T00:00:00+08:00"
    )
    assert not Notification.objects.exists()  # history notifies nobody


def test_bad_rows_are_reported_one_by_one_with_their_reason(
    tree: dict[str, Area], catalogue: None, cases_csv: Path, mapping_path: Path
) -> None:
    summary = run(cases_csv, mapping_path)

    assert [(r.line, r.reason) for r in summary.rejected_rows] == [
        (len(GOOD) + 2 + i, reason) for i, (_row, reason) in enumerate(BAD)
    ]
    assert summary.rejected == len(BAD)
    assert sum(summary.rejected_by_reason.values()) == len(BAD)
    assert summary.total == summary.imported + summary.rejected + summary.skipped_existing
    by_number = {r.number: r for r in summary.rejected_rows}
    assert "2025-13-01 09:00" in by_number["B1"].message
    assert "噪音" in by_number["B2"].message
    assert by_number["B9"].values[0] == "B9"


def test_a_rerun_imports_nothing_twice(
    tree: dict[str, Area], catalogue: None, cases_csv: Path, mapping_path: Path
) -> None:
    run(cases_csv, mapping_path)
    events = TaskEvent.objects.count()

    again = run(cases_csv, mapping_path)

    assert (again.imported, again.skipped_existing, again.rejected) == (0, len(GOOD), len(BAD))
    assert Task.objects.count() == len(GOOD)
    assert TaskEvent.objects.count() == events
    assert TaskNumberCounter.objects.get(day=dt.date(2025, 6, 2)).last == 2


def test_a_dry_run_counts_but_writes_nothing(
    tree: dict[str, Area], catalogue: None, cases_csv: Path, mapping_path: Path
) -> None:
    summary = run(cases_csv, mapping_path, dry_run=True)

    assert (summary.imported, summary.rejected) == (len(GOOD), len(BAD))
    assert summary.as_dict()["dry_run"] is True
    assert not Task.objects.exists()
    assert not TaskNumberCounter.objects.exists()


def test_a_crash_mid_way_leaves_whole_batches_and_a_rerun_completes(
    tree: dict[str, Area],
    catalogue: None,
    cases_csv: Path,
    mapping_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_events = services._events
    calls = {"n": 0}

    def crash_in_second_batch(case: Any, task_id: int, system: str) -> list[Any]:
        calls["n"] += 1
        if calls["n"] == 3:  # the first task of the second batch (batches of 2)
            raise RuntimeError("killed")
        return real_events(case, task_id, system)

    monkeypatch.setattr(services, "_events", crash_in_second_batch)
    with pytest.raises(RuntimeError, match="killed"):
        run(cases_csv, mapping_path, batch_size=2)
    # The first batch (A1, A2) is there whole; nothing of the second.
    assert set(Task.objects.values_list("source_key", flat=True)) == {
        "import:old:A1", "import:old:A2",
    }  # fmt: skip
    assert TaskEvent.objects.count() == 4
    assert TaskNumberCounter.objects.get(day=dt.date(2025, 6, 2)).last == 2
    assert not TaskNumberCounter.objects.filter(day=dt.date(2025, 6, 3)).exists()

    monkeypatch.setattr(services, "_events", real_events)
    summary = run(cases_csv, mapping_path, batch_size=2)

    assert (summary.imported, summary.skipped_existing) == (len(GOOD) - 2, 2)
    assert Task.objects.count() == len(GOOD)
    assert TaskEvent.objects.count() == 2 * len(GOOD)
    assert sorted(Task.objects.values_list("number", flat=True)) == [
        "20250602-000001", "20250602-000002", "20250603-000001", "20250603-000002",
        "20250604-000001",
    ]  # fmt: skip


def test_a_missing_column_or_unknown_code_fails_before_anything_is_written(
    tree: dict[str, Area],
    catalogue: None,
    write_csv: Callable[..., Path],
    mapping_path: Path,
    tmp_path: Path,
) -> None:
    no_address = write_csv([row[:-1] for row in GOOD], header=HEADER[:-1])
    with pytest.raises(ValidationFailed, match="地址") as info:
        run(no_address, mapping_path)
    assert info.value.details == {"missing": ["地址"]}

    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(mapping_path.read_text().replace('"0505"', '"0599"'), encoding="utf-8")
    with pytest.raises(ValidationFailed, match="0599"):
        run(write_csv(GOOD), unknown)

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(write_csv(GOOD).read_bytes() + "\n\xe9".encode("latin-1"))
    with pytest.raises(ValidationFailed, match="cannot be read"):
        run(latin1, mapping_path)
    assert not Task.objects.exists()


def test_the_command_prints_json_and_writes_the_error_csv(
    tree: dict[str, Area], catalogue: None, cases_csv: Path, mapping_path: Path, tmp_path: Path
) -> None:
    errors = tmp_path / "errors.csv"
    out = io.StringIO()
    call_command(
        "import_cases", str(cases_csv), mapping=str(mapping_path), errors=str(errors),
        json=True, stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    summary = json.loads(out.getvalue())
    assert summary["total"] == len(GOOD) + len(BAD)
    assert (
        summary["imported"] + summary["rejected"] + summary["skipped_existing"]
        == (summary["total"])
    )
    assert summary["rejected_by_reason"]["duplicate_number"] == 1
    assert summary["by_state"]["closed"] == 2
    assert errors.read_bytes().startswith(b"\xef\xbb\xbf")
    with errors.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["line", "reason", "message", *HEADER]
    assert [r[1] for r in rows[1:]] == [reason for _row, reason in BAD]
    assert rows[1][3:] == BAD[0][0]

    text = io.StringIO()
    call_command(
        "import_cases", str(cases_csv), mapping=str(mapping_path), dry_run=True, stdout=text,
        stderr=io.StringIO(),
    )  # fmt: skip
    assert "Dry run" in text.getvalue()
    assert f"{len(GOOD)} already imported" in text.getvalue()


def test_the_command_turns_errors_into_a_message(
    tree: dict[str, Area], catalogue: None, cases_csv: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("system: Old System\nnumber: 编号\n", encoding="utf-8")
    with pytest.raises(CommandError, match="system") as info:
        call_command("import_cases", str(cases_csv), mapping=str(bad), stdout=io.StringIO())
    assert "created" in str(info.value)  # every problem at once
    blocked = tmp_path / "a-file"
    blocked.write_text("x", encoding="utf-8")
    refusals = {
        str(cases_csv): "must not be an input file",
        str(bad): "must not be an input file",  # the mapping would be overwritten
        str(blocked / "errors.csv"): "does not exist or is not writable",
        str(tmp_path): "is a folder",
    }
    for errors, message in refusals.items():
        with pytest.raises(CommandError, match=message):
            call_command(
                "import_cases", str(cases_csv), mapping=str(bad), errors=errors,
                stdout=io.StringIO(),
            )  # fmt: skip
    assert bad.read_text(encoding="utf-8").startswith("system: Old System")
    assert not Task.objects.exists()


def test_keys_written_by_a_concurrent_import_are_skipped_not_duplicated(
    tree: dict[str, Area],
    catalogue: None,
    cases_csv: Path,
    mapping_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(cases_csv, mapping_path)
    real_existing = services._existing
    calls = {"n": 0}

    def blind_first_look(keys: list[str]) -> set[str]:
        # The other import commits between our look and our write.
        calls["n"] += 1
        return set() if calls["n"] == 1 else real_existing(keys)

    monkeypatch.setattr(services, "_existing", blind_first_look)
    summary = run(cases_csv, mapping_path)

    assert (summary.imported, summary.skipped_existing) == (0, len(GOOD))
    assert Task.objects.count() == len(GOOD)
    assert TaskEvent.objects.count() == 2 * len(GOOD)


def test_the_error_csv_imports_again_with_the_same_mapping(
    tree: dict[str, Area], catalogue: None, cases_csv: Path, mapping_path: Path, tmp_path: Path
) -> None:
    errors = tmp_path / "errors.csv"
    call_command(
        "import_cases", str(cases_csv), mapping=str(mapping_path), errors=str(errors),
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip

    again = run(errors, mapping_path)

    # The same rows, the same reasons (A1's repeat is now the first A1 of the file, and
    # A1 is already imported: skipped).
    assert again.total == len(BAD)
    assert again.skipped_existing == 1
    assert sorted(r.reason for r in again.rejected_rows) == sorted(
        reason for _row, reason in BAD if reason != "duplicate_number"
    )


def test_blank_lines_are_not_cases_and_progress_reaches_the_total(
    tree: dict[str, Area],
    catalogue: None,
    write_csv: Callable[..., Path],
    mapping_path: Path,
) -> None:
    path = write_csv([GOOD[0], [], ["", "", "", "", "", "", "", "", "", ""], GOOD[1]])
    seen: list[tuple[int, int]] = []

    summary = run(path, mapping_path, batch_size=1, progress=lambda d, t: seen.append((d, t)))

    assert (summary.total, summary.imported, summary.rejected) == (2, 2, 0)
    assert seen == [(0, 2), (1, 2), (2, 2)]


def test_deadline_from_rule_fills_only_the_missing_deadlines(
    tree: dict[str, Area],
    catalogue: None,
    cases_csv: Path,
    mapping_path: Path,
    tmp_path: Path,
) -> None:
    what_if = tmp_path / "what-if.yaml"
    what_if.write_text(
        mapping_path.read_text(encoding="utf-8") + "deadline_from_rule: true\n", encoding="utf-8"
    )

    run(cases_csv, what_if)

    tasks = {t.source_key: t for t in Task.objects.all()}
    # A1 keeps the deadline of its row.
    assert tasks["import:old:A1"].deadline == dt.datetime(2025, 6, 3, 17, 30, tzinfo=SH)
    # A2 has none: rule 050501 "removed the same day" is 1 natural day from its creation.
    a2 = tasks["import:old:A2"]
    assert a2.deadline == dt.datetime(2025, 6, 3, 10, 0, tzinfo=SH)
    assert a2.yellow_at is not None
    assert not a2.is_overdue  # cancelled at 11:00 the same day
