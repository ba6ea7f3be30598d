"""Benchmarks. ``python -m bench`` (or ``make bench``) runs every ``bench/bench_*.py``.

Each benchmark measures gridgov against a baseline measured in the same run and prints one
JSON line per figure: ``{"name", "value", "unit", "baseline", "ratio", "goal"}``. Benchmarks
never assert wall-clock times; tests check correctness.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def emit(
    name: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    ratio: float | None = None,
    goal: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Print one figure as a JSON line on stdout and return it."""
    if ratio is None and baseline:
        ratio = value / baseline
    line = {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 3),
        "ratio": None if ratio is None else round(ratio, 3),
        "goal": goal,
        **extra,
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return line


def progress(message: str) -> None:
    """Progress goes to stderr so stdout stays one JSON line per figure."""
    print(message, file=sys.stderr, flush=True)


def setup_django(db_name: str = "bench") -> None:
    """Configure Django on a fresh database and migrate it.

    Uses ``DATABASE_URL`` when set (e.g. PostgreSQL); otherwise a new SQLite file in a
    temporary folder, so a benchmark never touches the demo database.
    """
    if "DATABASE_URL" not in os.environ:
        folder = Path(tempfile.mkdtemp(prefix="gridgov-bench-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / (db_name + '.sqlite3')}"
        os.environ.setdefault("GRIDGOV_VAR_DIR", str(folder))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgov.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
