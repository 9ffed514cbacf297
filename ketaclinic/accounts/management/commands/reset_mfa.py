"""ketaclinic reset_mfa <username>: remove a staff member's second factor and end their sessions (audited).

For a lost phone when no other clinic admin can reset it on the staff page (/mfa/staff/), for example a
clinic's only admin. The person enrols a new authenticator at their next sign-in if their role requires one.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.actions import do_reset_mfa
from ketaclinic.accounts.models import User
from ketaclinic.audit.context import CLI


class Command(BaseCommand):
    help = "Reset a staff user's two-step sign-in: their authenticator and recovery codes are removed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no staff user named {options['username']!r}")
        do_reset_mfa(user, actor=None, origin=CLI)
        self.stdout.write(
            f"Two-step sign-in reset for {user.username}; their sessions ended. "
            "They set it up again at their next sign-in if their role requires it."
        )
