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


class TimelineItemOut(Out):
    kind: str = Field(
        description="consultation, screening, consent, preparation, dose, integration, kap, questionnaire, "
        "alert or plan_change"
    )
    at: dt.datetime
    title: str = Field(description="What happened, as the caller may see it (never a note's text)")
    ref: str = Field(description="The id of the record (its kind says which)")
    url: str | None = Field(default=None, description="The record's page, where the caller may open one")


class TimelineOut(Out):
    count: int = Field(description="How many entries the caller may see in all (of the kind asked)")
    limit: int
    offset: int
    items: list[TimelineItemOut]
