"""``gridgov open311-report-fields [FILE] [--json]``: set what residents are asked for
each public task type (the Open311 service definitions) from a YAML file; without FILE,
the default catalogue's (gridgov/open311/data/report_fields.yaml)."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gridgov.catalog.schema import catalog_parse_yaml
from gridgov.core.errors import GridgovError
from gridgov.open311.services import REPORT_FIELDS_DEFAULT as DEFAULT
from gridgov.open311.services import report_fields_load


class Command(BaseCommand):
    help = "Set the resident's report fields of public task types from a YAML file."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", nargs="?", type=Path, default=DEFAULT)
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
            counts = report_fields_load(data=catalog_parse_yaml(text))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(counts))
        else:
            self.stdout.write(
                _("%(updated)d task types updated, %(unchanged)d unchanged.") % counts
            )
