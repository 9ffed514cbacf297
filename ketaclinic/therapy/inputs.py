"""What a client may send to keep a care team, schedule therapy sessions and write their notes, validated
once for pages and API (patients/inputs.py explains the conventions: unknown fields refused, every message
naming its field, times with their UTC offset)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StrictInt, model_validator

from ketaclinic.patients.inputs import Moment, Strict, Text, bounded, refuse_unsafe_text
from ketaclinic.therapy.models import (
    DURATION_MINUTES_MAX,
    DURATION_MINUTES_MIN,
    CareTeamRole,
    TherapyKind,
    TherapyMode,
)
from ketaclinic.therapy.templates import FIELD_MAX_CHARS, TEMPLATES

CARE_TEAM_MAX = 20
Reason = Annotated[str, Text(300, required=True)]


def _texts(value: dict[str, str]) -> dict[str, str]:
    for key, text in value.items():
        refuse_unsafe_text(key)
        refuse_unsafe_text(text)
    return {key: text.strip() for key, text in value.items()}


Content = Annotated[
    dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=FIELD_MAX_CHARS)]],
    AfterValidator(_texts),
]


class CareTeamMemberIn(Strict):
    # The staff member's username; they must be staff of the patient's location in a fitting role.
    user: Annotated[str, Text(150, required=True)]
    role: CareTeamRole


class CareTeamIn(Strict):
    """The whole care team (it replaces the one kept): each member once per role."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "members": [
                        {"user": "prescriber.north", "role": "prescriber"},
                        {"user": "therapist.north", "role": "therapist"},
                    ]
                }
            ]
        }
    )
    members: Annotated[list[CareTeamMemberIn], Field(max_length=CARE_TEAM_MAX)]

    @model_validator(mode="after")
    def _once(self) -> CareTeamIn:
        seen: set[tuple[str, str]] = set()
        for index, member in enumerate(self.members):
            key = (member.user, member.role)
            if key in seen:
                raise ValueError(
                    f"members: {member.user} is listed twice as {member.role} (member {index + 1})"
                )
            seen.add(key)
        return self


class TherapySessionIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "integration",
                    "starts_at": "2026-03-04T15:00:00-08:00",
                    "duration_minutes": 50,
                    "dose_session_id": "5b1f0c1e-8d7a-4d43-9c55-2f0d7f6f7a10",
                    "mode": "video",
                }
            ]
        }
    )
    kind: TherapyKind
    starts_at: Moment
    duration_minutes: Annotated[StrictInt, bounded(DURATION_MINUTES_MIN, DURATION_MINUTES_MAX)]
    # The dose session (of this patient) it prepares or integrates; required for low-dose talk therapy.
    dose_session_id: uuid.UUID | None = None
    mode: TherapyMode = TherapyMode.IN_PERSON
    # A chair or room of the patient's location, when the session uses one.
    chair_id: StrictInt | None = None

    @model_validator(mode="after")
    def _checks(self) -> TherapySessionIn:
        if not DURATION_MINUTES_MIN <= self.duration_minutes <= DURATION_MINUTES_MAX:
            raise ValueError(
                f"duration_minutes: must be between {DURATION_MINUTES_MIN} and {DURATION_MINUTES_MAX} minutes"
            )
        if self.kind == TherapyKind.LOW_DOSE_TALK and self.dose_session_id is None:
            raise ValueError("dose_session_id: low-dose talk therapy is linked to its dose session")
        return self


def content_problem(template: str, content: dict[str, str]) -> str | None:
    """What is wrong with a note's content for its template (a field it does not have, no text), or None."""
    keys = TEMPLATES[template].keys
    for key in content:
        if key not in keys:
            return f"'{key}' is not a field of the {template} template ({', '.join(keys)})"
    if not any(content.values()):
        return f"write at least one of the template's fields ({', '.join(keys)})"
    return None


class NoteIn(Strict):
    """A draft note in one template's fields. Sent again while the draft is open, it replaces its content."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "template": "integration",
                    "content": {"experience": "Felt held", "homework": "Journal daily"},
                    "psychotherapy_note": False,
                }
            ]
        }
    )
    template: Annotated[str, Field(json_schema_extra={"enum": sorted(TEMPLATES)})]
    content: Content
    psychotherapy_note: StrictBool = False

    @model_validator(mode="after")
    def _known(self) -> NoteIn:
        if self.template not in TEMPLATES:
            raise ValueError(
                f"template: '{self.template}' is not a note template ({', '.join(sorted(TEMPLATES))})"
            )
        problem = content_problem(self.template, self.content)
        if problem:
            raise ValueError(f"content: {problem}")
        return self


class NoteAmendmentIn(Strict):
    """A late entry or correction to a signed note: why, and the fields it changes."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Late entry", "content": {"homework": "Walk daily"}}]}
    )
    reason: Reason
    content: Content


class NoteSignIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class NoteReadIn(Strict):
    """Why another author's psychotherapy note is being read (kept with the read, audited)."""

    reason: Reason
