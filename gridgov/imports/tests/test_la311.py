"""Real data: the 9,999 Los Angeles MyLA311 requests with ``examples/la311/mapping.yaml``.

The neighbourhood councils are imported as grids first (the areas app's ``la_grids``
fixture, through ``gridgov import-areas``). The summary must account for every row, and
the states of the imported tasks plus the statuses of the rejected rows must be the
file's own counts: Closed 9,739, Cancelled 246, Referred Out 9, Open 5 (counted here from
the CSV too, and stated in shared/data/README.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from gridgov.areas.models import Area
from gridgov.tasks.models import Task, TaskEvent

pytestmark = pytest.mark.django_db

MAPPING = Path(__file__).resolve().parents[3] / "examples" / "la311" / "mapping.yaml"
STATE_OF = {
    "Closed": "closed",
    "Cancelled": "cancelled",
    "Referred Out": "rejected",
    "Open": "registered",
}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_the_la_requests_import_with_every_row_accounted_for(
    la_grids: Area, catalogue: None, la_requests_path: Path, tmp_path: Path
) -> None:
    source = read(la_requests_path)
    statuses = Counter(r["Status"] for r in source)
    assert statuses == {"Closed": 9739, "Cancelled": 246, "Referred Out": 9, "Open": 5}
    errors = tmp_path / "errors.csv"
    out = io.StringIO()

    call_command(
        "import_cases", str(la_requests_path), mapping=str(MAPPING), errors=str(errors),
        json=True, stdout=out, stderr=io.StringIO(),
    )  # fmt: skip

    summary = json.loads(out.getvalue())
    assert summary["total"] == 9999
    assert summary["imported"] + summary["rejected"] == 9999
    assert summary["skipped_existing"] == 0
    # 100 rows have no council (NC): 10 of them no coordinates either, 90 coordinates
    # outside all 99 councils. Every other row finds its grid.
    assert summary["rejected_by_reason"] == {"no_location": 10, "outside_areas": 90}
    assert summary["imported"] == 9899
    rejected = read(errors)
    assert len(rejected) == 100
    assert all(r["NC"] == "" for r in rejected)
    # The states reflect the data: imported states + statuses of the rejected rows.
    imported_states = Counter(Task.objects.values_list("state", flat=True))
    assert imported_states == summary["by_state"]
    rejected_states = Counter(STATE_OF[r["Status"]] for r in rejected)
    assert imported_states + rejected_states == {STATE_OF[s]: n for s, n in statuses.items()}
    assert imported_states == {"closed": 9642, "cancelled": 244, "rejected": 9, "registered": 4}

    # Spot check: the first row, 2111 W Bellevue Ave, council 44, closed 9 April 2018.
    la = ZoneInfo("America/Los_Angeles")
    first = Task.objects.select_related("area", "task_type").get(
        source_key="import:la311:1-870704831"
    )
    assert first.area.ref == "44"
    assert first.area.parent == la_grids
    assert first.task_type.code == "0405"  # Homeless Encampment
    assert first.created_at == dt.datetime(2017, 12, 31, 23, 59, 58, tzinfo=la)
    assert first.closed_at == dt.datetime(2018, 4, 9, 9, 18, 35, tzinfo=la)
    assert first.title == "Homeless Encampment: 2111 W BELLEVUE AVE, 90026"
    # Rows without coordinates were placed by their council.
    no_coordinates = {r["SRNumber"]: r["NC"] for r in source if not r["Latitude"] and r["NC"]}
    assert len(no_coordinates) == 1743
    placed = dict(Task.objects.filter(lon__isnull=True).values_list("source_key", "area__ref"))
    assert placed == {f"import:la311:{n}": nc for n, nc in no_coordinates.items()}
    assert TaskEvent.objects.count() == 2 * 9899

    # A rerun imports nothing twice.
    again = io.StringIO()
    call_command(
        "import_cases", str(la_requests_path), mapping=str(MAPPING), json=True, stdout=again,
        stderr=io.StringIO(),
    )  # fmt: skip
    second = json.loads(again.getvalue())
    assert (second["imported"], second["skipped_existing"], second["rejected"]) == (0, 9899, 100)
    assert Task.objects.count() == 9899
