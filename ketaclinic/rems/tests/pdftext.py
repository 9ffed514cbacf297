"""Read the text runs and page count of an uncompressed PDF written by rems/pdf.py (no PDF library needed)."""

from __future__ import annotations

import re

_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
_BLOCK = re.compile(rb"\bBT\b(.*?)\bET\b", re.S)
_TEXT_RUN = re.compile(rb"\(((?:[^\\)]|\\.)*)\)\s*Tj", re.S)
_PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")


def _unescape(raw: bytes) -> str:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            nxt = raw[i + 1]
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8))
                i += 1 + len(octal.group())
                continue
            out.append({ord("n"): 10, ord("r"): 13, ord("t"): 9}.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return out.decode("cp1252", errors="replace")


def text_runs(pdf: bytes) -> list[str]:
    """Each string drawn with Tj inside a text block of a content stream, in drawing order."""
    return [
        _unescape(m.group(1))
        for stream in _STREAM.finditer(pdf)
        for block in _BLOCK.finditer(stream.group(1))
        for m in _TEXT_RUN.finditer(block.group(1))
    ]


def page_count(pdf: bytes) -> int:
    return len(_PAGE.findall(pdf))
