"""The audit trail: one append-only, hash-chained row per read, write, denial and privilege change.

Rows carry who, what, which patient and which fields changed, never the values. Database triggers refuse
UPDATE and DELETE (migration 0002); the SHA-256 chain makes an edit that bypasses them detectable.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    LOGIN = "auth.login", "Logged in"
    LOGIN_FAILED = "auth.login_failed", "Failed login"
    LOGIN_LOCKED = "auth.login_locked", "Login refused (locked out)"
    LOGIN_THROTTLED = "auth.login_throttled", "Login refused (too many from this address)"
    API_AUTH_FAILED = "auth.api_failed", "API authentication failed"
    API_AUTH_THROTTLED = "auth.api_throttled", "API authentication refused (too many from this address)"
    LOGOUT = "auth.logout", "Logged out"
    SESSION_TIMEOUT = "auth.session_timeout", "Session timed out"
    MFA_ENROL = "auth.mfa_enrol", "Second factor enrolled"
    MFA_VERIFIED = "auth.mfa_verified", "Second factor passed"
    MFA_RECOVERY_USED = "auth.mfa_recovery_used", "Recovery code used"
    MFA_FAILED = "auth.mfa_failed", "Second factor refused"
    MFA_RESET = "auth.mfa_reset", "Second factor reset"
    TOKEN_CREATE = "auth.token_create", "API token created"
    TOKEN_REVOKE = "auth.token_revoke", "API token revoked"
    TOKEN_REVOKE_ALL = "auth.token_revoke_all", "All API tokens of an account revoked"
    STAFF_CREATE = "staff.create", "Staff account created"
    STAFF_UPDATE = "staff.update", "Staff account changed"
    STAFF_DISABLE = "staff.disable", "Staff account disabled"
    ROLE_GRANT = "staff.role_grant", "Role granted"
    ROLE_REVOKE = "staff.role_revoke", "Role revoked"
    ROLE_REQUEST = "staff.role_request", "Role requested for oneself (needs a second admin)"
    ROLE_APPROVE = "staff.role_approve", "Role request approved by a second admin"
    ROLE_DECLINE = "staff.role_decline", "Role request declined or withdrawn"
    LOCATION_CREATE = "clinic.location_create", "Clinic location created"
    # Clinic policy (ketaclinic/clinicpolicy): the row names the change, whose old and new values it keeps.
    POLICY_CHANGE = "clinic.policy_change", "Clinic policy or time zone changed"
    CHAIR_ADD = "clinic.chair_add", "Chair or room added"
    CHAIR_RENAME = "clinic.chair_rename", "Chair or room renamed"
    CHAIR_RETIRE = "clinic.chair_retire", "Chair or room retired"
    PATIENT_CREATE = "patient.create", "Patient registered"
    PATIENT_READ = "patient.read", "Patient record read"
    PATIENT_UPDATE = "patient.update", "Patient record changed"
    PATIENT_SEARCH = "patient.search", "Patients searched"
    PATIENT_LIST = "patient.list", "Patient list viewed"
    RECORD_CREATE = "record.create", "Clinical entry added"
    RECORD_UPDATE = "record.update", "Clinical entry changed"
    # Treatment (ketaclinic/treatment): plans and the session chart. Rows name the record, never values.
    PLAN_CREATE = "treatment.plan_create", "Treatment plan prescribed"
    PLAN_CHANGE = "treatment.plan_change", "Treatment plan approved, paused, resumed, changed or ended"
    SESSION_UPDATE = "treatment.session_update", "Treatment session checked in, assigned or signed"
    SESSION_CHART = "treatment.session_chart", "Treatment session charted"
    SESSION_AMEND = "treatment.session_amend", "Signed treatment session amended"
    AUDIT_READ = "audit.read", "Audit trail reviewed"
    AUDIT_EXPORT = "audit.export", "Audit trail exported"
    ACCESS_DENIED = "access.denied", "Access denied"
    CSRF_FAILURE = "access.csrf_failure", "Request refused (CSRF check failed)"
    # Break-glass (ketaclinic/emergency): the grant (or a refused request), each read under it, its early
    # end, and its review by the patient's location's admins. Rows name the grant, never the reason.
    EMERGENCY_GRANT = "emergency.grant", "Emergency access requested"
    EMERGENCY_READ = "emergency.read", "Patient record read under emergency access"
    EMERGENCY_END = "emergency.end", "Emergency access ended"
    EMERGENCY_REVIEW = "emergency.review", "Emergency access reviewed"
    SCREENING_RUN = "screening.run", "Screening run"
    SCREENING_ACKNOWLEDGE = "screening.acknowledge", "Screening finding acknowledged"
    REMS_ENROL = "rems.enrol", "REMS patient enrolment recorded"
    CONSENT_DOCUMENT_PUBLISH = "consent.document_publish", "Consent document version published"
    CONSENT_SIGN = "consent.sign", "Consent signed and witnessed"
    # Controlled-substance ledger (ketaclinic/ledger): one row per event written, witness and report.
    LEDGER_PRODUCT = "ledger.product", "Controlled-substance product added"
    LEDGER_RECEIVE = "ledger.receive", "Controlled substance received"
    LEDGER_ADMINISTER = "ledger.administer", "Controlled substance administered"
    LEDGER_WASTE = "ledger.waste", "Controlled substance wasted"
    LEDGER_WITNESS = "ledger.witness", "Controlled-substance waste witnessed"
    LEDGER_COUNT = "ledger.count", "Controlled-substance physical count"
    LEDGER_ADJUST = "ledger.adjust", "Controlled-substance balance adjusted"
    LEDGER_REPORT = "ledger.report", "Controlled-substance report produced"
    LEDGER_BREAKAGE = "ledger.breakage", "Controlled-substance breakage or spillage recorded"
    LEDGER_DISPOSE = "ledger.dispose", "Controlled substance disposed of"
    LEDGER_TRANSFER = "ledger.transfer", "Controlled substance transferred between locations"
    LEDGER_LOSS = "ledger.loss", "Controlled-substance theft or significant loss reported"
    LEDGER_LOSS_STEP = "ledger.loss_step", "DEA notice or Form 106 of a loss recorded"
    LEDGER_LOSS_EXPORT = "ledger.loss_export", "DEA Form 106 data exported"
    # Spravato REMS (ketaclinic/rems): a location's certified-setting details saved; a session's Patient
    # Monitoring Form submission recorded (reading a form is a patient.read).
    REMS_SETTING_SAVE = "rems.setting_save", "REMS setting details saved"
    REMS_SUBMISSION = "rems.submission", "REMS monitoring form submission recorded"
    # Measurement-based care (ketaclinic/assessments): a scored response recorded (reading one is a
    # patient.read). Rows name the response, never its answers.
    ASSESSMENT_RECORD = "assessment.record", "Assessment recorded"
    # Patient portal (ketaclinic/portal): staff invite a patient; the patient sets a password, signs in and
    # out. Rows written by a patient name their portal account (patient_account), never a staff actor.
    PORTAL_INVITE = "portal.invite", "Patient invited to the portal"
    PORTAL_ACTIVATE = "portal.activate", "Patient portal password set from an invitation"
    PORTAL_LOGIN = "portal.login", "Patient signed in to the portal"
    PORTAL_LOGIN_FAILED = "portal.login_failed", "Failed patient portal sign-in"
    PORTAL_LOGIN_LOCKED = "portal.login_locked", "Patient portal sign-in refused (locked out or throttled)"
    PORTAL_LOGOUT = "portal.logout", "Patient signed out of the portal"
    PORTAL_SESSION_TIMEOUT = "portal.session_timeout", "Patient portal session timed out"
    PORTAL_PREPARATION = "portal.preparation", "Preparation instructions for patients changed"
    # Safety alerts raised by a response (ketaclinic/assessments/safety.py), their closing (by a C-SSRS, a
    # safety plan or a prescriber's review) and safety plans recorded. Rows name the alert, never the answers.
    SAFETY_ALERT_RAISE = "safety.alert_raise", "Safety alert raised by a response"
    SAFETY_ALERT_CLOSE = "safety.alert_close", "Safety alert closed"
    SAFETY_PLAN_RECORD = "safety.plan_record", "Safety plan recorded"

    # Assessment requests and self-report links (ketaclinic/assessments): the plan's schedule built, a
    # one-off request, each link or reminder sent, and every event of a link (opened, date of birth right
    # or wrong, locked, refused). Rows name the request, never the link's secret or the answers.
    ASSESSMENT_REQUEST = "assessment.request", "Assessment requested"
    ASSESSMENT_SCHEDULE = "assessment.schedule", "Assessment schedule built from a treatment plan"
    SELF_REPORT_SEND = "self_report.send", "Self-report link or reminder sent"
    SELF_REPORT_OPEN = "self_report.open", "Self-report link opened"
    SELF_REPORT_VERIFY = "self_report.verify", "Self-report date of birth confirmed"
    SELF_REPORT_DOB_FAILED = "self_report.dob_failed", "Self-report date of birth wrong"
    SELF_REPORT_LOCK = "self_report.lock", "Self-report link locked (too many wrong dates of birth)"
    SELF_REPORT_REFUSED = "self_report.refused", "Self-report link refused (expired, used, locked or unknown)"
    PREVISIT_SEND = "message.previsit", "Pre-visit instructions sent"
    # Costs and billing (ketaclinic/billing): every money change. Rows name the record and the fields, never
    # amounts or card images.
    BILLING_PRICE = "billing.price", "Price list price added"
    BILLING_COVERAGE = "billing.coverage", "Coverage recorded or changed"
    BILLING_CARD = "billing.card", "Insurance card image stored"
    BILLING_BENEFIT_CHECK = "billing.benefit_check", "Benefits check recorded"
    BILLING_ESTIMATE = "billing.estimate", "Course estimate made"
    BILLING_INVOICE = "billing.invoice", "Invoice made from a signed session"
    BILLING_PAYMENT = "billing.payment", "Payment recorded"
    BILLING_REFUND = "billing.refund", "Refund recorded"
    BILLING_WRITE_OFF = "billing.write_off", "Write-off recorded"
    BILLING_CREDIT_NOTE = "billing.credit_note", "Credit note issued"
    # Costs and billing, part two: identifiers for superbills, prior authorisations, and reports produced
    # (a report naming patients also writes a read event of each patient it names).
    BILLING_IDENTIFIERS = "billing.identifiers", "Billing identifiers or diagnosis codes changed"
    BILLING_AUTHORIZATION = "billing.authorization", "Prior authorisation recorded"
    BILLING_REPORT = "billing.report", "Billing report produced or exported"
    # At-home ketamine programs (ketaclinic/homecare).
    HOME_PROGRAM_PRESCRIBE = "home.program_prescribe", "Home program prescribed"
    HOME_PROGRAM_STATUS = "home.program_status", "Home program paused, resumed or ended"
    HOME_PRE_DOSE = "home.pre_dose", "Home dose pre-dose check recorded by the patient"
    HOME_DOSE_TAKEN = "home.dose_taken", "Home dose taken, recorded by the patient"
    HOME_CHECKIN = "home.checkin", "Home dose check-in recorded by the patient"
    HOME_CHECKIN_MISSED = "home.checkin_missed", "Home dose check-in marked missing"
    HOME_CHECKIN_REMINDER = "home.checkin_reminder", "Home check-in reminder sent"
    HOME_HOLD_RELEASE = "home.hold_release", "Hold on the next home dose released"

    # The calendar (ketaclinic/scheduling): a location's opening hours, closures and shifts changed; an
    # appointment booked (an override of a hard rule is its own kind, naming the rules in changed_fields), a
    # plan's course booked, an appointment cancelled or marked a no-show. Rows never carry the reasons.
    SCHEDULE_RESOURCES = "schedule.resources", "Opening hours, closures or shifts changed"
    APPOINTMENT_BOOK = "schedule.book", "Appointment booked"
    APPOINTMENT_OVERRIDE = "schedule.override", "Appointment booked against a hard rule (override)"
    COURSE_BOOK = "schedule.course_book", "Treatment course booked"
    APPOINTMENT_CANCEL = "schedule.cancel", "Appointment cancelled"
    APPOINTMENT_NO_SHOW = "schedule.no_show", "Appointment marked no-show"
    # The week's optimiser (scheduling/proposals.py): a proposal asked for, and one accepted in whole or part
    # (changed_fields count the visits booked and refused; each booking is its own schedule.book row).
    PROPOSAL_CREATE = "schedule.proposal", "Week's schedule proposal asked for"
    PROPOSAL_ACCEPT = "schedule.proposal_accept", "Week's schedule proposal accepted"
    # Calendars, the waitlist and feeds (ketaclinic/scheduling, items 5-7): a visit moved (an override names
    # its rules), a patient's arrival, a visit reminder sent and confirmed, waitlist entries, slot offers
    # made, accepted and expired, and a staff member's calendar feed made, rotated, revoked and read.
    APPOINTMENT_MOVE = "schedule.move", "Appointment moved"
    APPOINTMENT_ARRIVE = "schedule.arrive", "Patient checked in for an appointment"
    VISIT_REMINDER = "schedule.reminder", "Visit reminder sent (asks for confirmation)"
    VISIT_CONFIRM = "schedule.confirm", "Visit confirmed by the patient"
    WAITLIST_ADD = "schedule.waitlist_add", "Patient added to the waitlist"
    WAITLIST_REMOVE = "schedule.waitlist_remove", "Patient removed from the waitlist"
    SLOT_OFFER = "schedule.offer", "Freed slot offered to the waitlist"
    SLOT_ACCEPT = "schedule.offer_accept", "Slot offer accepted and booked"
    SLOT_EXPIRE = "schedule.offer_expire", "Slot offer expired"
    CALENDAR_FEED = "schedule.feed", "Calendar feed made, rotated or revoked"
    CALENDAR_FEED_READ = "schedule.feed_read", "Calendar feed read"
    # Ketamine-assisted psychotherapy (ketaclinic/therapy): the care team changed (its rows keep who joined
    # and left, when and by whom), therapy sessions scheduled, notes written, signed and amended, and each
    # read of another author's psychotherapy note (the row names the access, whose row keeps the reason).
    # Rows name the record and the template's fields, never a note's words.
    CARE_TEAM_CHANGE = "therapy.care_team", "Care team changed"
    THERAPY_SESSION_CREATE = "therapy.session_create", "Therapy session scheduled"
    THERAPY_NOTE_WRITE = "therapy.note_write", "Therapy note written (draft)"
    THERAPY_NOTE_SIGN = "therapy.note_sign", "Therapy note signed"
    THERAPY_NOTE_AMEND = "therapy.note_amend", "Signed therapy note amended"
    PSYCHOTHERAPY_NOTE_READ = (
        "therapy.psychotherapy_note_read",
        "Psychotherapy note read by another (reason kept)",
    )
    # FHIR exchange (ketaclinic/fhir): a bulk export started or cancelled, one event per patient it wrote
    # out, and one per import run (each patient it created has its own patient.create event).
    FHIR_EXPORT_START = "fhir.export_start", "FHIR bulk export requested"
    FHIR_EXPORT = "fhir.export", "Patient record exported (FHIR bulk export)"
    FHIR_EXPORT_CANCEL = "fhir.export_cancel", "FHIR bulk export cancelled or deleted"
    FHIR_IMPORT = "fhir.import", "FHIR import run"
    # Outcome analytics (ketaclinic/outcomes): a cohort report read (page or API) or exported as CSV. Rows
    # name the scope in changed_fields (instrument and filters), never a patient.
    OUTCOMES_READ = "outcomes.read", "Outcome report read"
    OUTCOMES_EXPORT = "outcomes.export", "Outcome report exported (CSV)"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    FAILURE = "failure", "Failure"


class Via(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    CLI = "cli", "Command line"
    SYSTEM = "system", "System"
    PORTAL = "portal", "Patient portal"


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    # A patient acting in the patient portal (ketaclinic/portal): their portal account, never a staff user.
    # Hashed from format 4 on (chain.py).
    patient_account = models.ForeignKey(
        "portal.PatientAccount", on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=40, choices=Action.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True, related_name="+")
    location = models.ForeignKey(
        "accounts.ClinicLocation", on_delete=models.PROTECT, null=True, related_name="+"
    )
    changed_fields = models.JSONField(default=list)
    via = models.CharField(max_length=10, choices=Via.choices)
    request_id = models.CharField(max_length=36, blank=True)
    source_ip = models.GenericIPAddressField(null=True)
    # How many occurrences the row stands for: 1, except for repeated failures from one address, which
    # are written as one row per window with their count (audit/repeats.py). Hashed from format 3 on.
    occurrences = models.PositiveIntegerField(default=1)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["patient", "occurred_at"], name="audit_patient_time"),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
            models.Index(fields=["location", "occurred_at"], name="audit_location_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class RepeatTally(models.Model):
    """Failures of one kind from one address not yet written to the trail (audit/repeats.py).

    `pending` failures are carried by the next audit row for this kind and address; `reported_at` is when
    the last such row was written. A tally is bookkeeping, not the record: the rows are.
    """

    action = models.CharField(max_length=40, choices=Action.choices)
    address = models.CharField(max_length=45, blank=True)  # the counted address (audit/repeats.py)
    via = models.CharField(max_length=10, choices=Via.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    pending = models.PositiveIntegerField(default=0)
    reported_at = models.DateTimeField(null=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["action", "address"], name="repeat_tally_unique")]

    def __str__(self) -> str:
        return f"{self.action} from {self.address or 'unknown'}: {self.pending} pending"


class ChainHead(models.Model):
    """The single row holding the last sequence number and hash; locking it orders the chain."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"head #{self.seq}"
