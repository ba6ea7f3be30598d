"""``gridgov seed-demo [--scale small|full] [--seed N] [--json]``: build the demo street."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from gridgov.core.errors import GridgovError
from gridgov.demo.seed import DEMO_PASSWORD, SCALES, seed_demo
from gridgov.people.choices import Role

#: How the summary names what was created.
LABELS = {
    "areas": pgettext_lazy("summary count", "areas"),
    "task_types": pgettext_lazy("summary count", "task types"),
    "task_rules": pgettext_lazy("summary count", "task rules"),
    "users": pgettext_lazy("summary count", "users"),
    "memberships": pgettext_lazy("summary count", "memberships"),
    "departments": pgettext_lazy("summary count", "departments"),
    "households": pgettext_lazy("summary count", "households"),
    "residents": pgettext_lazy("summary count", "residents"),
    "places": pgettext_lazy("summary count", "places"),
}


class Command(BaseCommand):
    help = "Create (or complete) the demo street: areas, staff, households, places, catalogue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(step: str) -> None:
            if not options["json"]:
                self.stderr.write(f"seed-demo: {step} …")

        try:
            report = seed_demo(scale=options["scale"], seed=options["seed"], progress=progress)
        except GridgovError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "scale": options["scale"],
                        "created": report.created,
                        "logins": [
                            {"username": u, "role": r, "area": a} for u, r, a in report.logins
                        ],
                        "password": DEMO_PASSWORD,
                    },
                    ensure_ascii=False,
                )
            )
            return
        made = _(", ").join(
            f"{n} {LABELS.get(what, what)}" for what, n in report.created.items() if n
        ) or _("nothing new")
        self.stdout.write(
            _("Demo street ready (%(scale)s): created %(made)s.")
            % {"scale": options["scale"], "made": made}
        )
        self.stdout.write(
            _("Demo logins (password for all: %(password)s):") % {"password": DEMO_PASSWORD}
        )
        for username, role, area in report.logins:
            label = Role(role).label if role in Role.values else _("superuser")
            self.stdout.write(f"  {username:<8} {label:<12} {area}")
