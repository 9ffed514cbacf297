"""The outcome extract kept on disk, so that a server process's first report does not read 2 million rows.

One file per database in the data folder: `<data folder>/outcomes/extract-<hash of the database>.kcx`
(the folder 0700, the file 0600: it holds patient ids and scores, so it is PHI like the database and lives
and is backed up or excluded with it; never in /tmp, never logged). It is written whole to a temporary
file beside it, flushed, then renamed over the old one, so a reader sees the old file or the new one.

Layout: a magic line, the header's length (8 bytes, big-endian), the header (JSON: format version, the
database it was read from, the extract's high-water marks, the three frames' lengths and the SHA-256 of
the body), then the body: the patient numbering, the plans and the scores as Arrow IPC (zstd). Anything
unexpected (missing, short, another version or database, a checksum that does not match, a frame that
does not parse) makes `load` answer None and the caller reads the database as before.

The file is only a starting point: extract.current() checks it against the database (the row count and
the last row's fingerprint up to its high-water mark) and then brings it up to date exactly as it does the
extract it holds in memory, so a report from the file shows what a report from the database shows.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import secrets
import struct
import time
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings

log = logging.getLogger(__name__)

MAGIC = b"KETACLINIC-OUTCOMES-EXTRACT\n"
VERSION = 1
FRAMES = ("ids", "plans", "scores")
FOLDER_MODE = 0o700
FILE_MODE = 0o600


def folder() -> Path:
    return Path(settings.KETACLINIC_DATA_DIR) / "outcomes"


def path_for(key: str) -> Path:
    """The file of one database (the name hashes the database's key, which is no secret but says nothing)."""
    return folder() / f"extract-{hashlib.sha256(key.encode()).hexdigest()[:16]}.kcx"


def save(key: str, marks: dict[str, Any], frames: dict[str, pl.DataFrame]) -> Path:
    """Write the extract atomically (temporary file 0600, fsync, rename); `marks` are JSON scalars."""
    blobs = []
    for name in FRAMES:
        buffer = io.BytesIO()
        frames[name].write_ipc(buffer, compression="zstd")
        blobs.append(buffer.getvalue())
    body = b"".join(blobs)
    header = json.dumps(
        {
            "version": VERSION,
            "key": key,
            "marks": marks,
            "lengths": [len(blob) for blob in blobs],
            "sha256": hashlib.sha256(body).hexdigest(),
        }
    ).encode()
    target = path_for(key)
    target.parent.mkdir(mode=FOLDER_MODE, exist_ok=True)
    target.parent.chmod(FOLDER_MODE)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(MAGIC + struct.pack(">Q", len(header)) + header + body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _sweep(target.parent)
    return target


def _sweep(where: Path) -> None:
    """Remove temporary files a killed writer left (older than an hour: none is being written)."""
    stale = time.time() - 3600
    for leftover in where.glob(".extract-*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < stale:
                leftover.unlink()


def load(key: str) -> tuple[dict[str, Any], dict[str, pl.DataFrame]] | None:
    """(marks, frames) of this database's file, or None when there is none or it cannot be trusted."""
    target = path_for(key)
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("outcome extract file unreadable (%s); reading the database", exc.strerror)
        return None
    try:
        return _parse(key, data)
    except Exception as exc:  # any damage means: read the database instead
        log.warning("outcome extract file not used (%s); reading the database", type(exc).__name__)
        return None


class Unusable(ValueError):
    pass


def _parse(key: str, data: bytes) -> tuple[dict[str, Any], dict[str, pl.DataFrame]]:
    if not data.startswith(MAGIC):
        raise Unusable("magic")
    start = len(MAGIC) + 8
    (size,) = struct.unpack(">Q", data[len(MAGIC) : start])
    header = json.loads(data[start : start + size])
    body = memoryview(data)[start + size :]
    if header.get("version") != VERSION or header.get("key") != key:
        raise Unusable("version or database")
    lengths = [int(n) for n in header["lengths"]]
    if len(lengths) != len(FRAMES) or sum(lengths) != len(body):
        raise Unusable("length")
    if hashlib.sha256(body).hexdigest() != header["sha256"]:
        raise Unusable("checksum")
    frames, offset = {}, 0
    for name, length in zip(FRAMES, lengths, strict=True):
        frames[name] = pl.read_ipc(io.BytesIO(body[offset : offset + length]))
        offset += length
    return header["marks"], frames
