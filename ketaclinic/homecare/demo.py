"""Demo at-home program: one patient of the north location on sublingual ketamine at home for four weeks,
through the actions with a clock of the demo's own: doses every three or four days with their check-ins, one
check-in whose blood pressure after failed and a prescriber's release of that hold, and the last dose's
check-in missing, which holds the next dose (on the worklist and the chart). The patient has their own portal
login. The small test networks get none."""

from __future__ import annotations

import datetime as dt

from ketaclinic.accounts.models import ClinicNetwork, User
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.homecare import actions
from ketaclinic.homecare.inputs import HomeCheckInIn, HomeProgramIn, PreDoseIn, ReleaseIn, TakenIn
from ketaclinic.homecare.models import HomeProgram
from ketaclinic.patients.models import Patient
from ketaclinic.portal.actions import do_accept_invitation, do_invite_patient
from ketaclinic.portal.inputs import InviteIn, PasswordIn
from ketaclinic.portal.models import PatientAccount

EMAIL = "home.patient@demo.ketaclinic.test"
# Demo only (a known password, as the staff personas have): long enough for the password rules.
PASSWORD = "ketaclinic-demo-home-patient"
MONITOR = "Alex Rivera"
# Days before today of each home dose: every 3 or 4 days over four weeks; the last one's check-in is missing.
DOSE_DAYS = (27, 24, 20, 17, 13, 10, 6, 3)
FAILED_BP_DAY = 17  # blood pressure after 148/94: the check-in fails, and the prescriber releases the hold
# Morning readings: (systolic, diastolic, pulse) before, and systolic/diastolic after.
READINGS = [(118, 76, 68), (124, 80, 72), (121, 78, 70), (126, 82, 74), (119, 77, 66), (123, 79, 71)]


def _at(location: object, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    zone = location_zone(location)  # type: ignore[arg-type]
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).astimezone(dt.UTC)


def _patient(network: ClinicNetwork) -> Patient | None:
    location = network.locations.order_by("slug").first()
    if location is None:
        return None
    return (
        Patient.objects.filter(location=location, entered_in_error_at__isnull=True)
        .exclude(treatment_plans__isnull=False)
        .exclude(portal_account__isnull=False)
        .exclude(assessments__isnull=False)
        .order_by("mrn")
        .first()
    )


def load(network: ClinicNetwork, today: dt.date) -> HomeProgram | None:
    patient = _patient(network)
    if patient is None:
        return None
    location = patient.location
    prescriber = User.objects.get(username=f"prescriber.{location.slug}")
    desk = User.objects.get(username=f"frontdesk.{location.slug}")
    start = today - dt.timedelta(days=DOSE_DAYS[0])
    program = actions.do_prescribe_home_program(
        patient,
        HomeProgramIn(
            route="sublingual",  # type: ignore[arg-type]
            dose_mg="100",  # type: ignore[arg-type]
            min_days_between_doses=3,
            start_date=start,
            monitor_name=MONITOR,
        ),
        actor=prescriber,
        now=_at(location, start - dt.timedelta(days=2), 15),
    )
    _, secret = do_invite_patient(patient, InviteIn(email=EMAIL), actor=desk)
    account = do_accept_invitation(secret, PasswordIn(password=PASSWORD, password_again=PASSWORD))
    for index, days_ago in enumerate(DOSE_DAYS):
        day = today - dt.timedelta(days=days_ago)
        _dose(
            account, program, day, index, last=index == len(DOSE_DAYS) - 1, failed=days_ago == FAILED_BP_DAY
        )
        if days_ago == FAILED_BP_DAY:
            actions.do_release_hold(
                program,
                ReleaseIn(
                    reason="Phoned: BP 128/82 on recheck, no symptoms; continue, recheck after the next dose"
                ),
                actor=prescriber,
                now=_at(location, today - dt.timedelta(days=days_ago - 1), 10),
            )
    # The task runner's tick after the last dose's check-in fell due.
    for dose in program.doses.filter(checkin__isnull=True, outcome="taken"):
        if dose.checkin_due_at is not None:
            actions.do_mark_checkin_missed(dose, now=dose.checkin_due_at + dt.timedelta(minutes=5))
    return program


def _dose(
    account: PatientAccount, program: HomeProgram, day: dt.date, index: int, *, last: bool, failed: bool
) -> None:
    location = program.location
    systolic, diastolic, pulse = READINGS[index % len(READINGS)]
    before = _at(location, day, 18, 30)
    pre = PreDoseIn(
        systolic_mmhg=systolic,
        diastolic_mmhg=diastolic,
        heart_rate_bpm=pulse,
        monitor_name=MONITOR,
        monitor_relationship="partner",  # type: ignore[arg-type]
        confirmed_safe=True,
        submit_key=f"demo-{day.isoformat()}",
    )
    dose = actions.do_record_pre_dose(account, pre, now=before)
    taken_at = before + dt.timedelta(minutes=10)
    actions.do_record_taken(account, dose.pk, TakenIn(taken_at=taken_at, taken_mg="100"), now=taken_at)  # type: ignore[arg-type]
    if last:
        return
    after = taken_at + dt.timedelta(hours=2, minutes=20)
    bp = (148, 94) if failed else (systolic + 4, diastolic + 2)
    actions.do_record_checkin(
        account,
        dose.pk,
        HomeCheckInIn(
            side_effects=["nausea"] if index % 3 == 0 else ["dizziness"] if index % 3 == 1 else [],  # type: ignore[list-item]
            side_effect_severity="mild" if index % 3 != 2 else "none",  # type: ignore[arg-type]
            dissociation="moderate" if index % 2 == 0 else "mild",  # type: ignore[arg-type]
            systolic_mmhg=bp[0],
            diastolic_mmhg=bp[1],
            note="",
        ),
        now=after,
    )


def login() -> str:
    """The line `load_demo` prints beside the staff logins ('' when the demo has no home patient)."""
    if not PatientAccount.objects.filter(email_key=EMAIL).exists():
        return ""
    return f"At-home program demo login at /portal/: {EMAIL} (password '{PASSWORD}')"
