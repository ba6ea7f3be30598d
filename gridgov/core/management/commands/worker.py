"""``gridgov worker``: run the background worker (Huey's consumer, ``run_huey``).

It runs the periodic jobs of ``gridgov/tasks/jobs.py`` — the daily routine generation, the
SLA sweep every minute, the outbox delivery every minute — and whatever was queued (the
outbox nudges). Storage: ``settings.HUEY`` (a SQLite file by default, Redis when
``REDIS_URL`` is set). See docs/tasks.md.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _(
        "Run the background worker: the daily routine generation, the sweep and the "
        "notification outbox every minute, and queued work."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-w",
            "--workers",
            type=int,
            help=_("Worker threads (default: settings.HUEY consumer workers, 2)."),
        )
        parser.add_argument(
            "-n",
            "--no-periodic",
            action="store_true",
            help=_(
                "Do not schedule the periodic jobs (for every consumer but one on a shared "
                "Redis queue)."
            ),
        )
        parser.add_argument(
            "--flush-locks", action="store_true", help=_("Clear Huey's task locks at start.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from huey.contrib.djhuey import HUEY

        from gridgov.tasks.jobs import JOBS  # registers the jobs on the project's Huey

        config = dict(settings.HUEY.get("consumer", {}))
        kwargs: dict[str, Any] = {}
        if options["workers"]:
            kwargs["workers"] = options["workers"]
        if options["no_periodic"]:
            kwargs["periodic"] = False
        if options["flush_locks"]:
            kwargs["flush_locks"] = True
        config.update(kwargs)
        self.stdout.write(
            _(
                "gridgov worker: %(storage)s queue %(name)r, %(workers)s %(type)s worker(s), "
                "periodic jobs %(periodic)s: %(jobs)s"
            )
            % {
                "storage": type(HUEY.storage).__name__,
                "name": HUEY.name,
                "workers": config.get("workers", 1),
                "type": config.get("worker_type", "thread"),
                "periodic": _("on") if config.get("periodic", True) else _("off"),
                "jobs": ", ".join(sorted(JOBS)),
            }
        )
        # run_huey gives the "huey" logger a handler of its own; keep its lines from being
        # printed a second time by the root logger's console handler.
        logging.getLogger("huey").propagate = False
        call_command("run_huey", **kwargs)
