"""The Idempotency-Key header: its name, what a well-formed key is, and what makes two requests the same.

No Django here, so that tools outside the server (the fuzzing hooks) can use it too.
"""

from __future__ import annotations

import hashlib
import re

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
KEY_RULE = f"must be 1 to {KEY_MAX_LENGTH} visible ASCII characters (a UUID will do)"
# An sf-string as the IETF draft writes it ("...") or the bare value most clients send.
_KEY = re.compile(rf"[!-~]{{1,{KEY_MAX_LENGTH}}}")


def parse_key(raw: str) -> str | None:
    """The key of an Idempotency-Key header value, or None when it is empty, too long or not ASCII."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value if _KEY.fullmatch(value) else None


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path with query, and the body byte for byte."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()
