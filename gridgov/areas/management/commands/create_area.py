"""``gridgov create-area CODE NAME --level L [--parent CODE] [--ref REF] [--json]``: one area
without a boundary (e.g. the district → street → community chain that imported grids hang
under); boundaries come with ``import-areas``."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gridgov.areas.models import AreaLevel
from gridgov.areas.selectors import area_get_by_code
from gridgov.areas.services import area_create
from gridgov.core.errors import GridgovError


class Command(BaseCommand):
    help = "Create one area (code, name, level, optional parent) without a boundary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="The area code (6/9/12/15/18 digits by level).")
        parser.add_argument("name")
        parser.add_argument("--level", required=True, choices=AreaLevel.values)
        parser.add_argument("--parent", help="The parent's code (every level below district).")
        parser.add_argument("--ref", default="", help="An external reference of the area.")
        parser.add_argument("--json", action="store_true", help="Print the area as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            parent = area_get_by_code(code=options["parent"]) if options["parent"] else None
            area = area_create(
                code=options["code"],
                name=options["name"],
                level=options["level"],
                parent=parent,
                ref=options["ref"],
            )
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            data = {"code": area.code, "name": area.name, "level": area.level}
            self.stdout.write(json.dumps({**data, "parent": options["parent"]}, ensure_ascii=False))
        else:
            self.stdout.write(_("Created %(level)s %(code)s %(name)s") % {
                "level": area.get_level_display(), "code": area.code, "name": area.name,
            })  # fmt: skip
