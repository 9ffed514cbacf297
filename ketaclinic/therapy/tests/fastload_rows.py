"""Rows of every therapy table for ketaclinic/tests/test_fastload.py, nulls and values both present."""

from __future__ import annotations

from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.patients.models import Patient
from ketaclinic.therapy import actions, inputs
from ketaclinic.therapy.tests.helpers import dose_session, note, staff, therapy_session


def fill(patient: Patient, chair: Chair) -> None:
    therapist: User = staff(patient, "therapist")
    team = [{"user": "therapist.north", "role": "therapist"}, {"user": "nurse.north", "role": "nurse"}]
    actions.do_set_care_team(patient, inputs.CareTeamIn.model_validate({"members": team}), actor=therapist)
    actions.do_set_care_team(
        patient, inputs.CareTeamIn.model_validate({"members": team[:1]}), actor=therapist
    )
    plain = therapy_session(patient, "preparation")
    linked = therapy_session(
        patient, "low_dose_talk", dose_session_id=dose_session(patient).pk, chair_id=chair.pk
    )
    note(plain, template="preparation", intentions="Rest")  # a draft: no signature
    private = note(linked, template="kap", psychotherapy=True, sign=True, in_session="Process")
    actions.do_amend_note(
        private, inputs.NoteAmendmentIn(reason="Late", content={"plan": "Next week"}), actor=therapist
    )
    actions.do_record_note_access(
        private, inputs.NoteReadIn(reason="Covering"), actor=staff(patient, "therapist")
    )
