"""ketaclinic revoke_api_tokens <username>: revoke every API token of a staff account at once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.actions import do_revoke_api_tokens
from ketaclinic.accounts.models import User
from ketaclinic.audit.context import CLI


class Command(BaseCommand):
    help = "Revoke all API tokens of a staff user (a lost device, a leaked script)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no staff user named {options['username']!r}")
        count = do_revoke_api_tokens(user, actor=None, origin=CLI)
        self.stdout.write(f"revoked {count} token{'' if count == 1 else 's'} of {user.username}")
