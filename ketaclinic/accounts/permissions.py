"""Who may do what: the one reviewed table of roles and permissions.

A permission is granted per location: a nurse at north may read north's patients and nothing of south.
Change this file only with a review, and keep tests/test_permissions in step with it.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    CLINIC_ADMIN = "clinic_admin", "Clinic admin"
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse"
    THERAPIST = "therapist", "Therapist"
    FRONT_DESK = "front_desk", "Front desk / billing"


class Perm(StrEnum):
    PATIENT_READ = "patient.read"
    # Registering patients and keeping demographics, contact and intake history current.
    PATIENT_WRITE = "patient.write"
    # Break-glass: read one patient of another location of the network, for a limited time, with a reason
    # (ketaclinic/emergency). Clinicians who treat emergencies hold it; front desk and therapists do not.
    EMERGENCY_ACCESS = "patient.emergency_access"
    # Treatment (ketaclinic/treatment): prescribing a plan (create, approve, pause, change, end) is a
    # prescriber's; checking a patient in for a session is the front desk's as well as the clinicians';
    # charting the session (pre-dose checks, vitals, the dose, observations, adverse events, discharge,
    # sign-off, amendments) is the nurses' and prescribers'. Reading plans and sessions is PATIENT_READ.
    TREATMENT_PRESCRIBE = "treatment.prescribe"
    TREATMENT_CHECK_IN = "treatment.check_in"
    TREATMENT_CHART = "treatment.chart"
    AUDIT_READ = "audit.read"
    # Running an eligibility screening and acknowledging its findings with a reason: a clinical judgement
    # that gates treatment, made by the clinician who prescribes.
    SCREENING_RUN = "screening.run"
    # Recording a patient's Spravato REMS enrolment (prescriber and patient sign the enrolment form).
    REMS_ENROL = "rems.enrol"
    # Witnessing a patient's signature on a consent document: the clinician present at the signing.
    CONSENT_WITNESS = "consent.witness"
    # Publishing a new version of a location's consent documents: the clinic's administration.
    CONSENT_DOCUMENTS = "consent.documents"
    STAFF_MANAGE = "staff.manage"
    # The location's clinic policy, time zone and chairs and rooms: every staff member of the location reads
    # them (they are the thresholds and places of their working day, not PHI); a clinic admin changes them.
    CLINIC_READ = "clinic.read"
    CLINIC_MANAGE = "clinic.manage"
    # The controlled-substance ledger of a location (ketaclinic/ledger): balances, events, loss reports and
    # the DEA report. Not a PHI permission: who was given a dose (patient id, name, address, MRN) is shown
    # only to a reader who also holds PATIENT_READ at the location (ledger/access.py, sees_patients).
    LEDGER_READ = "ledger.read"
    # Receiving, wasting, breakage, disposal, transfers, counting, adjusting, reporting a theft or loss, and
    # witnessing another's waste, breakage or disposal: the clinicians who handle the drug. Administrations
    # are written by the dose action of the treatment session.
    LEDGER_WRITE = "ledger.write"
    # Spravato REMS (ketaclinic/rems). The queue of Patient Monitoring Forms due at a location: session,
    # patient id, due date and status, never a name unless the user also reads patients there.
    REMS_QUEUE_READ = "rems.queue_read"
    # Producing a session's Patient Monitoring Form and recording its submission: the clinicians who chart
    # and monitor the session (the form is PHI, so it is also read through the patient's access getter).
    REMS_SUBMIT = "rems.submit"
    # The location's certified-setting details (name, address, certification id, authorised representative,
    # monitoring HCP defaults): run by whoever runs the clinic.
    REMS_SETTING_MANAGE = "rems.setting_manage"
    # Inviting a patient to the patient portal from the chart (ketaclinic/portal): whoever keeps the
    # patient's contact details (the roles that write patients).
    PORTAL_INVITE = "portal.invite"
    # Measurement-based care's safety work (ketaclinic/assessments/safety.py): entering a C-SSRS screener
    # (which closes a positive suicide item's task), recording a safety plan (which closes a high C-SSRS
    # result's urgent alert) and closing a worsening flag after review. A clinical judgement about suicide
    # risk, made by the prescriber.
    SAFETY_ASSESS = "safety.assess"
    # The clinician worklist of a location: assessments due and overdue, open safety alerts, patients not
    # responding after induction and patients losing response in maintenance (patient ids, names, scores).
    WORKLIST_READ = "worklist.read"
    # Measurement-based care (ketaclinic/assessments): entering a questionnaire or rating from the chart (a
    # clinician's MADRS, a PHQ-9 answered on paper in the clinic): the clinicians who see the patient.
    # Reading scores, trends and item-level answers is PATIENT_READ.
    ASSESSMENT_RECORD = "assessment.record"
    # Asking a patient for a questionnaire: a one-off request with its self-report link, sent by e-mail or
    # text message (the plan's schedule asks on its own). The clinicians who follow the patient's scores.
    ASSESSMENT_REQUEST = "assessment.request"
    # Costs and billing (ketaclinic/billing). The location's price list: read by whoever handles money (front
    # desk, clinic admins), kept by clinic admins. Not PHI.
    BILLING_PRICES_READ = "billing.prices_read"
    BILLING_PRICES_MANAGE = "billing.prices_manage"
    # A patient's money: coverage (with the card images), benefits checks, invoices of signed sessions,
    # payments, refunds, write-offs, credit notes and balances. The front desk's; nurses and therapists see
    # none of it.
    BILLING_HANDLE = "billing.handle"
    # A course estimate of a plan (made and read): the prescriber shows it to the patient; front desk too.
    BILLING_ESTIMATE = "billing.estimate"
    # The calendar of a location (ketaclinic/scheduling): its appointments with the patients' names, its
    # courses. Front desk, nurses and prescribers read it; front desk books, cancels and records no-shows.
    # Opening hours, closures, shifts and prescriber windows are CLINIC_MANAGE (clinic admins).
    SCHEDULE_READ = "schedule.read"
    SCHEDULE_BOOK = "schedule.book"
    # A therapist's own sessions on the calendar: booking, moving and cancelling preparation and integration
    # visits where they are the clinician, at a location where they hold it (scheduling/access.py checks the
    # kind and the clinician of each record). Never a dosing visit, never a colleague's session, and no
    # override of a hard rule (that stays the front desk's); reading the whole calendar is SCHEDULE_READ.
    SCHEDULE_BOOK_OWN = "schedule.book_own"
    # Ketamine-assisted psychotherapy (ketaclinic/therapy). Keeping a patient's care team (who prescribes,
    # nurses, does the therapy and coaches): the clinicians who treat the patient.
    CARE_TEAM_WRITE = "care_team.write"
    # Scheduling and recording preparation, integration, KAP and low-dose talk sessions and writing, signing
    # and amending their notes: the therapist's work (and the prescriber's, who may lead a KAP session). The
    # schedule itself (kind, time, mode) is PATIENT_READ: the front desk sees it.
    THERAPY_WRITE = "therapy.write"
    # Reading the content of therapy notes that are part of the record (preparation, integration, KAP):
    # the clinicians of the patient's location; the front desk sees the schedule but no note content.
    THERAPY_NOTE_READ = "therapy.note_read"
    # Reading another author's psychotherapy note (process notes kept apart from the record), with a reason
    # given on each read and audited: the location's therapists (a covering colleague). The author always
    # reads their own; to everyone else such a note does not exist (404).
    PSYCHOTHERAPY_NOTE_READ = "therapy.psychotherapy_note_read"
    # Billing reports of a location (revenue by modality, payer and month; balances by age; authorisations
    # expiring soon) and their CSV exports: clinic admins. The expiring-authorisation list names patients:
    # each one named is audited as a read of that patient.
    BILLING_REPORTS = "billing.reports"
    # FHIR bulk export of a location's patients (ketaclinic/fhir): every chart of the location leaves the
    # clinic at once, so only the prescriber (who reads every chart and answers for the record) starts one.
    FHIR_EXPORT = "fhir.export"
    # Outcome analytics (ketaclinic/outcomes): a cohort's response, remission, attrition and durability of
    # response, aggregates only (no patient is named). The clinic admins and prescribers of the location; the
    # whole network's report only for whoever holds it at every location of the network.
    OUTCOMES_READ = "outcomes.read"


ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    # Runs the clinic: staff, settings and the audit trail. Sees charts only if also given a clinical role.
    # One permission a line, each area's with its reason, so that areas add grants without colliding.
    Role.CLINIC_ADMIN: frozenset(
        {
            Perm.AUDIT_READ,
            Perm.STAFF_MANAGE,
            # Keeps the consent documents (their text is not PHI).
            Perm.CONSENT_DOCUMENTS,
            # Reads the controlled-substance ledger and produces its report for an inspection; never
            # records in it.
            Perm.LEDGER_READ,
            # Oversees REMS compliance (the queue of forms due, the setting's certification) without
            # reading forms.
            Perm.REMS_QUEUE_READ,
            Perm.REMS_SETTING_MANAGE,
            # Keeps the location's clinic policy, time zone, and chairs and rooms.
            Perm.CLINIC_READ,
            Perm.CLINIC_MANAGE,
            # Keeps the location's price list (items, codes, amounts, effective dates); a patient's money is
            # the front desk's (an admin who is also front desk handles both).
            Perm.BILLING_PRICES_READ,
            Perm.BILLING_PRICES_MANAGE,
            # Reads the location's billing reports and exports them (revenue, ageing, authorisations).
            Perm.BILLING_REPORTS,
            # Reads the location's outcome report (aggregates, no patient named).
            Perm.OUTCOMES_READ,
        }
    ),
    Role.PRESCRIBER: frozenset(
        {
            Perm.PATIENT_READ,
            Perm.PATIENT_WRITE,
            Perm.EMERGENCY_ACCESS,
            Perm.SCREENING_RUN,
            Perm.REMS_ENROL,
            Perm.CONSENT_WITNESS,
            Perm.LEDGER_READ,
            Perm.LEDGER_WRITE,
            Perm.REMS_QUEUE_READ,
            Perm.REMS_SUBMIT,
            Perm.CLINIC_READ,
            # Prescribes, approves and changes treatment plans; may also check in and chart a session.
            Perm.TREATMENT_PRESCRIBE,
            Perm.TREATMENT_CHECK_IN,
            Perm.TREATMENT_CHART,
            Perm.PORTAL_INVITE,
            # Completes the C-SSRS a positive suicide item asks for, records safety plans, reviews worsening.
            Perm.SAFETY_ASSESS,
            # Works the clinician worklist of due assessments, safety alerts and patients not responding.
            Perm.WORKLIST_READ,
            # Rates the patient (MADRS, C-SSRS) and enters questionnaires from the chart.
            Perm.ASSESSMENT_RECORD,
            # Sends the patient a questionnaire between visits.
            Perm.ASSESSMENT_REQUEST,
            # Shows the patient the expected cost of the course before approving it.
            Perm.BILLING_ESTIMATE,
            # Reads the calendar: who is coming to which chair when (front desk books).
            Perm.SCHEDULE_READ,
            # Keeps the care team; may lead a KAP session and write its notes; reads therapy notes (not
            # psychotherapy notes).
            Perm.CARE_TEAM_WRITE,
            Perm.THERAPY_WRITE,
            Perm.THERAPY_NOTE_READ,
            # Exports the location's charts as FHIR (Patient/$export, Group/{location}/$export).
            Perm.FHIR_EXPORT,
            # Reads the location's outcome report (aggregates, no patient named).
            Perm.OUTCOMES_READ,
        }
    ),
    # Reads screenings; witnesses consent at the chair side; handles the drug; submits REMS forms; runs the
    # treatment day (checks patients in, charts and discharges them) but never prescribes.
    Role.NURSE: frozenset(
        {
            Perm.PATIENT_READ,
            Perm.PATIENT_WRITE,
            Perm.EMERGENCY_ACCESS,
            Perm.CONSENT_WITNESS,
            Perm.LEDGER_READ,
            Perm.LEDGER_WRITE,
            Perm.REMS_QUEUE_READ,
            Perm.REMS_SUBMIT,
            Perm.CLINIC_READ,
            Perm.TREATMENT_CHECK_IN,
            Perm.TREATMENT_CHART,
            Perm.PORTAL_INVITE,
            # Sees the worklist (chases due questionnaires, sees open alerts) but never closes a safety alert.
            Perm.WORKLIST_READ,
            # Enters questionnaires and ratings taken at the chair side.
            Perm.ASSESSMENT_RECORD,
            # Sends the patient a questionnaire between visits.
            Perm.ASSESSMENT_REQUEST,
            # Reads the calendar: who is coming to which chair when.
            Perm.SCHEDULE_READ,
            # Keeps the care team; reads integration and preparation notes, never psychotherapy notes.
            Perm.CARE_TEAM_WRITE,
            Perm.THERAPY_NOTE_READ,
        }
    ),
    # Reads the chart to prepare and integrate sessions; the medical history is kept by others.
    Role.THERAPIST: frozenset(
        {
            Perm.PATIENT_READ,
            Perm.CLINIC_READ,
            # Enters the questionnaires and ratings of the sessions they integrate.
            Perm.ASSESSMENT_RECORD,
            # Sends the patient a questionnaire between sessions.
            Perm.ASSESSMENT_REQUEST,
            # Schedules and records therapy sessions, writes and signs their notes, keeps the care team;
            # reads a colleague's psychotherapy note only with a reason (audited).
            Perm.CARE_TEAM_WRITE,
            Perm.THERAPY_WRITE,
            Perm.THERAPY_NOTE_READ,
            Perm.PSYCHOTHERAPY_NOTE_READ,
            # Works the worklist: integration due after each dose of their KAP patients (therapy/kap.py).
            Perm.WORKLIST_READ,
            # Books, moves and cancels their own preparation and integration sessions on the calendar.
            Perm.SCHEDULE_BOOK_OWN,
        }
    ),
    # Intake: registers patients and records the history the patient brings.
    Role.FRONT_DESK: frozenset(
        {
            Perm.PATIENT_READ,
            Perm.PATIENT_WRITE,
            Perm.CLINIC_READ,
            # Checks patients in on arrival; never charts the treatment itself (no dose, vitals, discharge).
            Perm.TREATMENT_CHECK_IN,
            Perm.PORTAL_INVITE,
            # Handles the money: prices, coverage and benefits checks, estimates, invoices and payments.
            Perm.BILLING_PRICES_READ,
            Perm.BILLING_HANDLE,
            Perm.BILLING_ESTIMATE,
            # Keeps the calendar: books visits and courses, cancels, records no-shows.
            Perm.SCHEDULE_READ,
            Perm.SCHEDULE_BOOK,
        }
    ),
}


def permissions_of(role: str) -> frozenset[Perm]:
    return ROLE_PERMISSIONS.get(role, frozenset())


# The permissions that open patient records: a role holding any of them reads PHI, so an admin may not
# grant it to themselves without a second admin (accounts/actions.py, do_request_role).
PHI_PERMISSIONS = frozenset(
    {
        Perm.PATIENT_READ,
        Perm.PATIENT_WRITE,
        Perm.EMERGENCY_ACCESS,
        Perm.TREATMENT_PRESCRIBE,
        Perm.TREATMENT_CHECK_IN,
        Perm.TREATMENT_CHART,
        Perm.SAFETY_ASSESS,
        Perm.WORKLIST_READ,
        Perm.BILLING_HANDLE,
        Perm.BILLING_ESTIMATE,
        Perm.SCHEDULE_READ,
        Perm.SCHEDULE_BOOK,
        Perm.SCHEDULE_BOOK_OWN,
        Perm.CARE_TEAM_WRITE,
        Perm.THERAPY_WRITE,
        Perm.THERAPY_NOTE_READ,
        Perm.PSYCHOTHERAPY_NOTE_READ,
        Perm.FHIR_EXPORT,
    }
)


def reads_phi(role: str) -> bool:
    return bool(permissions_of(role) & PHI_PERMISSIONS)
