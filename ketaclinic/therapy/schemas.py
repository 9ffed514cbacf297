"""What the therapy API answers (plain pydantic models, like every area's Out models)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from ketaclinic.patients.schemas import Out


class CareTeamMemberOut(Out):
    user: str = Field(description="The staff member's username")
    role: str = Field(description="prescriber, nurse, therapist or coach")


class CareTeamOut(Out):
    members: list[CareTeamMemberOut]


class TherapySessionCreatedOut(Out):
    id: uuid.UUID
    kind: str
    status: str


class NoteCreatedOut(Out):
    id: uuid.UUID
    status: str


class NoteAmendmentOut(Out):
    id: int
    amended_at: dt.datetime
    amended_by: str
    reason: str
    content: dict[str, str]


class NoteOut(Out):
    id: uuid.UUID
    session_id: uuid.UUID
    patient_id: uuid.UUID
    kind: str = Field(description="The session's kind")
    template: str
    content: dict[str, str] = Field(description="The template's fields as written before signing")
    psychotherapy_note: bool
    status: str
    author: str
    written_at: dt.datetime
    signed_at: dt.datetime | None
    signed_by: str | None
    amendments: list[NoteAmendmentOut]
