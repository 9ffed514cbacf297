"""A log filter that keeps request bodies, query strings and form values out of the logs."""

from __future__ import annotations

import logging


class RedactFilter(logging.Filter):
    """Django's request loggers attach the request; drop it so no handler can print its contents."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            request = record.request
            record.request = None
            path = getattr(request, "path", "")
            record.msg = (
                f"{record.levelname} {getattr(request, 'method', '')} {path} ({record.msg.split(':')[0]})"
            )
            record.args = ()
        return True
