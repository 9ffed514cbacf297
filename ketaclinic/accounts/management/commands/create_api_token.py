"""ketaclinic create_api_token <username>: print a new API token (shown once; only its digest is kept)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.actions import do_create_api_token
from ketaclinic.accounts.models import User
from ketaclinic.audit.context import CLI
from ketaclinic.errors import InvalidInput


class Command(BaseCommand):
    help = "Create an API bearer token for a staff user and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no staff user named {options['username']!r}")
        try:
            _, secret = do_create_api_token(user, actor=None, origin=CLI)
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(secret)
