"""Helpers shared by the browser fixtures and tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage

DEMO_PASSWORD = "ketaclinic-demo"  # ketaclinic/demo/data.py PASSWORD
# Console errors that are not script errors: htmx may apply an inline style that the CSP
# (style-src 'self') refuses; the page still works without it.
IGNORED_CONSOLE = (re.compile(r"inline style"),)


@dataclass
class Console:
    """Console errors and uncaught exceptions seen by a page; a test may allow the ones it expects."""

    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = f"console.error: {message.text} ({message.location.get('url', '')})"
        if any(p.search(text) for p in IGNORED_CONSOLE):
            self.ignored.append(text)
        else:
            self.errors.append(text)

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]
