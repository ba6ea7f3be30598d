"""``gridgov iot-check [--purge] [--json]``: the periodic alarm check, once."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gridgov.core.errors import GridgovError
from gridgov.iot.services import alarm_check_run, readings_purge


class Command(BaseCommand):
    help = _(
        "Check what no reading tells — silent devices, meters without use, alarms nobody "
        "acknowledged — once (the worker does it every minute)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--purge", action="store_true",
            help=_("Also delete raw readings past the retention window."),
        )  # fmt: skip
        parser.add_argument("--json", action="store_true", help=_("Print the counts as JSON."))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result: dict[str, Any] = alarm_check_run()
            if options["purge"]:
                result["purged"] = readings_purge()
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                _(
                    "%(offline)d offline, %(low_use)d low-use alarms raised; %(tasks)d alarms "
                    "became tasks."
                )
                % result
            )
