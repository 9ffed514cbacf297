"""The prior-authorisation packet of a patient for a modality, written from the chart: what payers ask
for (reference section 8, [B4]): the TRD evidence from the antidepressant trials (drug, dose, weeks, and
whether each counts as an adequate failure under the clinic's policy, clinical/trd), psychotherapy history,
the latest PHQ-9 and MADRS, the suicidal-ideation history, the contraindication screening, height and
weight, the diagnoses, the patient, their insurance and the prescriber. What the chart lacks is listed
under `missing`; nothing is filled in that the chart does not hold.
"""

from __future__ import annotations

from typing import Any

from ketaclinic.assessments.models import AlertKind, Assessment, SafetyAlert
from ketaclinic.billing import pdf
from ketaclinic.billing.models import ClinicianIdentity, Coverage, PriorAuthorization
from ketaclinic.billing.superbill import coverage_detail, diagnoses_of, practice_of
from ketaclinic.clinical import trd
from ketaclinic.clinical.scales import Flag, Instrument
from ketaclinic.clinical.vocab import DRUGS
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.patients.models import AntidepressantTrial, BodyMeasurement, EntryStatus, Patient
from ketaclinic.screening.models import Screening
from ketaclinic.therapy.models import TherapySession, TherapyStatus
from ketaclinic.treatment.models import PlanModality, TreatmentPlan

SCORED = (Instrument.PHQ9, Instrument.MADRS)
SCORE_NAMES = {"phq9": "PHQ-9", "madrs": "MADRS"}
IDEATION_FLAGS = {Flag.SUICIDAL_IDEATION, Flag.SUICIDAL_BEHAVIOUR, Flag.HIGH_SUICIDE_RISK}


def _trials(patient: Patient) -> list[dict[str, Any]]:
    policy = policy_for(patient.location)
    rows = AntidepressantTrial.objects.filter(patient=patient, status=EntryStatus.ACTIVE).order_by(
        "started_year", "created_at", "pk"
    )
    out = []
    for t in rows:
        judged = trd.Trial(
            drug=t.drug,
            adequate_dose=t.adequate_dose,
            weeks=t.weeks_at_dose,
            outcome=trd.TrialOutcome(t.outcome),
            current_episode=t.current_episode,
            dose_optimised=t.dose_optimised,
            augmented=t.augmented,
        )
        known = DRUGS.get(t.drug)
        out.append(
            {
                "drug": t.drug,
                "drug_name": t.other_name or (known.display if known else t.drug),
                "max_daily_dose_mg": t.max_daily_dose_mg,
                "weeks_at_dose": t.weeks_at_dose,
                "adequate_dose": t.adequate_dose,
                "augmented": t.augmented,
                "augmentation_agent": t.augmentation_agent,
                "outcome": t.outcome,
                "current_episode": t.current_episode,
                "started_year": t.started_year,
                "adequate_failure": trd.is_adequate_failure(judged, policy),
            }
        )
    return out


def _score(a: Assessment) -> dict[str, Any]:
    return {"instrument": a.instrument, "total": a.total, "band": a.band, "taken_at": a.taken_at}


def _scores(patient: Patient) -> dict[str, Any]:
    """The latest and the first (baseline) result of each instrument payers ask for."""
    out: dict[str, Any] = {}
    for instrument in SCORED:
        series = Assessment.objects.filter(patient=patient, instrument=instrument, total__isnull=False)
        latest = series.order_by("-taken_at").first()
        first = series.order_by("taken_at").first()
        out[instrument.value] = {
            "latest": _score(latest) if latest else None,
            "baseline": _score(first) if first else None,
        }
    return out


def _ideation(patient: Patient) -> dict[str, Any]:
    flagged = [
        a
        for a in Assessment.objects.filter(patient=patient).order_by("-taken_at")
        if IDEATION_FLAGS & set(a.flags)
    ]
    screens = Assessment.objects.filter(patient=patient, instrument=Instrument.CSSRS_SCREEN).order_by(
        "-taken_at"
    )
    alerts = SafetyAlert.objects.filter(patient=patient).exclude(kind=AlertKind.WORSENING)
    return {
        "cssrs_screens": [
            {"taken_at": a.taken_at, "band": a.band, "flags": sorted(a.flags)} for a in screens[:10]
        ],
        "responses_with_ideation": len(flagged),
        "last_ideation_at": flagged[0].taken_at if flagged else None,
        "safety_alerts": alerts.count(),
    }


