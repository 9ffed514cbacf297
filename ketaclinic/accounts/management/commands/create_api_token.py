"""ketaclinic create_api_token <username> --name <what uses it>: print a new API token once.

Only the token's digest is kept; it expires after KETACLINIC_API_TOKEN_DAYS (the expiry goes to stderr,
so that stdout is the token alone for scripts).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.actions import do_create_api_token
from ketaclinic.accounts.models import User
from ketaclinic.audit.context import CLI
from ketaclinic.errors import InvalidInput


class Command(BaseCommand):
    help = "Create a named API bearer token for a staff user and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--name", required=True, help="what will use the token, e.g. 'lab results import'"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no staff user named {options['username']!r}")
        try:
            token, secret = do_create_api_token(user, name=options["name"], actor=None, origin=CLI)
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(secret)
        self.stderr.write(f"token {token.name!r} expires {token.expires_at:%Y-%m-%d %H:%M} UTC")
