"""``gridgov outbox-deliver [--limit N] [--json]``: deliver due notifications once."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from gridgov.notifications.selectors import outbox_status_counts
from gridgov.notifications.services import outbox_deliver


class Command(BaseCommand):
    help = _(
        "Deliver the notification outbox's due messages once (the worker does this every "
        "minute) and show the outbox by status."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=100, help=_("At most this many messages (100).")
        )
        parser.add_argument("--json", action="store_true", help=_("Print JSON."))

    def handle(self, *args: Any, **options: Any) -> None:
        counts = outbox_deliver(limit=max(1, options["limit"]))
        statuses = outbox_status_counts()
        if options["json"]:
            self.stdout.write(json.dumps({"run": counts, "outbox": statuses}))
            return
        self.stdout.write(
            _("Sent %(sent)d, failed %(failed)d (will retry), dead %(dead)d.") % counts
        )
        self.stdout.write(
            _("Outbox: %(statuses)s")
            % {"statuses": ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "—"}
        )