def _screening(patient: Patient, modality: str) -> dict[str, Any] | None:
    s = Screening.objects.filter(patient=patient, modality=modality).order_by("-created_at").first()
    if s is None:
        return None
    return {
        "decision": s.decision,
        "screened_at": s.created_at,
        "ruleset_version": s.ruleset_version,
        "findings": [
            {"rule_id": f.get("rule_id"), "level": f.get("level"), "message": f.get("message")}
            for f in s.findings
        ],
        "trd": s.trd,
    }


def _psychotherapy(patient: Patient) -> dict[str, Any]:
    given = TherapySession.objects.filter(patient=patient, status=TherapyStatus.COMPLETED).order_by(
        "starts_at"
    )
    kinds: dict[str, int] = {}
    for session in given:
        kinds[session.kind] = kinds.get(session.kind, 0) + 1
    first = given.first()
    return {
        "sessions_at_clinic": kinds,
        "first_at_clinic": first.starts_at if first else None,
        "prior_history_recorded": False,
    }


def _measure(patient: Patient, field: str) -> tuple[Any, Any]:
    row = (
        BodyMeasurement.objects.filter(patient=patient, **{f"{field}__isnull": False})
        .order_by("-measured_on", "-created_at")
        .first()
    )
    return (getattr(row, field), row.measured_on) if row else (None, None)


