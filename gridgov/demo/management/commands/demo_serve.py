"""``gridgov demo-serve [ADDRPORT]``: run the demo — the background worker and the web
server together; stopping the server (Ctrl-C) stops the worker too.

``make demo`` ends with it. The worker (``gridgov worker``: the daily routine generation,
the SLA sweep every minute, the notification outbox) runs as a child process; the web
server (``runserver``) in the foreground.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from gridgov.demo.seed import DEMO_PASSWORD, demo_logins
from gridgov.people.choices import Role

#: How long the worker gets to stop after the server stops, in seconds.
STOP_TIMEOUT_S = 10


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = _("Run the demo: the background worker and the web server; Ctrl-C stops both.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help=_("address:port to serve on")
        )
        parser.add_argument(
            "--no-worker", action="store_true", help=_("serve without the background worker")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        addrport = options["addrport"]
        host_port = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self._print_logins(host_port)
        gridgov = [sys.executable, "-m", "gridgov"]
        # SIGTERM (kill, a service manager) stops the demo like Ctrl-C: subprocess.run kills
        # the server on the interrupt and the worker is stopped below — no orphans.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        worker = None if options["no_worker"] else subprocess.Popen([*gridgov, "worker"])  # noqa: S603
        try:
            subprocess.run([*gridgov, "runserver", addrport, "--noreload"], check=False)  # noqa: S603
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            if worker is not None and worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            self.stdout.write(_("The demo has stopped (server and worker)."))

    def _print_logins(self, host_port: str) -> None:
        out = self.stdout.write
        out("")
        out(
            _("gridgov is running at http://%(at)s/  (admin: http://%(at)s/admin/)")
            % {"at": host_port}
        )
        out(_("Demo logins (password for all: %(password)s):") % {"password": DEMO_PASSWORD})
        for username, role, where in demo_logins():
            label = Role(role).label if role in Role.values else _("superuser")
            out(f"  {username:<8} {label:<12} {where}")
        out(_("Ctrl-C stops the server and the worker."))
        out("")
