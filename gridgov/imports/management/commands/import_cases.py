"""``gridgov import-cases FILE.csv --mapping MAPPING.yaml [--dry-run] [--json] [--errors E.csv]``.

Historical cases from another system: each good row becomes a task of source ``import`` in
its final state (see ``gridgov.imports.services.cases_import`` and docs/imports.md). Bad
rows are listed, with their reason, in ``--errors`` (a CSV: ``line``, ``reason``,
``message``, then the row's own columns); the good rows are imported. A rerun imports
nothing twice.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from gridgov.core.errors import GridgovError
from gridgov.imports.mapping import mapping_load
from gridgov.imports.services import BATCH_SIZE, ImportSummary, cases_import

#: Columns the error CSV puts before the row's own.
ERROR_COLUMNS = ["line", "reason", "message"]


def errors_write(summary: ImportSummary, out: Path) -> None:
    """Write the rejected rows to ``out`` (UTF-8 with BOM, for Excel): ``line``,
    ``reason``, ``message`` and the source columns. Written beside ``out`` and moved into
    place at the end, so a failure never leaves half a file."""
    out = Path(out)
    with tempfile.NamedTemporaryFile(
        "w",
        encoding="utf-8-sig",
        newline="",
        dir=out.resolve().parent,
        prefix=f".{out.name}.",
        suffix=".partial",
        delete=False,
    ) as f:
        partial = Path(f.name)
        try:
            writer = csv.writer(f)
            writer.writerow(ERROR_COLUMNS + summary.header)
            for row in summary.rejected_rows:
                writer.writerow([row.line, row.reason, row.message, *row.values])
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, out)


def _check_errors_path(errors: Path, *, inputs: list[Path]) -> None:
    """Refuse, before anything is imported, an ``--errors`` path that is one of the
    ``inputs`` (the CSV, the mapping) or whose folder is missing or not writable: the
    import must not succeed and then fail to report its rejects."""
    target = errors.resolve()
    for path in inputs:
        if path.exists() and target == path.resolve():
            raise CommandError(_("--errors must not be an input file (%(path)s).") % {"path": path})
    folder = target.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise CommandError(
            _("--errors: the folder %(folder)s does not exist or is not writable.")
            % {"folder": folder}
        )
    if target.is_dir():
        raise CommandError(_("--errors: %(path)s is a folder.") % {"path": errors})


class Command(BaseCommand):
    help = (
        "Import historical cases from a CSV file with a mapping file: one task of source "
        "'import' per good row, in its final state, with its real times; bad rows are "
        "reported with their reason. Reruns import nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file of cases (with a header row)")
        parser.add_argument(
            "--mapping", type=Path, required=True, help="mapping YAML (see docs/imports.md)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count everything, write nothing"
        )
        parser.add_argument(
            "--errors", type=Path, metavar="ERRORS.csv", help="write the rejected rows here"
        )
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE,
            help=f"rows per transaction (default {BATCH_SIZE})",
        )  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        # call_command(errors="…") passes strings: argparse types apply to argv only.
        source = Path(options["file"])
        errors = Path(options["errors"]) if options["errors"] else None
        if errors is not None:
            _check_errors_path(errors, inputs=[source, Path(options["mapping"])])
        bar: tqdm[Any] | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="row", desc="import", file=sys.stderr, disable=None)
            bar.update(done - bar.n)

        try:
            mapping = mapping_load(path=Path(options["mapping"]))
            summary = cases_import(
                path=source,
                mapping=mapping,
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
                progress=progress,
            )
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        finally:
            if bar is not None:
                bar.close()
        if errors is not None:
            try:
                errors_write(summary, errors)
            except OSError as exc:
                raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
        else:
            self._print(summary, errors)

    def _print(self, summary: ImportSummary, errors: Path | None) -> None:
        counts = {
            "total": summary.total,
            "imported": summary.imported,
            "rejected": summary.rejected,
            "skipped": summary.skipped_existing,
        }
        if summary.dry_run:
            line = _(
                "Dry run, nothing written. %(total)d rows: %(imported)d would be imported, "
                "%(rejected)d rejected, %(skipped)d already imported."
            )
        else:
            line = _(
                "%(total)d rows: %(imported)d imported, %(rejected)d rejected, "
                "%(skipped)d already imported."
            )
        self.stdout.write(line % counts)
        if summary.by_state:
            states = ", ".join(f"{state} {n}" for state, n in sorted(summary.by_state.items()))
            self.stdout.write(_("States: %(states)s") % {"states": states})
        if summary.rejected:
            reasons = ", ".join(f"{r} {n}" for r, n in sorted(summary.rejected_by_reason.items()))
            self.stdout.write(_("Rejected: %(reasons)s") % {"reasons": reasons})
            if errors is not None:
                self.stdout.write(_("The rejected rows are in %(path)s.") % {"path": errors})
            else:
                self.stdout.write(_("Give --errors FILE.csv to list the rejected rows."))
