"""``gridgov iot-simulate --households N --hours H [--speed X] [--seed S] [--direct]
[--follow [HOURS]] [--json]`` and ``gridgov iot-simulate --households N --resume [--direct]
[--follow HOURS]``."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from gridgov.core.errors import GridgovError
from gridgov.iot.simulate import kits_resume, simulate


class Command(BaseCommand):
    help = _(
        "Publish simulated readings of household kits over MQTT (MQTT_URL): daily routines "
        "of water and power use with injected anomalies, for the hours before now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--households", type=int, required=True, help=_("Households to simulate.")
        )
        parser.add_argument(
            "--hours", type=float,
            help=_("Simulated hours, ending now (required unless --resume)."),
        )  # fmt: skip
        parser.add_argument(
            "--speed", type=float, default=0.0,
            help=_("Simulated seconds per real second (default 0: as fast as possible)."),
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=2026, help=_("Random seed."))
        parser.add_argument(
            "--anomalies", type=int,
            help=_("Households with an anomaly (default: one of each kind that fits)."),
        )  # fmt: skip
        parser.add_argument("--url", help=_("Broker URL (default: MQTT_URL)."))
        parser.add_argument(
            "--direct", action="store_true",
            help=_("Ingest in this process instead of publishing (no broker; for the demo)."),
        )  # fmt: skip
        parser.add_argument(
            "--follow", type=float, nargs="?", const=math.inf, default=0.0, metavar="HOURS",
            help=_(
                "Then go on in real time, routines only, for HOURS (no value: until "
                "stopped), so that no kit goes offline (the demo does this)."
            ),
        )  # fmt: skip
        parser.add_argument(
            "--resume", action="store_true",
            help=_(
                "Go on with the kits simulated before, from where they stopped (no hours "
                "replayed, meters continue, a device that fell silent stays silent); with "
                "--follow (until stopped by default)."
            ),
        )  # fmt: skip
        parser.add_argument("--json", action="store_true", help=_("Print the summary as JSON."))

    def handle(self, *args: Any, **options: Any) -> None:
        bar = tqdm(unit="msg", file=sys.stderr, mininterval=1.0, desc="iot-simulate")
        if not options["resume"] and options["hours"] is None:
            raise CommandError(_("--hours is required (unless --resume)."))
        try:
            if options["resume"]:
                report = kits_resume(
                    households=options["households"],
                    hours=options["follow"] or math.inf,
                    seed=options["seed"],
                    url=options["url"],
                    direct=options["direct"],
                    progress=bar.update,
                )
            else:
                report = simulate(
                    households=options["households"],
                    hours=options["hours"],
                    speed=options["speed"],
                    seed=options["seed"],
                    anomalies=options["anomalies"],
                    url=options["url"],
                    direct=options["direct"],
                    follow_hours=options["follow"],
                    progress=bar.update,
                )
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        finally:
            bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(
            _(
                "%(readings_sent)d messages from %(devices)d devices of %(households)d households; "
                "%(anomalies_injected)d anomalies injected."
            )
            % report.as_dict()
        )
        for item in report.anomalies:
            self.stdout.write(f"  {item['anomaly']}: {item['serial']} → {item['rule']}")
