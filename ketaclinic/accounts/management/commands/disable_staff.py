"""ketaclinic disable_staff <username>: disable a staff account; its sessions end, its API tokens stop."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.actions import do_disable_staff
from ketaclinic.accounts.models import User
from ketaclinic.audit.context import CLI
from ketaclinic.errors import InvalidInput


class Command(BaseCommand):
    help = "Disable a staff account for good: sessions end and API tokens are revoked at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no staff user named {options['username']!r}")
        try:
            done = do_disable_staff(user, actor=None, origin=CLI)
        except InvalidInput as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"disabled {user.username}: {done.sessions_ended} session(s) ended, "
            f"{done.tokens_revoked} token(s) revoked"
        )
