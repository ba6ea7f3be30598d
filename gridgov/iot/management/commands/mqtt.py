"""``gridgov mqtt``: the MQTT ingestion consumer (runs until stopped; see docs/iot.md)."""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from gridgov.core.errors import GridgovError
from gridgov.iot.mqtt import BATCH_SIZE, Consumer, ConsumerStats


class Command(BaseCommand):
    help = _(
        "Subscribe to the devices' MQTT topics (QoS 1, persistent session) and ingest their "
        "messages; a message is acknowledged once stored. Runs until stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help=_("Broker URL (default: MQTT_URL)."))
        parser.add_argument(
            "--client-id",
            help=_("Fixed client id of the session (default: GRIDGOV_IOT_CLIENT_ID)."),
        )
        parser.add_argument("--prefix", help=_("Topic prefix (default: GRIDGOV_IOT_TOPIC_PREFIX)."))
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help=_("Messages per transaction.")
        )
        parser.add_argument(
            "--idle-exit",
            type=float,
            help=_("Stop after this many seconds without a message (tests, benchmarks)."),
        )
        parser.add_argument("--max-messages", type=int, help=_("Stop after this many messages."))
        parser.add_argument(
            "--json", action="store_true", help=_("Print the counts as JSON at exit.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            bar = tqdm(unit="msg", file=sys.stderr, mininterval=1.0, desc="mqtt")
            seen = 0

            def progress(stats: ConsumerStats) -> None:
                nonlocal seen
                bar.update(stats.received - seen)
                seen = stats.received

            consumer = Consumer(
                url=options["url"] or settings.MQTT_URL,
                client_id=options["client_id"],
                prefix=options["prefix"],
                batch_size=max(1, options["batch_size"]),
                on_batch=progress,
            )
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_a: consumer.stop())
            stats = consumer.run(
                idle_exit=options["idle_exit"], max_messages=options["max_messages"]
            )
            bar.close()
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(stats.as_dict(), ensure_ascii=False))
        else:
            self.stdout.write(
                _("%(received)d received, %(accepted)d accepted, %(alarms)d alarms raised.")
                % stats.as_dict()
            )
