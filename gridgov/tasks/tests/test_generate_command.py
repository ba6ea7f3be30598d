"""``gridgov generate``'s window bounds: at most ``WINDOW_DAYS_MAX`` days, in the years
``YEAR_MIN…YEAR_MAX``, refused with a ``CommandError`` before anything is written."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gridgov.tasks.management.commands.generate import WINDOW_DAYS_MAX
from gridgov.tasks.models import Task


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "between 1 and 366"),
        (["--days", "367"], "between 1 and 366"),
        (["--days", "99999"], "between 1 and 366"),
        # Used to be an OverflowError traceback (a timedelta beyond year 9999).
        (["--days", "999999999"], "between 1 and 366"),
        (["--from", "2025-01-01", "--until", "2026-01-03"], "367 days long"),
        (["--from", "2025-01-01", "--until", "2257-01-01"], "at most 366 days"),
        (["--from", "9998-12-31", "--days", "2"], "--until: the window must lie in the years"),
        (["--from", "1969-12-31", "--days", "1"], "--from: the window must lie in the years"),
        (["--from", "9999-12-30", "--until", "9999-12-31"], "--from"),
    ],
)
def test_the_window_is_bounded(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("generate", *args, stdout=StringIO(), stderr=StringIO())
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_the_longest_window_is_accepted() -> None:
    assert WINDOW_DAYS_MAX == 366
    out = StringIO()
    call_command(
        "generate", "--from", "2024-01-01", "--days", "366", "--json", stdout=out, stderr=StringIO()
    )
    summary = json.loads(out.getvalue())
    assert summary["from"].startswith("2024-01-01T00:00")
    assert summary["until"].startswith("2025-01-01T00:00")
    out = StringIO()
    call_command(
        "generate", "--from", "9998-12-31", "--days", "1", "--json", stdout=out, stderr=StringIO()
    )
    assert json.loads(out.getvalue())["until"].startswith("9999-01-01T00:00")
