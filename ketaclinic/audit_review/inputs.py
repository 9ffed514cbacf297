"""What the audit trail's filter form may send: known fields with known values, nothing else.

A field the form does not have, a value outside its choices or too long, or a field sent twice is refused
with a message naming it (422), never ignored and never handed to the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ketaclinic.audit.models import Action
from ketaclinic.audit_review.queries import SORTS

DIRECTIONS = ("desc", "asc")


class AuditFilterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    patient_mrn: str = Field(default="", max_length=20)
    username: str = Field(default="", max_length=150)
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "time"
    direction: str = "desc"
    page: int = Field(default=1, ge=1)
    export: str = ""

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _blank_date(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str) -> str:
        if value and value not in Action.values:
            raise ValueError("choose one of the listed actions")
        return value

    @field_validator("direction")
    @classmethod
    def _known_direction(cls, value: str) -> str:
        if value not in DIRECTIONS:
            raise ValueError("choose newest first (desc) or oldest first (asc)")
        return value

    @field_validator("export")
    @classmethod
    def _known_export(cls, value: str) -> str:
        if value not in {"", "csv"}:
            raise ValueError("the trail exports as csv only")
        return value

    @field_validator("sort")
    @classmethod
    def _known_sort(cls, value: str) -> str:
        if value not in SORTS:
            raise ValueError("choose one of the listed columns")
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_to: the end date is before the start date")
        return self