def _prescriber(plan: TreatmentPlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    user = plan.approved_by or plan.created_by
    identity = ClinicianIdentity.objects.filter(user=user).first()
    return {
        "name": user.get_full_name() or user.username,
        "npi": identity.npi if identity else "",
        "credentials": identity.credentials if identity else "",
    }


def packet(patient: Patient, modality: str) -> dict[str, Any]:
    """The packet as plain data (the API answers it; the PDF draws it)."""
    plan = (
        TreatmentPlan.objects.filter(patient=patient, modality=modality)
        .select_related("approved_by", "created_by")
        .order_by("-created_at")
        .first()
    )
    coverage = Coverage.objects.filter(patient=patient, ended_on__isnull=True).order_by("-created_at").first()
    trials = _trials(patient)
    height_cm, height_on = _measure(patient, "height_cm")
    weight_kg, weight_on = _measure(patient, "weight_kg")
    scores = _scores(patient)
    screening = _screening(patient, modality)
    diagnoses = diagnoses_of(patient)
    authorization = (
        PriorAuthorization.objects.filter(plan=plan).order_by("-created_at").first() if plan else None
    )
    body = {
        "modality": modality,
        "modality_name": dict(PlanModality.choices).get(modality, modality),
        "practice": practice_of(patient.location),
        "patient": {
            "id": patient.pk,
            "name": patient.full_name,
            "mrn": patient.mrn,
            "date_of_birth": patient.date_of_birth,
            "sex": patient.sex,
        },
        "insurance": coverage_detail(coverage),
        "prescriber": _prescriber(plan),
        "plan": (
            {"id": plan.pk, "status": plan.status, "protocol": plan.protocol, "start_date": plan.start_date}
            if plan
            else None
        ),
        "diagnoses": diagnoses,
        "trials": trials,
        "adequate_failures": sum(1 for t in trials if t["adequate_failure"]),
        "psychotherapy": _psychotherapy(patient),
        "scores": scores,
        "suicidal_ideation": _ideation(patient),
        "screening": screening,
        "height_cm": height_cm,
        "height_measured_on": height_on,
        "weight_kg": weight_kg,
        "weight_measured_on": weight_on,
        "authorization": (
            {
                "number": authorization.number,
                "approved_from": authorization.approved_from,
                "approved_to": authorization.approved_to,
                "approved_sessions": authorization.approved_sessions,
            }
            if authorization
            else None
        ),
    }
    body["missing"] = _missing(body)
    return body


def _missing(body: dict[str, Any]) -> list[str]:
    checks = [
        (not body["trials"], "antidepressant trials"),
        (not any(d["icd10"] for d in body["diagnoses"]), "an ICD-10-CM diagnosis code"),
        (body["scores"]["phq9"]["latest"] is None, "a PHQ-9 score"),
        (body["scores"]["madrs"]["latest"] is None, "a MADRS score"),
        (body["screening"] is None, "a contraindication screening for this modality"),
        (body["height_cm"] is None, "height"),
        (body["weight_kg"] is None, "weight"),
        (body["insurance"] is None, "insurance coverage"),
        (body["prescriber"] is None, "a treatment plan (the prescriber)"),
        (True, "psychotherapy before the clinic (the chart does not record it: attach it)"),
    ]
    return [what for lacking, what in checks if lacking]


def _when(value: Any) -> str:
    return value.date().isoformat() if hasattr(value, "date") else (value.isoformat() if value else "")


def render(body: dict[str, Any]) -> bytes:
    """The packet as a PDF."""
    p, ins, pres = body["patient"], body["insurance"], body["prescriber"]
    story: list[Any] = [
        pdf.heading("Patient and insurance"),
        pdf.facts(
            [
                ("Name", p["name"]),
                ("MRN", p["mrn"]),
                ("Date of birth", p["date_of_birth"].isoformat()),
                ("Sex", p["sex"]),
                ("Payer", ins["payer"] if ins else "none on record"),
                ("Member id", ins["member_id"] if ins else ""),
                ("Height (cm)", body["height_cm"]),
                ("Weight (kg)", body["weight_kg"]),
            ]
        ),
        pdf.heading("Prescriber and practice"),
        pdf.facts(
            [
                ("Prescriber", pres["name"] if pres else ""),
                ("Prescriber NPI", pres["npi"] if pres else ""),
                ("Practice", body["practice"]["name"]),
                ("Practice NPI", body["practice"]["npi"]),
            ]
        ),
        pdf.heading("Diagnoses (ICD-10-CM)"),
        pdf.grid(
            ["ICD-10-CM", "Diagnosis"],
            [(d["icd10"] or "not coded", d["icd10_description"] or d["display"]) for d in body["diagnoses"]]
            or [("", "No active condition on the chart")],
            [0.18, 0.82],
        ),
        pdf.heading(f"Antidepressant trials ({body['adequate_failures']} adequate failures)"),
        pdf.grid(
            [
                "Drug",
                "Max daily dose (mg)",
                "Weeks at dose",
                "Adequate dose",
                "Outcome",
                "This episode",
                "Adequate failure",
            ],
            [
                (
                    t["drug_name"],
                    t["max_daily_dose_mg"],
                    t["weeks_at_dose"],
                    "yes" if t["adequate_dose"] else "no",
                    t["outcome"],
                    "yes" if t["current_episode"] else "no",
                    "yes" if t["adequate_failure"] else "no",
                )
                for t in body["trials"]
            ]
            or [("No trial recorded", "", "", "", "", "", "")],
            [0.22, 0.14, 0.12, 0.12, 0.14, 0.12, 0.14],
            numeric=(1, 2),
        ),
        pdf.heading("Scores"),
        pdf.grid(
            ["Instrument", "Latest", "Taken", "Baseline", "Taken"],
            [
                (
                    SCORE_NAMES.get(name, name),
                    s["latest"]["total"] if s["latest"] else "",
                    _when(s["latest"]["taken_at"]) if s["latest"] else "",
                    s["baseline"]["total"] if s["baseline"] else "",
                    _when(s["baseline"]["taken_at"]) if s["baseline"] else "",
                )
                for name, s in body["scores"].items()
            ],
            [0.2, 0.15, 0.25, 0.15, 0.25],
        ),
    ]
    si = body["suicidal_ideation"]
    story += [
        pdf.heading("Suicidal-ideation history"),
        pdf.facts(
            [
                ("Responses with ideation", si["responses_with_ideation"]),
                ("Last ideation", _when(si["last_ideation_at"])),
                ("C-SSRS screens", len(si["cssrs_screens"])),
                ("Safety alerts", si["safety_alerts"]),
            ]
        ),
        pdf.heading("Psychotherapy"),
        pdf.line(
            ", ".join(f"{k}: {v}" for k, v in body["psychotherapy"]["sessions_at_clinic"].items())
            or "No therapy session completed at the clinic."
        ),
        pdf.heading("Contraindication screening"),
    ]
    scr = body["screening"]
    if scr:
        story.append(pdf.line(f"Decision: {scr['decision']} (screened {_when(scr['screened_at'])})"))
        story.append(
            pdf.grid(
                ["Rule", "Level", "Finding"],
                [(f["rule_id"], f["level"], f["message"]) for f in scr["findings"]]
                or [("", "", "No finding")],
                [0.25, 0.12, 0.63],
            )
        )
    else:
        story.append(pdf.line("No screening for this modality."))
    for gap in body["missing"]:
        story.append(pdf.line(f"Missing: {gap}", pdf.WARN))
    title = f"Prior authorisation request: {body['modality_name']}"
    return pdf.render(title, body["practice"]["name"], story, title)
