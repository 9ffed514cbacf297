"""Memos that last one test.

The world's rows keep their ids from one test to the next (conftest.Snapshot writes the same rows back), so a
memo keyed by a patient's id, such as the state an access matrix prepared for a route, must be forgotten when
the test that filled it ends: the rows it names were rolled back with that test.
"""

from __future__ import annotations

from typing import Any

_MEMOS: list[dict[Any, Any]] = []


def per_test() -> dict[Any, Any]:
    """A dict emptied at the start of every test that asks for the world."""
    memo: dict[Any, Any] = {}
    _MEMOS.append(memo)
    return memo


def forget() -> None:
    for memo in _MEMOS:
        memo.clear()
