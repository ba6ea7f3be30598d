"""``gridgov export-areas [--level L] [--parent CODE] [--out FILE]``: write GeoJSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gridgov.areas.management.arguments import date_argument
from gridgov.areas.models import AreaLevel
from gridgov.areas.selectors import area_export_geojson, area_get_by_code
from gridgov.core.errors import GridgovError


class Command(BaseCommand):
    help = "Write areas as a GeoJSON FeatureCollection (WGS84 lon/lat) to --out or stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--level", choices=AreaLevel.values)
        parser.add_argument("--parent", help="Only areas below this code.")
        parser.add_argument(
            "--on", type=date_argument, help="Only areas valid that day (YYYY-MM-DD)."
        )
        parser.add_argument("--out", type=Path, help="Output file (default: stdout).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            parent = area_get_by_code(code=options["parent"]) if options["parent"] else None
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        collection = area_export_geojson(level=options["level"], parent=parent, on=options["on"])
        text = json.dumps(collection, ensure_ascii=False)
        if options["out"]:
            try:
                Path(options["out"]).write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                raise CommandError(str(exc)) from exc
            self.stderr.write(
                _("%(count)d areas written to %(path)s")
                % {"count": len(collection["features"]), "path": options["out"]}
            )
        else:
            self.stdout.write(text)
