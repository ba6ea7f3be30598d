"""``gridgov open311-key create|revoke|list``: api keys of Open311 clients.

gridgov open311-key create CLIENT [--contact TEXT]   prints the key once
gridgov open311-key revoke CLIENT
gridgov open311-key list [--json]
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gridgov.core.errors import GridgovError
from gridgov.open311.selectors import api_key_get, api_key_list, iso
from gridgov.open311.services import api_key_create, api_key_revoke


class Command(BaseCommand):
    help = "Create, revoke and list the api keys of Open311 clients (one per client)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="Create a client's key and print it (shown once).")
        create.add_argument("client", help="who uses the key, e.g. fixmystreet")
        create.add_argument("--contact", default="", help="whom to call about it")
        revoke = sub.add_parser("revoke", help="Revoke a client's key so that it stops working.")
        revoke.add_argument("client")
        listing = sub.add_parser("list", help="List the keys (never the keys themselves).")
        listing.add_argument("--json", action="store_true", help="one JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except GridgovError as exc:
            raise CommandError(exc.message) from exc

    def _create(self, options: dict[str, Any]) -> None:
        key, raw = api_key_create(name=options["client"], contact=options["contact"])
        self.stderr.write(
            _("Key of %(client)s created. Copy it now: it is not shown again.")
            % {"client": key.name}
        )
        self.stdout.write(raw)

    def _revoke(self, options: dict[str, Any]) -> None:
        key = api_key_revoke(api_key=api_key_get(name=options["client"]))
        self.stdout.write(_("Key of %(client)s revoked.") % {"client": key.name})

    def _list(self, options: dict[str, Any]) -> None:
        rows = [
            {
                "client": key.name,
                "prefix": key.prefix,
                "contact": key.contact,
                "active": key.is_active,
                "last_used_at": iso(key.last_used_at),
                "requests": key.request_count,  # type: ignore[attr-defined]
            }
            for key in api_key_list()
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False))
            return
        for row in rows:
            state = _("active") if row["active"] else _("revoked")
            self.stdout.write(
                f"{row['client']}\t{row['prefix']}…\t{state}\t{row['last_used_at'] or '-'}"
                f"\t{row['requests']}"
            )
