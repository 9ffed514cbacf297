"""Database sessions and user loading without QuerySets: every page request does both.

The behaviour is Django's own (database-backed sessions, ModelBackend); only the two reads that run on
each request go through a plain cursor (docs/performance.md). Logout and disabling a user still take
effect at once, because the session row and the user are read on every request: only the decoding of a
session's signed data is kept, by that data (SessionStore.decode).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from ketaclinic import fastload
from ketaclinic.accounts.models import User

# The table name comes from the model; values are parameters.
_LOAD = f"SELECT session_data FROM {Session._meta.db_table} WHERE session_key = %s AND expire_date > %s"  # noqa: S608


# Decoded sessions kept per process, by their signed data, most recently used last. A session's data changes
# only when it is saved (its idle-timeout mark, once a minute at most): about one per signed-in browser.
KEPT_SESSIONS = 1024
_SCALARS = (str, int, float, bool, type(None))
_kept: OrderedDict[tuple[str, str | bytes], tuple[tuple[str, Any], ...]] = OrderedDict()
_kept_lock = threading.Lock()


class SessionStore(db.SessionStore):
    def decode(self, session_data: str | bytes) -> dict[str, Any]:
        """Django's decode, kept by the signed data: 28 us a request for the signature's HMAC, the base64,
        the zlib and the JSON, against 2 us to find it and copy it.

        The same signed text always decodes to the same values under the same key (kept by both). Only a
        session that verified and holds plain values (all of KetaClinic's do) is kept, and each request
        gets its own copy; one that does not verify, or holds a list or a dict that a request could change
        in place, is decoded every time, as before (a refusal is logged every time too).
        """
        key = (settings.SECRET_KEY, session_data)
        with _kept_lock:
            kept = _kept.get(key)
            if kept is not None:
                _kept.move_to_end(key)
        if kept is not None:
            return dict(kept)
        values: dict[str, Any] = super().decode(session_data)
        if values and all(isinstance(v, _SCALARS) for v in values.values()):
            with _kept_lock:
                _kept[key] = tuple(values.items())
                if len(_kept) > KEPT_SESSIONS:
                    _kept.popitem(last=False)
        return values

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
