"""Database sessions and user loading without QuerySets: every page request does both.

The behaviour is Django's own (database-backed sessions, ModelBackend); only the two reads that run on
each request go through a plain cursor (docs/performance.md). Logout and disabling a user still take
effect at once, because nothing is cached between requests.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from ketaclinic import fastload
from ketaclinic.accounts.models import User

# The table name comes from the model; values are parameters.
_LOAD = f"SELECT session_data FROM {Session._meta.db_table} WHERE session_key = %s AND expire_date > %s"  # noqa: S608


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(_LOAD, [self.session_key, fastload.param(Session, "expire_date", timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return SimpleNamespace(session_data=row[0])


class StaffBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user = fastload.fetch_one(User, id=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
