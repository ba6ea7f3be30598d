"""``gridgov demo-serve [ADDRPORT]``: run the demo — the background worker and the web
server together; stopping the server (Ctrl-C) stops the worker too.

``make demo`` ends with it. The worker (``gridgov worker``: the daily routine generation,
the SLA sweep every minute, the notification outbox) and the digital-family kits
(``gridgov iot-simulate --resume --direct --follow``: the kits ``make demo`` simulated go on
reporting in real time from where they stopped, so they do not all go offline ten minutes
in, while the scenario's silenced button stays silent) run as child
processes; the web server (``runserver``) in the foreground.
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
#: The households whose kits report while the demo runs: those ``make demo`` simulates
#: (``iot-simulate --households 12``, the Makefile), the first elderly households.
KIT_HOUSEHOLDS = 12


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Terminate ``child`` and wait for it (killed after ``STOP_TIMEOUT_S``)."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


class Command(BaseCommand):
    help = _("Run the demo: the background worker and the web server; Ctrl-C stops both.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help=_("address:port to serve on")
        )
        parser.add_argument(
            "--no-worker", action="store_true", help=_("serve without the background worker")
        )
        parser.add_argument(
            "--no-kits", action="store_true",
            help=_("serve without the digital-family kits reporting in real time"),
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        addrport = options["addrport"]
        host_port = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self._print_logins(host_port)
        gridgov = [sys.executable, "-m", "gridgov"]
        # SIGTERM (kill, a service manager) stops the demo like Ctrl-C: subprocess.run kills
        # the server on the interrupt and the worker is stopped below — no orphans.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        kits = [
            *gridgov, "iot-simulate", "--households", str(KIT_HOUSEHOLDS),
            "--resume", "--direct", "--follow",
        ]  # fmt: skip
        children = [
            subprocess.Popen(command)  # noqa: S603
            for command, wanted in (
                ([*gridgov, "worker"], not options["no_worker"]),
                (kits, not options["no_kits"]),
            )
            if wanted
        ]
        try:
            subprocess.run([*gridgov, "runserver", addrport, "--noreload"], check=False)  # noqa: S603
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            for child in children:
                _stop(child)
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
