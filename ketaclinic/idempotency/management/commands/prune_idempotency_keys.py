"""ketaclinic prune_idempotency_keys: delete the stored API answers older than KETACLINIC_IDEMPOTENCY_HOURS.

A running server also prunes on its own (at most hourly per process, after a keyed POST); this command is
for cron, or for a server that has had no keyed POST for a while.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ketaclinic.idempotency.store import prune


class Command(BaseCommand):
    help = "Delete the stored answers of API POSTs whose Idempotency-Key has expired."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"expired idempotency keys deleted: {prune()}")
