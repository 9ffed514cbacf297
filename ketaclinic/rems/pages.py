"""What the form's page, its PDF and the API's answer share: the form of a session with its due date,
days left and submission, each counted at the session's location."""

from __future__ import annotations

from typing import Any

from ketaclinic.clinical.rems import monitoring_form_due
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.rems.form import form_json
from ketaclinic.rems.models import RemsSubmission
from ketaclinic.rems.pdf import render_pdf
from ketaclinic.rems.queries import session_form, submission_of
from ketaclinic.treatment.models import TreatmentSession


def submission_dict(s: RemsSubmission) -> dict[str, Any]:
    return {
        "session_id": s.session_id,
        "submitted_at": s.submitted_at,
        "confirmation_number": s.confirmation_number,
        "recorded_at": s.recorded_at,
        "recorded_by": s.recorded_by.get_full_name() or s.recorded_by.username,
    }


def form_context(session: TreatmentSession) -> dict[str, Any]:
    """The form, its JSON answer and what the page shows around it."""
    form = session_form(session)
    due = monitoring_form_due(session.date)
    days_left = (due - local_today(session.location)).days
    submission = submission_of(session)
    status = "submitted" if submission else ("overdue" if days_left < 0 else "due")
    body = {
        "session_id": session.pk,
        "patient_id": session.patient_id,
        "location": session.location.slug,
        "session_date": session.date,
        "due_on": due,
        "days_left": days_left,
        "status": status,
        **form_json(form),
        "submission": submission_dict(submission) if submission else None,
    }
    return {"form": form, "json": body, "submission": submission, "status": status}


def pdf_title(session: TreatmentSession) -> str:
    return f"{session.location.name} \u00b7 session {session.number} on {session.date.isoformat()}"


def form_pdf(session: TreatmentSession) -> bytes:
    return render_pdf(session_form(session), title=pdf_title(session))
