"""``gridgov iot-provision devices.csv [--tokens-out FILE] [--json]``: bulk provisioning."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gridgov.core.errors import GridgovError
from gridgov.iot.services import devices_provision_csv


class Command(BaseCommand):
    help = _(
        "Provision devices from a CSV file (columns household, kind, serial[, firmware]): all "
        "rows or none, every bad row reported. Each new device's token is written once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help=_("The CSV file (UTF-8)."))
        parser.add_argument(
            "--tokens-out", type=Path,
            help=_("Write serial,token to this new file (mode 600) instead of stdout."),
        )  # fmt: skip
        parser.add_argument("--json", action="store_true", help=_("Print the summary as JSON."))

    def handle(self, *args: Any, **options: Any) -> None:
        # call_command(tokens_out="…") passes strings: argparse types apply to argv only.
        path = Path(options["path"])
        out = Path(options["tokens_out"]) if options["tokens_out"] else None
        if out is not None and out.exists():
            raise CommandError(
                _("%(path)s exists; tokens are never written over a file.") % {"path": out}
            )
        # The tokens file is created before anything is provisioned (and removed again if
        # nothing is): a token that cannot be written must not exist.
        handle = None
        if out is not None:
            try:
                fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                handle = os.fdopen(fd, "w", encoding="utf-8")
            except OSError as exc:
                raise CommandError(
                    _("cannot create %(path)s: %(err)s") % {"path": out, "err": exc.strerror}
                ) from exc
        try:
            self._provision(path, out, handle, options)
        except BaseException:
            if handle is not None:
                handle.close()
                out.unlink(missing_ok=True)  # type: ignore[union-attr]
            raise
        if handle is not None:
            handle.close()

    def _provision(
        self, path: Path, out: Path | None, handle: Any, options: dict[str, Any]
    ) -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(
                _("cannot read %(path)s: %(err)s") % {"path": path, "err": exc}
            ) from exc
        try:
            report = devices_provision_csv(actor=None, text=text)
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        if report.errors:
            if options["json"]:
                self.stdout.write(
                    json.dumps({"created": 0, "errors": report.errors}, ensure_ascii=False)
                )
            raise CommandError(
                _("nothing was provisioned:\n%(errors)s")
                % {"errors": "\n".join(f"- {e}" for e in report.errors)}
            )
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["serial", "token"])
        writer.writerows(report.created)
        if handle is not None:
            handle.write(buffer.getvalue())
        if options["json"]:
            summary: dict[str, Any] = {"created": len(report.created), "errors": []}
            if out is None:
                summary["tokens"] = dict(report.created)
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        elif out is None:
            self.stdout.write(buffer.getvalue().rstrip("\n"))
        else:
            self.stdout.write(
                _("%(n)d devices provisioned; tokens in %(path)s.")
                % {"n": len(report.created), "path": out}
            )
