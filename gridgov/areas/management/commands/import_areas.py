"""``gridgov import-areas FILE.geojson --level LEVEL [--parent CODE] …``: import boundaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gridgov.areas.geometry import feature_collection_features
from gridgov.areas.management.arguments import date_argument
from gridgov.areas.models import AreaLevel
from gridgov.areas.selectors import area_get_by_code
from gridgov.areas.services import area_import_features
from gridgov.core.errors import GridgovError


class Command(BaseCommand):
    help = (
        "Import the features of a GeoJSON file (WGS84 lon/lat) as areas of one level under "
        "a parent. All or nothing: every feature is checked first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="GeoJSON FeatureCollection (UTF-8).")
        parser.add_argument("--level", required=True, choices=AreaLevel.values)
        parser.add_argument("--parent", help="Code of the parent area (not for districts).")
        parser.add_argument(
            "--code-property", help="Property holding the code; without it, sequence codes."
        )
        parser.add_argument("--name-property", help="Property holding the name (default name).")
        parser.add_argument("--ref-property", help="Property holding the source's own id.")
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Fix invalid geometry with make_valid (polygonal parts) and report it.",
        )
        parser.add_argument("--valid-from", type=date_argument, help="First day of validity.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise CommandError(
                _("cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(
                _("%(path)s is not valid JSON: %(error)s") % {"path": path, "error": exc}
            ) from exc
        try:
            features = feature_collection_features(data)
            if not options["code_property"] and any(
                isinstance(f, dict) and "code" in (f.get("properties") or {}) for f in features
            ):
                self.stderr.write(
                    _(
                        "warning: the features have a 'code' property, which is ignored: they "
                        "get new sequence codes. Pass --code-property code to keep their codes."
                    )
                )
            parent = area_get_by_code(code=options["parent"]) if options["parent"] else None
            report = area_import_features(
                features=features,
                level=options["level"],
                parent=parent,
                code_property=options["code_property"],
                name_property=options["name_property"],
                ref_property=options["ref_property"],
                repair=options["repair"],
                valid_from=options["valid_from"],
            )
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        for note in report.repairs:
            self.stderr.write(_("repaired %(note)s") % {"note": note})
        self.stdout.write(
            _("%(created)d areas created, %(unchanged)d already present and unchanged.")
            % {"created": len(report.created), "unchanged": len(report.unchanged)}
        )
        if report.created and options["verbosity"] >= 2:
            for area in report.created:
                self.stdout.write(f"  {area.code}  {area.name}  {area.ref}")
