"""Reads of Spravato REMS: the setting details a user keeps, a session's Patient Monitoring Form as the chart
fills it, and the queue of forms still to submit per location."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from ketaclinic.accounts.access import grants, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny
from ketaclinic.clinical.rems import REMS_FORM_MEDICATION_CLASSES, monitoring_form_due
from ketaclinic.clinical.scales import Flag
from ketaclinic.clinical.vocab import DRUGS, MedicationClass
from ketaclinic.clinicpolicy.clock import local_date, local_today
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.models import EntryStatus, Medication, Patient, Sex
from ketaclinic.rems.form import (
    BP_AFTER_DOSING_MINUTES,
    BloodPressureReading,
    FormInput,
    MonitoringForm,
    OutcomeItem,
    build_form,
)
from ketaclinic.rems.models import RemsSetting, RemsSubmission
from ketaclinic.screening.queries import rems_enrolment
from ketaclinic.treatment.models import (
    SESSION_DONE,
    AdverseEvent,
    AdverseEventCode,
    AlertKind,
    Discharge,
    Dose,
    DoseDevice,
    Observation,
    PlanModality,
    SessionAlert,
    TimePoint,
    TreatmentSession,
    VitalSigns,
)

# A session's form is due once the patient has left: discharged, or discharged and signed.
FORM_DUE_STATUSES = SESSION_DONE  # every session the patient has had

NOTICE_BASIS = (
    "Sedation and dissociation answers come from the session's MOAA/S and CADSS alerts (at the clinic "
    "policy's levels) and its coded adverse events; respiratory depression from its coded adverse events. "
    "Check them before submitting."
)


# --- setting details ----------------------------------------------------------------------------------------


def managed_locations(user: Any) -> list[ClinicLocation]:
    """The locations whose REMS setting details the user keeps, by name."""
    ids = location_ids(user, Perm.REMS_SETTING_MANAGE)
    return list(ClinicLocation.objects.filter(pk__in=ids).order_by("name"))


def settings_by_location(locations: list[ClinicLocation]) -> dict[int, RemsSetting]:
    rows = RemsSetting.objects.filter(location__in=locations)
    return {row.location_id: row for row in rows}


def setting_of(location: ClinicLocation | int) -> RemsSetting | None:
    return RemsSetting.objects.filter(location=location).first()


def location_to_manage(user: Any, slug: str, *, origin: Origin = SYSTEM) -> ClinicLocation:
    """The location named by `slug` whose setting the user keeps: outside the user's locations it does not
    exist (404), inside them without the permission it is 403; both are audited."""
    location = ClinicLocation.objects.filter(network_id=user.network_id, slug=slug).first()
    held = grants(user).get(location.pk) if location is not None else None
    if location is None or held is None or Perm.REMS_SETTING_MANAGE not in held:
        deny(user, origin, str(Perm.REMS_SETTING_MANAGE))
        if held is None:
            raise NotFound
        raise Forbidden
    return location


# --- the form of a session ----------------------------------------------------------------------------------


def needs_form(session: TreatmentSession) -> bool:
    """An esketamine session the patient has left: its Patient Monitoring Form is due (reference 1.8)."""
    return session.plan.modality == PlanModality.ESKETAMINE_NASAL and session.status in FORM_DUE_STATUSES


def _minutes(start: dt.datetime, end: dt.datetime) -> int:
    return int((end - start).total_seconds() // 60)


def _reading(v: VitalSigns | None) -> BloodPressureReading | None:
    return BloodPressureReading(v.systolic_mmhg, v.diastolic_mmhg) if v is not None else None


def _first_treatment(session: TreatmentSession) -> bool:
    """No earlier esketamine session of the patient had a dose."""
    earlier = Dose.objects.filter(
        session__patient_id=session.patient_id, session__plan__modality=PlanModality.ESKETAMINE_NASAL
    ).filter(
        Q(session__date__lt=session.date) | Q(session__date=session.date, session__number__lt=session.number)
    )
    return not earlier.exclude(session=session).exists()


def _concomitant(patient: Patient) -> tuple[dict[MedicationClass, bool], list[str]]:
    """The form's medication classes found in the chart's active medications, and the unclassified ones."""
    found: dict[MedicationClass, bool] = dict.fromkeys(REMS_FORM_MEDICATION_CLASSES, False)
    unclassified: list[str] = []
    for med in Medication.objects.filter(patient=patient, status=EntryStatus.ACTIVE).order_by("pk"):
        drug = DRUGS.get(med.drug)
        if drug is None:
            unclassified.append(med.other_name or med.drug)
            continue
        for cls in drug.classes:
            if cls in found:
                found[cls] = True
    return found, unclassified


def _outcomes(
    observations: list[Observation], events: list[AdverseEvent], left: bool
) -> dict[OutcomeItem, bool]:
    """Yes when an alert or a coded event says so; No when the chart looked (the instrument was scored, or
    for respiratory depression the patient left with events charted) and nothing says so."""
    codes = {e.code for e in events}
    flags = {flag for o in observations for flag in o.flags}
    instruments = {o.instrument for o in observations}
    answers: dict[OutcomeItem, bool] = {}
    sedated = Flag.SEDATION_ALERT in flags or Flag.LOSS_OF_CONSCIOUSNESS in flags
    sedated |= bool(codes & {AdverseEventCode.SEDATION, AdverseEventCode.LOSS_OF_CONSCIOUSNESS})
    if sedated or "moaas" in instruments:
        answers[OutcomeItem.SEDATION] = sedated
    dissociated = Flag.DISSOCIATION_ALERT in flags or AdverseEventCode.DISSOCIATION in codes
    if dissociated or "cadss" in instruments:
        answers[OutcomeItem.DISSOCIATION] = dissociated
    depressed = AdverseEventCode.RESPIRATORY_DEPRESSION in codes
    if depressed or left:
        answers[OutcomeItem.RESPIRATORY_DEPRESSION] = depressed
    return answers


def _event_text(e: AdverseEvent) -> str:
    name = e.description if e.code == AdverseEventCode.OTHER else e.get_code_display()
    return f"{name} ({e.get_severity_display().lower()}, {e.get_outcome_display().lower()})"


def _hcp(session: TreatmentSession, setting: RemsSetting | None) -> tuple[str, str, str]:
    monitor = session.monitored_by
    name = (monitor.get_full_name() or monitor.username) if monitor is not None else ""
    name = name or (setting.hcp_name if setting else "")
    email = (monitor.email if monitor is not None else "") or (setting.hcp_email if setting else "")
    return name, setting.hcp_phone if setting else "", email


def _in_range(reading: VitalSigns | None, alerts: list[SessionAlert]) -> bool | None:
    """A reading is in acceptable range when the clinical library raised no alert on it (the pre-dose gate
    or an in-session alert, judged under the session's policy)."""
    if reading is None:
        return None
    return not any(a.vitals_id == reading.pk for a in alerts)


def form_input(session: TreatmentSession) -> FormInput:
    """Everything the form asks, read from the session's chart, its patient and its location's setting."""
    patient = session.patient
    location = session.location
    setting = setting_of(location.pk)
    dose = Dose.objects.filter(session=session).first()
    devices = list(DoseDevice.objects.filter(dose=dose).order_by("number")) if dose else []
    vitals = list(VitalSigns.objects.filter(session=session).order_by("taken_at", "pk"))
    alerts = list(
        SessionAlert.objects.filter(session=session, kind__in=[AlertKind.PREDOSE_GATE, AlertKind.SESSION])
    )
    observations = list(Observation.objects.filter(session=session))
    events = list(AdverseEvent.objects.filter(session=session).order_by("onset_at", "pk"))
    discharge = Discharge.objects.filter(session=session).first()
    enrolment = rems_enrolment(patient)
    concomitant, unclassified = _concomitant(patient)

    start = None
    if dose is not None:
        used = [d.used_at for d in devices if d.used_at is not None]
        start = min(used) if used else dose.started_at
    before = [v for v in vitals if start is None or v.taken_at <= start]
    pre = [v for v in before if v.time_point == TimePoint.PRE_DOSE] or before
    bp_before = pre[-1] if pre else None
    after_dose = [v for v in vitals if start is not None and v.taken_at > start]
    at_40 = None
    if start is not None and after_dose:
        target = start + dt.timedelta(minutes=BP_AFTER_DOSING_MINUTES)
        at_40 = min(after_dose, key=lambda v: (abs((v.taken_at - target).total_seconds()), v.taken_at))
    end_readings = [v for v in after_dose if discharge is None or v.taken_at <= discharge.discharged_at]
    ends = [v for v in end_readings if v.time_point == TimePoint.PRE_DISCHARGE] or end_readings
    bp_end = ends[-1] if ends and ends[-1] is not at_40 else None
    setting_items = (
        [
            item
            for item, asked in (
                (OutcomeItem.SEDATION, setting.asks_sedation),
                (OutcomeItem.DISSOCIATION, setting.asks_dissociation),
                (OutcomeItem.RESPIRATORY_DEPRESSION, setting.asks_respiratory_depression),
            )
            if asked
        ]
        if setting
        else list(OutcomeItem)
    )
    left = session.status in FORM_DUE_STATUSES
    treated_on = local_date(location, start) if start is not None else session.date
    first = _first_treatment(session) if dose is not None else None
    hcp_name, hcp_phone, hcp_email = _hcp(session, setting)
    return FormInput(
        patient_first_name=patient.given_name,
        patient_last_name=patient.family_name,
        date_of_birth=patient.date_of_birth,
        sex=Sex(patient.sex).label if patient.sex in Sex.values else patient.sex,
        first_treatment=first,
        enrolled=(enrolment is not None and enrolment.enrolled_on <= treated_on) if first else None,
        rems_patient_id=enrolment.rems_patient_id if enrolment else "",
        concomitant=concomitant,
        unclassified_medications=tuple(unclassified),
        hcp_name=hcp_name,
        hcp_phone=hcp_phone,
        hcp_email=hcp_email,
        setting_name=setting.setting_name if setting else "",
        setting_address=setting.address if setting else "",
        setting_certification_id=setting.certification_id if setting else "",
        treatment_date=treated_on if dose is not None else None,
        dose_mg=dose.amount_mg if dose else None,
        lot_numbers=(dose.lot_number,) if dose else (),
        total_monitoring_minutes=_minutes(start, discharge.discharged_at) if start and discharge else None,
        ready_to_leave_minutes=discharge.ready_to_leave_minutes if discharge else None,
        vitals_in_range_before_dosing=_in_range(bp_before, alerts),
        vitals_in_range_before_end=_in_range(bp_end, alerts),
        bp_before_dosing=_reading(bp_before),
        bp_after_dosing=_reading(at_40),
        bp_after_dosing_minutes=_minutes(start, at_40.taken_at) if start and at_40 else None,
        bp_before_end=_reading(bp_end),
        outcomes=_outcomes(observations, events, left),
        adverse_events=tuple(_event_text(e) for e in events),
        adverse_events_charted=left,
        outcome_items=tuple(setting_items),
        basis_notes=(NOTICE_BASIS,),
    )


def session_form(session: TreatmentSession) -> MonitoringForm:
    return build_form(form_input(session))


def submission_of(session: TreatmentSession) -> RemsSubmission | None:
    return RemsSubmission.objects.filter(session=session).select_related("recorded_by").first()


# --- the queue ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueItem:
    session_id: Any
    patient_id: Any
    location: ClinicLocation
    session_date: dt.date
    due_on: dt.date
    days_left: int
    status: str  # "due" or "overdue"
    patient_name: str  # empty unless the viewer reads patients at the location


def queue(user: Any, location: ClinicLocation | None = None) -> list[QueueItem]:
    """Esketamine sessions the patient has left whose form is not yet recorded as submitted, at the user's
    locations (or one of them): overdue first, then by due date. Days count in each location's zone."""
    ids = location_ids(user, Perm.REMS_QUEUE_READ)
    if location is not None:
        ids = ids & {location.pk}
    readable = location_ids(user, Perm.PATIENT_READ)
    rows = (
        TreatmentSession.objects.filter(
            location_id__in=ids,
            plan__modality=PlanModality.ESKETAMINE_NASAL,
            status__in=FORM_DUE_STATUSES,
            rems_submission__isnull=True,
        )
        .select_related("location", "patient")
        .order_by("date", "pk")
    )
    today: dict[int, dt.date] = {}
    items: list[QueueItem] = []
    for s in rows:
        if s.location_id not in today:
            today[s.location_id] = local_today(s.location)
        due = monitoring_form_due(s.date)
        left = (due - today[s.location_id]).days
        name = f"{s.patient.family_name}, {s.patient.given_name}" if s.location_id in readable else ""
        items.append(
            QueueItem(
                s.pk, s.patient_id, s.location, s.date, due, left, "overdue" if left < 0 else "due", name
            )
        )
    items.sort(key=lambda i: (i.status != "overdue", i.due_on, str(i.session_id)))
    return items
