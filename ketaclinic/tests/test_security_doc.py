"""docs/security.md names tests that exist: a renamed or removed test fails here, not in an audit.

Each promise's test is written `path::name` (path under ketaclinic/), or `::name` for another test of the
path named before it in the same row.
"""

from __future__ import annotations

import re
from pathlib import Path

import ketaclinic

PACKAGE = Path(ketaclinic.__file__).parent
DOC = PACKAGE.parent / "docs" / "security.md"
_REFERENCE = re.compile(r"`([\w/]+\.py)?::(\w+)`")


def references(text: str) -> list[tuple[str, str]]:
    """(path, test name) for every test the document names."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        path = ""
        for match in _REFERENCE.finditer(line):
            path = match.group(1) or path
            assert path, f"a test named without its file: {line}"
            found.append((path, match.group(2)))
    return found


def test_every_test_the_security_document_names_exists() -> None:
    named = references(DOC.read_text())
    assert len(named) > 80
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (PACKAGE / path).is_file()
        or not re.search(rf"^def {name}\(", (PACKAGE / path).read_text(), re.M)
    ]
    assert missing == []


def test_a_row_continues_the_path_named_before_it() -> None:
    row = "| x | `a/tests/t.py::one`, `::two`, `b/tests/u.py::three` |"
    assert references(row) == [("a/tests/t.py", "one"), ("a/tests/t.py", "two"), ("b/tests/u.py", "three")]
