"""Delivery: e-mail through Django's e-mail backends, text messages through a pluggable sender.

`settings.KETACLINIC_SMS_SENDER` names the text-message sender class (dotted path); it is built once with
no arguments and must have `send(to: str, body: str) -> None`, raising on failure. KetaClinic ships:

- `FileSender`: writes each message to a file of its own in `<data folder>/outbox/sms` (the default, for
  development; the folder is private like the rest of the data folder);
- `MemorySender`: keeps messages in `MemorySender.outbox` (the tests);
- `ConsoleSender`: prints them (development only: a terminal is a log).

A production clinic plugs in its provider's sender (a class with the same `send`). E-mail goes through
`django.core.mail` and the backend settings (file backend by default, SMTP when configured).
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar, Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string


class SmsSender(Protocol):
    def send(self, to: str, body: str) -> None: ...


@dataclass(frozen=True)
class Sms:
    to: str
    body: str


class MemorySender:
    outbox: ClassVar[list[Sms]] = []

    def send(self, to: str, body: str) -> None:
        MemorySender.outbox.append(Sms(to, body))


class ConsoleSender:
    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to {to}\n{body}\n\n")
        sys.stdout.flush()


class FileSender:
    def send(self, to: str, body: str) -> None:
        folder = Path(settings.KETACLINIC_DATA_DIR) / "outbox" / "sms"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{secrets.token_hex(8)}.txt"
        path.write_text(f"To: {to}\n\n{body}\n")
        path.chmod(0o600)


@cache
def sms_sender() -> SmsSender:
    sender: SmsSender = import_string(settings.KETACLINIC_SMS_SENDER)()
    return sender


def send_email(to: str, subject: str, body: str) -> None:
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to]).send(fail_silently=False)


def send_sms(to: str, body: str) -> None:
    sms_sender().send(to, body)
