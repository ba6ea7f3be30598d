"""``gridgov api-token create|revoke|list``: bearer tokens for the REST API.

gridgov api-token create USERNAME [--name NAME]   prints the token once
gridgov api-token revoke ID_OR_PREFIX
gridgov api-token list [USERNAME]
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from gridgov.api.selectors import api_token_get, api_token_list
from gridgov.api.services import api_token_create, api_token_revoke
from gridgov.core.errors import GridgovError, NotFound


class Command(BaseCommand):
    help = "Create, revoke and list bearer tokens for the REST API."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="Create a token and print it (shown once).")
        create.add_argument("username", help="the user the token acts as")
        create.add_argument("--name", default="", help="what the token is for, e.g. a phone")
        revoke = sub.add_parser("revoke", help="Revoke a token so that it stops working.")
        revoke.add_argument("token", help="the token's id or prefix (as `list` shows)")
        listing = sub.add_parser("list", help="List tokens (never the tokens themselves).")
        listing.add_argument("username", nargs="?", help="only this user's tokens")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except GridgovError as exc:
            raise CommandError(exc.message) from exc

    def _user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise NotFound(_("no user is called %(username)s") % {"username": username})
        return user

    def _create(self, options: dict[str, Any]) -> None:
        token, raw = api_token_create(user=self._user(options["username"]), name=options["name"])
        self.stderr.write(
            _("Token %(id)d for %(username)s created. Copy it now: it is not shown again.")
            % {"id": token.pk, "username": token.user}
        )
        self.stdout.write(raw)

    def _revoke(self, options: dict[str, Any]) -> None:
        token = api_token_revoke(token=api_token_get(ref=options["token"]))
        self.stdout.write(
            _("Token %(id)d (%(prefix)s…) of %(username)s revoked.")
            % {"id": token.pk, "prefix": token.prefix, "username": token.user}
        )

    def _list(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"]) if options["username"] else None
        for token in api_token_list(user=user):
            state = _("revoked") if token.revoked_at else _("active")
            last = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "-"
            self.stdout.write(
                f"{token.pk}\t{token.prefix}…\t{token.user}\t{token.name or '-'}\t{state}\t{last}"
            )
