"""``gridgov catalog import|export|stats``: the task catalogue from and to YAML.

gridgov catalog import FILE.yaml [--prune]
gridgov catalog import --default [--prune]
gridgov catalog export [--out FILE.yaml]
gridgov catalog stats [--json]
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gridgov.catalog.selectors import catalog_export_yaml, catalog_stats
from gridgov.catalog.services import (
    DEFAULT_CATALOGUE_PATH,
    catalog_import,
    catalog_load_file,
)
from gridgov.core.errors import GridgovError


class Command(BaseCommand):
    help = "Import, export and count the task catalogue (categories, task types, rules)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        imp = sub.add_parser(
            "import",
            help="Validate a YAML catalogue, then create or update every entry by code.",
        )
        source = imp.add_mutually_exclusive_group(required=True)
        source.add_argument("file", nargs="?", type=Path, help="the catalogue YAML file")
        source.add_argument(
            "--default",
            action="store_true",
            help=f"import the catalogue shipped with gridgov ({DEFAULT_CATALOGUE_PATH.name})",
        )
        imp.add_argument(
            "--prune",
            action="store_true",
            help="mark rules that are in the database but not in the file inactive",
        )

        exp = sub.add_parser("export", help="Write the catalogue as YAML (the import schema).")
        exp.add_argument("--out", type=Path, help="write to this file instead of stdout")

        stats = sub.add_parser("stats", help="Count categories, task types and rules.")
        stats.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except GridgovError as exc:
            raise CommandError(exc.message) from exc

    def _import(self, options: dict[str, Any]) -> None:
        path = DEFAULT_CATALOGUE_PATH if options["default"] else options["file"]
        summary = catalog_import(data=catalog_load_file(path=path), prune=options["prune"])
        levels = {
            "categories": _("categories"),
            "task_types": _("task types"),
            "rules": _("rules"),
        }
        for level, label in levels.items():
            counts = getattr(summary, level)
            self.stdout.write(
                _("%(level)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged")
                % {
                    "level": label,
                    "created": counts.created,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                }
            )
        if options["prune"]:
            codes = ", ".join(summary.deactivated_rules) or _("none")
            self.stdout.write(_("rules marked inactive: %(codes)s") % {"codes": codes})

    def _export(self, options: dict[str, Any]) -> None:
        text = catalog_export_yaml()
        if options["out"] is None:
            self.stdout.write(text, ending="")
            return
        try:
            options["out"].write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                _("cannot write %(path)s: %(reason)s") % {"path": options["out"], "reason": exc}
            ) from exc
        self.stdout.write(_("wrote %(path)s") % {"path": options["out"]})

    def _stats(self, options: dict[str, Any]) -> None:
        stats = catalog_stats()
        if options["json"]:
            self.stdout.write(json.dumps(stats))
        else:
            self.stdout.write(
                _("%(categories)d categories, %(task_types)d task types, %(rules)d task rules")
                % stats
            )
