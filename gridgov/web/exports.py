"""Exports of the manager pages: xlsx (openpyxl) and CSV (UTF-8 with BOM).

``table_xlsx`` and ``table_csv`` write any table (a header and rows); the task list,
the campaign progress and other pages' lists build on them. Columns are headed in the
active language; times are local (``TIME_ZONE``). The CSV starts with a byte-order
mark so that Excel reads Chinese text as UTF-8 rather than the system code page.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from django import forms
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from gridgov.people.names import user_display_name
from gridgov.tasks.choices import TrafficLight
from gridgov.tasks.models import Task

#: Column widths of the xlsx sheet, in Excel character units, in column order.
XLSX_WIDTHS = [16, 40, 24, 16, 14, 10, 18, 18]


def local_naive(value: dt.datetime | None) -> dt.datetime | None:
    """``value`` in local time, naive (Excel has no time zones)."""
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None)


def _light_label(value: str) -> str:
    return str(TrafficLight(value).label) if value in TrafficLight.values else ""


def task_export_header() -> list[str]:
    """Return the column titles in the active language."""
    return [
        pgettext("task", "Number"),
        _("Title"),
        _("Area"),
        _("Assignee"),
        _("State"),
        _("Traffic light"),
        _("Deadline"),
        pgettext("column", "Created"),
    ]


def task_export_rows(tasks: Iterable[Task]) -> Iterable[list[Any]]:
    """Yield one row per task (annotated with ``light``), dates local and naive."""
    for task in tasks:
        assignee = task.assignee
        yield [
            task.number,
            task.title,
            task.area.name,
            user_display_name(assignee),
            str(task.get_state_display()),
            _light_label(getattr(task, "light", "")),
            local_naive(task.deadline),
            local_naive(task.created_at),
        ]


def table_xlsx(
    *,
    sheet_title: str,
    header: list[str],
    rows: Iterable[list[Any]],
    widths: list[int] | None = None,
) -> bytes:
    """Return an xlsx workbook (openpyxl) of one sheet: ``header`` as the first, frozen
    row, then ``rows``; ``widths`` in Excel character units per column. ``datetime`` cells
    are written as real Excel datetimes (give them local and naive, see ``local_naive``) shown
    ``yyyy-mm-dd hh:mm``; ``date`` cells as dates. Text loses the control characters the
    xlsx XML cannot hold (openpyxl's ``ILLEGAL_CHARACTERS_RE``; openpyxl would raise
    ``IllegalCharacterError``): a value stored before the input checks
    (``gridgov.core.validators.FORBIDDEN_CHARACTERS_RE``) never fails the export. A text
    beginning with ``=`` stays text, never a formula."""
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has one sheet
    sheet.title = sheet_title[:31]  # Excel's limit on a sheet name
    sheet.append([_xlsx_cell(v) for v in header])
    for row in rows:
        sheet.append([_xlsx_cell(v) for v in row])
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if cell.data_type == "f":
                # openpyxl takes a text beginning with "=" for a formula; a resident's
                # "=HYPERLINK(…)" must stay text (OWASP "CSV Injection").
                cell.data_type = "s"
            elif isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


#: What a spreadsheet may read as the start of a formula (OWASP "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def table_csv(*, header: list[str], rows: Iterable[list[Any]]) -> bytes:
    """Return ``header`` and ``rows`` as CSV in UTF-8 with a byte-order mark (so that
    Excel reads Chinese text as UTF-8); datetimes ``YYYY-MM-DD HH:MM``, dates ISO,
    ``None`` empty. A text beginning with one of ``FORMULA_START`` gets a leading ``'``
    so that Excel shows it as text instead of running it (OWASP "CSV Injection");
    numbers are written as they are."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def task_export_xlsx(tasks: Iterable[Task]) -> bytes:
    """Return an xlsx workbook of ``tasks``: a header row, column widths, real datetimes."""
    return table_xlsx(
        sheet_title=_("Tasks"),
        header=task_export_header(),
        rows=task_export_rows(tasks),
        widths=XLSX_WIDTHS,
    )


def task_export_csv(tasks: Iterable[Task]) -> bytes:
    """Return ``tasks`` as CSV in UTF-8 with a byte-order mark; times ``YYYY-MM-DD HH:MM``."""
    return table_csv(header=task_export_header(), rows=task_export_rows(tasks))


def export_refused(form: forms.Form) -> HttpResponse | None:
    """A 400 (plain UTF-8 text, one ``field: error`` line each) when the export's filter
    ``form`` is bound and invalid — a download must never quietly hold other rows than
    the ones asked for; ``None`` when the form is fine."""
    if not form.is_bound or form.is_valid():
        return None
    lines = [_("The export was refused: its parameters are not valid.")]
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        lines += [
            f"{label or name}: {error}" if name != "__all__" else str(error) for error in errors
        ]
    return HttpResponseBadRequest("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
