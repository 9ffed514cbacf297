"""Where an action comes from (web, API, CLI), carried with the request for the audit row."""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.audit.models import Via


@dataclass(frozen=True, slots=True)
class Origin:
    via: str = Via.SYSTEM
    request_id: str = ""
    source_ip: str | None = None


SYSTEM = Origin()
CLI = Origin(via=Via.CLI)


def origin_of(request: object, via: str) -> Origin:
    meta = getattr(request, "META", {})
    return Origin(via=via, request_id=getattr(request, "request_id", ""), source_ip=meta.get("REMOTE_ADDR"))
