"""A log filter that keeps request bodies, query strings and form values out of the logs."""

from __future__ import annotations

import logging

# Django logs each SuspiciousOperation (a bad Host header, an oversized body) to django.security.<Name>
# with its traceback. The traceback says nothing an operator needs (where Django noticed, not a defect of
# ours) and a flood of them buries the log: one line each is kept.
SECURITY_LOGGERS = "django.security."


class RedactFilter(logging.Filter):
    """Django's request loggers attach the request; drop it so no handler can print its contents."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            request = record.request
            record.request = None
            path = getattr(request, "path", "")
            # The message's first words only: a refused Host's message repeats the header it was sent.
            record.msg = (
                f"{record.levelname} {getattr(request, 'method', '')} {path} ({record.msg.split(':')[0]})"
            )
            record.args = ()
        if record.name.startswith(SECURITY_LOGGERS):
            record.exc_info = None
            record.exc_text = None
        return True
