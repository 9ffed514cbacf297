"""What the Spravato REMS API answers."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from ketaclinic.patients.schemas import Out, Page


class RemsSettingOut(Out):
    location: str
    version: int
    setting_name: str
    address: str
    certification_id: str
    authorised_representative: str
    hcp_name: str
    hcp_phone: str
    hcp_email: str
    asks_sedation: bool
    asks_dissociation: bool
    asks_respiratory_depression: bool
    updated_at: dt.datetime


RemsSettingPage = Page[RemsSettingOut]


class FormFieldOut(Out):
    key: str
    label: str
    value: str
    missing: bool


class FormSectionOut(Out):
    key: str
    title: str
    fields: list[FormFieldOut]


class SubmissionOut(Out):
    session_id: uuid.UUID
    submitted_at: dt.datetime
    confirmation_number: str
    recorded_at: dt.datetime
    recorded_by: str


class RemsFormOut(Out):
    """A session's Patient Monitoring Form as the chart fills it (reference 1.8)."""

    session_id: uuid.UUID
    patient_id: uuid.UUID
    location: str
    session_date: dt.date
    due_on: dt.date = Field(description="The last day to submit: the session's day plus 7, at the location")
    days_left: int = Field(description="Days until due_on, counted at the location; negative when overdue")
    status: str = Field(description="due, overdue or submitted")
    form_version: str
    sections: list[FormSectionOut]
    missing: list[str] = Field(description="Labels of the form's fields the chart does not fill")
    notices: list[str]
    warnings: list[str]
    submission: SubmissionOut | None


class QueueItemOut(Out):
    session_id: uuid.UUID
    patient_id: uuid.UUID
    due_on: dt.date
    days_left: int
    status: str = Field(description="due, or overdue (past due_on)")
