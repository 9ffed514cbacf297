"""Clinic policy: every threshold the reference marks UNVERIFIED, or where its sources differ.

The reference (shared/clinical/reference.md, "How to use it in code" and section 7) asks that such numbers be
settings with a documented default, shown to staff as clinic policy rather than as label or guideline. Each
field of `ClinicPolicy` carries its description, source tags and basis in the dataclass field metadata;
`policy_fields()` lists them for the staff page, the CLI and the rule catalogue.

A clinic changes a value with `dataclasses.replace(DEFAULT_POLICY, madrs_remission_max=12)`; the new policy is
validated on construction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ketaclinic.clinical.vocab import CONDITIONS


class PolicyBasis(StrEnum):
    """Why a number is clinic policy rather than a hard rule."""

    UNVERIFIED = "unverified"
    """The reference marks the fact UNVERIFIED; the default is its value, to confirm locally before use."""
    SOURCES_DIFFER = "sources_differ"
    """The reference gives different values from different sources; the default picks one."""
    VERIFIED_DEFAULT = "verified_default"
    """The default is a checked fact from the reference, kept configurable because it is a cut-off."""
    CLINIC_CHOICE = "clinic_choice"
    """The reference gives no number (or an operational one); KetaClinic needs one to run."""


class CssrsBand(StrEnum):
    """C-SSRS screener triage levels (reference 3.9)."""

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


CSSRS_BAND_ORDER: tuple[CssrsBand, ...] = (CssrsBand.NONE, CssrsBand.LOW, CssrsBand.MODERATE, CssrsBand.HIGH)


@dataclass(frozen=True, slots=True)
class BloodPressure:
    """A systolic/diastolic pair in mmHg; a reading is above it when either part is above (reference 1.3)."""

    systolic: int
    diastolic: int

    def __post_init__(self) -> None:
        for name, value in (("systolic", self.systolic), ("diastolic", self.diastolic)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive whole number of mmHg, got {value!r}")

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic}"

    def exceeded_by(self, systolic: int, diastolic: int) -> bool:
        """True when systolic is above this systolic or diastolic is above this diastolic."""
        return systolic > self.systolic or diastolic > self.diastolic


def _doc(basis: PolicyBasis, sources: tuple[str, ...], description: str) -> dict[str, object]:
    # The documentation travels in the dataclass field metadata, so the staff page cannot drift from the code.
    return {"basis": basis, "sources": sources, "description": description}


_U = PolicyBasis.UNVERIFIED
_D = PolicyBasis.SOURCES_DIFFER
_V = PolicyBasis.VERIFIED_DEFAULT
_C = PolicyBasis.CLINIC_CHOICE


@dataclass(frozen=True, slots=True)
class ClinicPolicy:
    """The clinic-policy values in force. Every field documents its default, basis and sources."""

    # --- Outcomes (reference 3.3, 3.4, 3.10) -------------------------------------------------------------
    madrs_remission_max: int = field(
        default=10,
        metadata=_doc(
            _D,
            ("R14b", "R13c", "K8", "R15"),
            "MADRS remission is a total at or below this. The esketamine programme used <=12 (TRANSFORM, "
            "SUSTAIN); KetECT and ESCAPE-TRD used <=10.",
        ),
    )
    qids_sr16_relapse_min: int = field(
        default=11,
        metadata=_doc(
            _V,
            ("R16",),
            "QIDS-SR16 relapse after remission or response is a total at or above this (STAR*D).",
        ),
    )
    madrs_relapse_min: int = field(
        default=22,
        metadata=_doc(
            _U,
            ("R13a",),
            "MADRS relapse is a total at or above this at the required number of consecutive assessments "
            "(SUSTAIN-1 definition; unverified, confirm locally).",
        ),
    )
    madrs_relapse_consecutive: int = field(
        default=2,
        metadata=_doc(
            _U,
            ("R13a",),
            "How many consecutive MADRS assessments must reach the relapse total (SUSTAIN-1; unverified).",
        ),
    )
    madrs_relapse_gap_min_days: int = field(
        default=5,
        metadata=_doc(
            _U,
            ("R13a",),
            "Fewest days between the consecutive MADRS relapse assessments (SUSTAIN-1; unverified).",
        ),
    )
    madrs_relapse_gap_max_days: int = field(
        default=15,
        metadata=_doc(
            _U,
            ("R13a",),
            "Most days between the consecutive MADRS relapse assessments (SUSTAIN-1; unverified).",
        ),
    )
    phq9_relapse_min: int | None = field(
        default=None,
        metadata=_doc(
            _C,
            ("K9", "R13c"),
            "PHQ-9 relapse total. The reference defines PHQ-9 remission and response but no PHQ-9 relapse, "
            "so relapse is not assessed on PHQ-9 until the clinic sets a value.",
        ),
    )
    loss_of_response_consecutive: int = field(
        default=1,
        metadata=_doc(
            _C,
            ("R14b", "K9"),
            "After a response, how many consecutive assessments must fall short of the response definition "
            "(a fall of at least 50% from baseline, or remission) to count as loss of response.",
        ),
    )
    worsening_rise_percent: int | None = field(
        default=25,
        metadata=_doc(
            _C,
            ("R14b", "K9"),
            "Flag a patient as worsening when a PHQ-9, QIDS-SR16 or MADRS total is at least this many "
            "percent above their baseline total on the same scale. The reference defines response (a fall of "
            "50%) but no worsening; 25% is KetaClinic's choice (half the response change, in the other "
            "direction), not a validated cut-off: confirm locally. None turns the flag off.",
        ),
    )
    non_response_review_after_days: int = field(
        default=28,
        metadata=_doc(
            _C,
            ("S2", "K9"),
            "List a patient on the worklist as not responding when this many days have passed since the "
            "first session of their active plan and their latest score still falls short of response (a 50% "
            "fall from baseline, or remission). The reference gives no number: esketamine induction is weeks "
            "1-4 with benefit checked at its end, and a real-world IV induction is 4-8 infusions over 7-28 "
            "days, so 28 days is the end of the longest induction.",
        ),
    )
    # --- Scales (reference 3.6, 3.7, 3.9) ------------------------------------------------------------------
    cadss_alert_above: int | None = field(
        default=4,
        metadata=_doc(
            _U,
            ("R10a", "R10b"),
            "Raise a dissociation alert when the CADSS total is above this ('CADSS total >4 = dissociation "
            "present' is UNVERIFIED). None turns the alert off.",
        ),
    )
    moaas_sedation_alert_at_or_below: int | None = field(
        default=3,
        metadata=_doc(
            _U,
            ("R9", "S20"),
            "Raise a sedation alert when MOAA/S is at or below this ('sedation = MOAA/S <=3' in the trials "
            "is UNVERIFIED). MOAA/S 0 is always loss of consciousness. None turns the alert off.",
        ),
    )
    cssrs_ideation_band: CssrsBand = field(
        default=CssrsBand.LOW,
        metadata=_doc(
            _U,
            ("R12a", "R12b", "R12c"),
            "C-SSRS screener band when only Q1 and/or Q2 (wish to be dead, thoughts of suicide) is yes.",
        ),
    )
    cssrs_method_band: CssrsBand = field(
        default=CssrsBand.MODERATE,
        metadata=_doc(
            _U,
            ("R12a", "R12b", "R12c"),
            "C-SSRS screener band when Q3 (thought about a method) is yes without intent or plan.",
        ),
    )
    cssrs_past_behaviour_band: CssrsBand = field(
        default=CssrsBand.MODERATE,
        metadata=_doc(
            _U,
            ("R12a", "R12b", "R12c"),
            "C-SSRS screener band for suicidal behaviour more than 3 months ago (Q6 yes, not recent).",
        ),
    )
    # --- TRD (reference 4.1) -----------------------------------------------------------------------------
    trd_min_trial_weeks: int = field(
        default=6,
        metadata=_doc(
            _D,
            ("T1", "S28"),
            "Weeks at an adequate dose for a trial to count as adequate: >=6 weeks (MGH-s register "
            "adaptation); the Karolinska model uses 28 days and '4-6 weeks' is commonly quoted.",
        ),
    )
    # --- Blood pressure before dosing (reference 1.3, 2.3, 2.5, 5.2, 7) ----------------------------------
    esketamine_bp_acknowledge: BloodPressure = field(
        default=BloodPressure(140, 90),
        metadata=_doc(
            _D,
            ("S5", "S4b"),
            "Esketamine: a pre-dose BP above this asks the clinician to weigh the BP rise against the "
            "benefit. The label gives 140/90 as an example ('consider delaying therapy if >140/90').",
        ),
    )
    esketamine_bp_defer: BloodPressure | None = field(
        default=None,
        metadata=_doc(
            _C,
            ("S5",),
            "Esketamine: defer the dose when the pre-dose BP is above this. The label sets no number ('do "
            "not dose when a rise in BP would pose a serious risk'), so by default the clinician decides.",
        ),
    )
    ketamine_bp_acknowledge: BloodPressure = field(
        default=BloodPressure(140, 90),
        metadata=_doc(
            _U,
            ("K1", "S5"),
            "Racemic ketamine: a pre-dose BP above this asks for acknowledgement (APA consensus 'address "
            "baseline BP >140/90', unverified; matches the esketamine label example).",
        ),
    )
    ketamine_bp_defer: BloodPressure = field(
        default=BloodPressure(180, 100),
        metadata=_doc(
            _D,
            ("K16", "K1", "K14"),
            "Racemic ketamine: defer when resting BP is above this (Swiss ketamine SmPC contraindicates "
            "resting BP >180/100). The reference lists 140/90 vs 180/100 as a threshold where sources "
            "differ.",
        ),
    )
    # --- During the session (reference 1.3, 1.4, 2.3, 5.2) -----------------------------------------------
    session_bp_alert: BloodPressure = field(
        default=BloodPressure(180, 100),
        metadata=_doc(
            _U,
            ("K1", "K14"),
            "Alert when an in-session BP is above this (APA consensus stop/act threshold, unverified; Yip et "
            "al. argue for hypertension-guideline-based management instead).",
        ),
    )
    session_heart_rate_alert_above: int = field(
        default=110,
        metadata=_doc(
            _U,
            ("K1",),
            "Alert when in-session heart rate is above this many beats per minute (APA consensus, "
            "unverified).",
        ),
    )
    session_bp_rise_alert: BloodPressure = field(
        default=BloodPressure(40, 25),
        metadata=_doc(
            _C,
            ("S9",),
            "Alert when systolic rises by at least the first number, or diastolic by at least the second, "
            "over the pre-dose reading: the rise the esketamine safety information counts.",
        ),
    )
    spo2_alert_below: int = field(
        default=93,
        metadata=_doc(
            _C,
            ("S25b", "S3d"),
            "Alert when pulse oximetry reads below this %. The label requires pulse oximetry but gives no "
            "alarm level; 93% is the SpO2 below which the esketamine phase 3 trials excluded patients.",
        ),
    )
    ketamine_vitals_during_infusion_minutes: int = field(
        default=10,
        metadata=_doc(
            _C,
            ("K10", "K1"),
            "IV ketamine: minutes between scheduled vital-sign readings while the infusion runs. The APA "
            "consensus asks for vital signs during the infusion without an interval (unverified); the Emory "
            "series of 684 infusions measured BP every 10 minutes during.",
        ),
    )
    ketamine_vitals_after_dose_minutes: int = field(
        default=15,
        metadata=_doc(
            _C,
            ("K10", "K1"),
            "IV and IM ketamine: minutes between scheduled readings after the infusion ends (IV) or after "
            "the injection (IM). The Emory series measured BP every 15 minutes after the infusion; the APA "
            "consensus says 'until recovery' without an interval (unverified).",
        ),
    )
    ketamine_vitals_after_dose_for_minutes: int = field(
        default=60,
        metadata=_doc(
            _C,
            ("K10", "K11", "K1"),
            "IV and IM ketamine: for how many minutes after the infusion ends (IV) or the injection (IM) the "
            "scheduled readings continue; later readings are taken as the clinician judges until recovery. "
            "The reference gives no number: BP peaks about 40 minutes after an infusion starts (Yale) and "
            "was back to baseline during post-infusion monitoring (Emory).",
        ),
    )
    # --- Discharge (reference 1.3, 1.4, 2.5) -------------------------------------------------------------
    ketamine_min_observation_minutes: int | None = field(
        default=None,
        metadata=_doc(
            _C,
            ("K15", "K1"),
            "Racemic ketamine: fewest minutes from the start of dosing before discharge. The reference "
            "gives no number ('do not release until recovery is complete'); None means recovery criteria "
            "only.",
        ),
    )
    discharge_bp_tolerance_mmhg: int = field(
        default=0,
        metadata=_doc(
            _C,
            ("S5",),
            "How many mmHg the latest BP may exceed the one before and still count as 'stable' for "
            "discharge (the label says BP falling / steady, with no number).",
        ),
    )
    # --- Dosing (reference 1.2, 2.1, 2.2) ----------------------------------------------------------------
    iv_mg_per_kg_min: Decimal = field(
        default=Decimal("0.1"),
        metadata=_doc(
            _D,
            ("K3", "K12a"),
            "Lowest IV ketamine dose accepted, mg/kg (Andrade: 0.1-0.75; ASKP3: 0.5-1 starting).",
        ),
    )
    iv_mg_per_kg_max: Decimal = field(
        default=Decimal("1.0"),
        metadata=_doc(
            _D,
            ("K3", "K12a"),
            "Highest IV ketamine dose accepted, mg/kg (Andrade: up to 0.75; ASKP3: up to 1).",
        ),
    )
    im_mg_per_kg_min: Decimal = field(
        default=Decimal("0.1"),
        metadata=_doc(
            _V,
            ("K13", "K3"),
            "Lowest IM ketamine dose accepted, mg/kg (trial protocol 0.1-0.5 mg/kg IV, IM or SC).",
        ),
    )
    im_mg_per_kg_max: Decimal = field(
        default=Decimal("0.5"),
        metadata=_doc(
            _D,
            ("K13", "K3"),
            "Highest IM ketamine dose accepted, mg/kg. The trial protocol used up to 0.5; clinic ranges "
            "'often said to be 0.5-1 mg/kg' are UNVERIFIED.",
        ),
    )
    iv_concentration_mg_per_ml: Decimal = field(
        default=Decimal("50"),
        metadata=_doc(
            _C,
            ("K16b",),
            "Concentration of the ketamine solution the IV volume and pump rate are calculated for, mg/mL. "
            "A pharmacy choice, not a clinical fact: 50 mg/mL is the strength of the product in K16b; set "
            "it to what your pharmacy prepares (e.g. a diluted bag).",
        ),
    )
    im_concentration_mg_per_ml: Decimal = field(
        default=Decimal("50"),
        metadata=_doc(
            _C,
            ("K16b",),
            "Concentration of the ketamine solution drawn up for IM injection, mg/mL (pharmacy choice).",
        ),
    )
    dose_weight_min_kg: Decimal = field(
        default=Decimal("20"),
        metadata=_doc(
            _C,
            (),
            "Lightest body weight a weight-based dose is calculated for (data-entry safety bound).",
        ),
    )
    dose_weight_max_kg: Decimal = field(
        default=Decimal("400"),
        metadata=_doc(
            _C,
            (),
            "Heaviest body weight a weight-based dose is calculated for (data-entry safety bound).",
        ),
    )
    esketamine_allow_28mg: bool = field(
        default=False,
        metadata=_doc(
            _U,
            ("S2",),
            "Allow a 28 mg (one device) esketamine dose. The Hong Kong label starts patients aged >=65 at "
            "28 mg; whether the US label has a geriatric starting dose is UNVERIFIED.",
        ),
    )
    # --- Schedules (reference 1.2, 2.1) ------------------------------------------------------------------
    esketamine_maintenance_interval_weeks: int = field(
        default=2,
        metadata=_doc(
            _V,
            ("S2", "S4"),
            "Weeks between esketamine sessions from week 9: the label allows every 2 weeks or weekly and "
            "says to use the least frequent schedule that keeps remission/response (1 or 2).",
        ),
    )
    iv_maintenance_interval_weeks: int = field(
        default=2,
        metadata=_doc(
            _C,
            ("K3", "K6"),
            "Weeks between IV ketamine maintenance sessions. No evidence-based standard exists (tailor so "
            "the next dose comes before the effect fades); 2 weeks precedes the 18-day median time to "
            "relapse after a Murrough induction series.",
        ),
    )
    # --- Measurement-based care: the assessment schedule and self-report links ----------------------------
    # The reference gives no schedule or link rules: each value is the clinic's, with KetaClinic's default.
    # A schedule field names the sources of the instruments it schedules (PHQ-9 [R4], GAD-7 [R5], MADRS
    # [R14b], QIDS-SR16 [R16]); the self-report link's fields are operational and rest on no literature.
    assessment_pre_dose_phq9: bool = field(
        default=True,
        metadata=_doc(
            _C,
            ("R4",),
            "Ask for a PHQ-9 before each dose of a treatment plan (with the baseline PHQ-9 and GAD-7 before "
            "the first dose).",
        ),
    )
    assessment_induction_interval_days: int = field(
        default=7,
        metadata=_doc(
            _C,
            ("R4", "R5"),
            "Days between the tracking questionnaires (GAD-7, and QIDS-SR16 when chosen; PHQ-9 too when it "
            "is not asked before each dose) during induction: weekly by default.",
        ),
    )
    assessment_maintenance_interval_days: int = field(
        default=14,
        metadata=_doc(
            _C,
            ("R4", "R5"),
            "Days between the tracking questionnaires in maintenance: every two weeks by default.",
        ),
    )
    assessment_qids_sr16: bool = field(
        default=False,
        metadata=_doc(
            _C,
            ("R16",),
            "Add the QIDS-SR16 to the baseline and the tracking questionnaires (where the clinic uses it).",
        ),
    )
    assessment_madrs: bool = field(
        default=True,
        metadata=_doc(
            _C,
            ("R14b",),
            "Ask the clinician for a MADRS at baseline and at the end of induction.",
        ),
    )
    self_report_link_hours: int = field(
        default=72,
        metadata=_doc(
            _C,
            (),
            "Hours a patient's self-report link works after it is sent; a reminder sends a new link and the "
            "old one stops working.",
        ),
    )
    self_report_dob_attempts: int = field(
        default=5,
        metadata=_doc(
            _C,
            (),
            "Wrong dates of birth a self-report link accepts; the next wrong one locks it (staff send a new "
            "link).",
        ),
    )
    self_report_lead_hours: int = field(
        default=24,
        metadata=_doc(
            _C,
            (),
            "Hours before a scheduled questionnaire is due that its link is sent to the patient.",
        ),
    )
    self_report_overdue_hours: int = field(
        default=24,
        metadata=_doc(
            _C,
            (),
            "Hours after a questionnaire was due, still unanswered, that one overdue reminder (with a new "
            "link) is sent.",
        ),
    )
    # --- Screening (reference 1.5, 5.2, 7) ---------------------------------------------------------------
    screening_spo2_min: int = field(
        default=93,
        metadata=_doc(
            _V,
            ("S25b",),
            "Resting SpO2 (%) below which screening asks for acknowledgement: the esketamine phase 3 "
            "trials excluded SpO2 <93%.",
        ),
    )
    minimum_age_years: int = field(
        default=18,
        metadata=_doc(
            _C,
            ("S8",),
            "Racemic ketamine: patients younger than this need a clinician's acknowledgement (esketamine "
            "is approved only in adults; the antidepressant class warning is largest under 18).",
        ),
    )
    home_cautions_require_acknowledgement: bool = field(
        default=True,
        metadata=_doc(
            _C,
            ("S13", "K15"),
            "Home ketamine: raise every 'caution' finding to 'acknowledge', because nobody qualified is in "
            "the room to monitor (the REMS and the ketamine SmPC expect on-site monitoring).",
        ),
    )
    home_ineligible_conditions: frozenset[str] = field(
        default=frozenset(),
        metadata=_doc(
            _C,
            ("S13", "K15"),
            "Home ketamine: condition codes that make a patient ineligible for home treatment (empty by "
            "default; e.g. psychosis_history, substance_use_disorder).",
        ),
    )

    # --- Scheduling (shared/product/scheduling.md; reference 1.8) ----------------------------------------
    nurse_monitoring_ratio: int | None = field(
        default=None,
        metadata=_doc(
            _C,
            ("S13",),
            "Patients in monitoring (a dosing visit: esketamine, IV or IM) per nurse on duty at any moment. "
            "The REMS asks only for healthcare provider(s) on site and no source gives a ratio, so there is "
            "no default: dosing visits cannot be booked at a location until its clinic sets one.",
        ),
    )
    esketamine_visit_minutes: int = field(
        default=135,
        metadata=_doc(
            _C,
            ("S13",),
            "Minutes an esketamine visit holds its chair or room: at least 2 hours of monitoring after the "
            "dose, check-in and turnover (about 2 h 15 min; clinics quote 120-140 minutes in the office).",
        ),
    )
    iv_visit_minutes: int = field(
        default=120,
        metadata=_doc(
            _C,
            ("K3",),
            "Minutes an IV ketamine visit holds its chair: the 40-minute infusion, monitoring after it, "
            "check-in and turnover (clinics book 1.5-2 hours).",
        ),
    )
    im_visit_minutes: int = field(
        default=90,
        metadata=_doc(_C, (), "Minutes an IM ketamine visit holds its chair, monitoring included."),
    )
    consultation_visit_minutes: int = field(
        default=60,
        metadata=_doc(_C, (), "Minutes a consultation holds its room."),
    )
    preparation_visit_minutes: int = field(
        default=50,
        metadata=_doc(_C, (), "Minutes a preparation session holds its therapy room."),
    )
    integration_visit_minutes: int = field(
        default=50,
        metadata=_doc(_C, (), "Minutes an integration session holds its therapy room."),
    )
    late_cancel_hours: int = field(
        default=24,
        metadata=_doc(
            _C,
            (),
            "A cancellation less than this many hours before the visit is recorded as late (ketamine "
            "clinics commonly ask for 24 hours' notice).",
        ),
    )
    waitlist_hold_minutes: int = field(
        default=60,
        metadata=_doc(
            _C,
            (),
            "Minutes a freed slot is held for the waitlist patient it is offered to before it moves to the "
            "next (calendars commonly hold 15 minutes to 2 hours).",
        ),
    )
    visit_reminder_hours: int = field(
        default=48,
        metadata=_doc(
            _C, (), "Hours before a visit its reminder is sent, asking the patient to confirm they will come."
        ),
    )
    unconfirmed_flag_hours: int = field(
        default=24,
        metadata=_doc(
            _C, (), "A visit not confirmed by this many hours before it starts is flagged to front desk."
        ),
    )
    # --- Ketamine-assisted psychotherapy (issue 11; clinical/kap.py) ----------------------------------
    # The reference has no preparation or integration timing: both are the clinic's choice.
    integration_due_within_days: int = field(
        default=7,
        metadata=_doc(
            _C,
            ("K12b",),
            "Days after each signed dose session within which its integration session is due (a protocol "
            "file may set its own; past it, the patient is on the worklist as integration due).",
        ),
    )
    kap_preparation_required: bool = field(
        default=True,
        metadata=_doc(
            _C,
            ("K12b",),
            "A KAP plan (a patient with a therapist on the care team) needs a preparation session with a "
            "signed note before its first dose.",
        ),
    )
    # --- At-home ketamine (reference 1.3, 1.4, 2.3, 2.5; product brief "At-home programs") --------------
    # Nobody qualified is in the room, so each number is the clinic's; the defaults are the reference's
    # in-clinic values where it has one.
    home_bp_max: BloodPressure = field(
        default=BloodPressure(140, 90),
        metadata=_doc(
            _C,
            ("K1", "S5", "S4b", "K16"),
            "Home ketamine: the patient must not take a dose when the blood pressure they measure before it "
            "is above this, and a check-in whose blood pressure after the dose is above it fails. The "
            "reference gives 140/90 ('address baseline BP >140/90 before treating', UNVERIFIED; the "
            "esketamine label's example) and 180/100 (stop/act, sources differ). With nobody qualified in "
            "the room to act on a rise, KetaClinic takes the stricter 140/90: confirm locally.",
        ),
    )
    home_checkin_after_hours: int = field(
        default=2,
        metadata=_doc(
            _C,
            ("S6", "S3a", "S13"),
            "Home ketamine: hours after the dose when the patient's check-in opens. The reference gives no "
            "home number; 2 hours is the monitoring every in-clinic esketamine session needs.",
        ),
    )
    home_checkin_due_hours: int = field(
        default=24,
        metadata=_doc(
            _C,
            (),
            "Home ketamine: hours after the dose by which the check-in must be sent; later, it is missing "
            "and the next home dose is held (an operational value with no basis in the literature).",
        ),
    )
    home_fail_side_effect_level: int = field(
        default=3,
        metadata=_doc(
            _C,
            ("S13", "K15"),
            "Home ketamine: a check-in fails when the patient rates their side effects at or above this "
            "level (1 mild, 2 moderate, 3 severe). The reference has no home cut-off; severe by default.",
        ),
    )
    home_fail_dissociation_level: int = field(
        default=3,
        metadata=_doc(
            _C,
            ("S13", "R10a"),
            "Home ketamine: a check-in fails when the patient rates how dissociated they felt at or above "
            "this level (1 mild, 2 moderate, 3 severe). The reference has no patient-rated cut-off (its "
            "CADSS level is UNVERIFIED); severe by default.",
        ),
    )

    def __post_init__(self) -> None:
        _validate(self)


def _validate(policy: ClinicPolicy) -> None:
    _check_ints(policy)
    _check_types(policy)
    if policy.iv_mg_per_kg_min > policy.iv_mg_per_kg_max or policy.iv_mg_per_kg_min <= 0:
        raise ValueError("iv_mg_per_kg_min must be positive and not above iv_mg_per_kg_max")
    if policy.im_mg_per_kg_min > policy.im_mg_per_kg_max or policy.im_mg_per_kg_min <= 0:
        raise ValueError("im_mg_per_kg_min must be positive and not above im_mg_per_kg_max")
    if policy.dose_weight_min_kg > policy.dose_weight_max_kg or policy.dose_weight_min_kg <= 0:
        raise ValueError("dose_weight_min_kg must be positive and not above dose_weight_max_kg")
    if policy.iv_concentration_mg_per_ml <= 0 or policy.im_concentration_mg_per_ml <= 0:
        raise ValueError("concentrations must be positive")
    if policy.madrs_relapse_gap_min_days > policy.madrs_relapse_gap_max_days:
        raise ValueError("madrs_relapse_gap_min_days must not exceed madrs_relapse_gap_max_days")
    if policy.esketamine_maintenance_interval_weeks not in (1, 2):
        raise ValueError("esketamine_maintenance_interval_weeks must be 1 or 2 (the label's two schedules)")
    bands = (policy.cssrs_ideation_band, policy.cssrs_method_band, policy.cssrs_past_behaviour_band)
    if not all(isinstance(b, CssrsBand) and b is not CssrsBand.NONE for b in bands):
        raise ValueError("C-SSRS policy bands must be CssrsBand low, moderate or high")
    if policy.home_checkin_after_hours >= policy.home_checkin_due_hours:
        raise ValueError("home_checkin_after_hours must be less than home_checkin_due_hours")
    for name in ("home_fail_side_effect_level", "home_fail_dissociation_level"):
        if getattr(policy, name) > 3:
            raise ValueError(f"{name} must be 1 (mild), 2 (moderate) or 3 (severe)")
    unknown = policy.home_ineligible_conditions - CONDITIONS.keys()
    if unknown:
        raise ValueError(f"home_ineligible_conditions has unknown condition codes: {sorted(unknown)}")


# Fields that must be whole numbers, with the smallest value that makes clinical sense for each.
_INT_MINIMUMS: dict[str, int] = {
    "madrs_remission_max": 0,
    "qids_sr16_relapse_min": 1,
    "madrs_relapse_min": 1,
    "madrs_relapse_consecutive": 1,
    "madrs_relapse_gap_min_days": 0,
    "madrs_relapse_gap_max_days": 0,
    "phq9_relapse_min": 1,
    "loss_of_response_consecutive": 1,
    "worsening_rise_percent": 1,
    "non_response_review_after_days": 1,
    "cadss_alert_above": 0,
    "moaas_sedation_alert_at_or_below": 0,
    "trd_min_trial_weeks": 1,
    "session_heart_rate_alert_above": 1,
    "spo2_alert_below": 1,
    "ketamine_min_observation_minutes": 0,
    "discharge_bp_tolerance_mmhg": 0,
    "ketamine_vitals_during_infusion_minutes": 1,
    "ketamine_vitals_after_dose_minutes": 1,
    "ketamine_vitals_after_dose_for_minutes": 0,
    "iv_maintenance_interval_weeks": 1,
    "screening_spo2_min": 1,
    "minimum_age_years": 0,
    "assessment_induction_interval_days": 1,
    "assessment_maintenance_interval_days": 1,
    "self_report_link_hours": 1,
    "self_report_dob_attempts": 1,
    "self_report_lead_hours": 0,
    "self_report_overdue_hours": 1,
    "nurse_monitoring_ratio": 1,
    "esketamine_visit_minutes": 5,
    "iv_visit_minutes": 5,
    "im_visit_minutes": 5,
    "consultation_visit_minutes": 5,
    "preparation_visit_minutes": 5,
    "integration_visit_minutes": 5,
    "late_cancel_hours": 0,
    "waitlist_hold_minutes": 5,
    "visit_reminder_hours": 1,
    "unconfirmed_flag_hours": 1,
    "integration_due_within_days": 1,
    "home_checkin_after_hours": 0,
    "home_checkin_due_hours": 1,
    "home_fail_side_effect_level": 1,
    "home_fail_dissociation_level": 1,
}


# Fields where None means "not set": the rule that uses them stays off until the clinic chooses a value.
_OPTIONAL_INTS = frozenset(
    {
        "phq9_relapse_min",
        "worsening_rise_percent",
        "cadss_alert_above",
        "moaas_sedation_alert_at_or_below",
        "ketamine_min_observation_minutes",
        "nurse_monitoring_ratio",
    }
)


_DECIMALS = (
    "iv_mg_per_kg_min",
    "iv_mg_per_kg_max",
    "im_mg_per_kg_min",
    "im_mg_per_kg_max",
    "iv_concentration_mg_per_ml",
    "im_concentration_mg_per_ml",
    "dose_weight_min_kg",
    "dose_weight_max_kg",
)
_PRESSURES = (
    "esketamine_bp_acknowledge",
    "ketamine_bp_acknowledge",
    "ketamine_bp_defer",
    "session_bp_alert",
    "home_bp_max",
)
_BOOLS = (
    "esketamine_allow_28mg",
    "home_cautions_require_acknowledgement",
    "assessment_pre_dose_phq9",
    "assessment_qids_sr16",
    "assessment_madrs",
    "kap_preparation_required",
)


def _check_types(policy: ClinicPolicy) -> None:
    # Doses are Decimal so that policy limits compare exactly with Decimal doses.
    for name in _DECIMALS:
        value = getattr(policy, name)
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"ClinicPolicy.{name} must be a finite Decimal, got {value!r}")
    for name in _PRESSURES:
        if not isinstance(getattr(policy, name), BloodPressure):
            raise ValueError(f"ClinicPolicy.{name} must be a BloodPressure")
    if policy.esketamine_bp_defer is not None and not isinstance(policy.esketamine_bp_defer, BloodPressure):
        raise ValueError("ClinicPolicy.esketamine_bp_defer must be a BloodPressure or None")
    for name in _BOOLS:
        if not isinstance(getattr(policy, name), bool):
            raise ValueError(f"ClinicPolicy.{name} must be true or false")
    if not isinstance(policy.home_ineligible_conditions, frozenset):
        raise ValueError("ClinicPolicy.home_ineligible_conditions must be a frozenset of condition codes")


def _check_ints(policy: ClinicPolicy) -> None:
    for name, minimum in _INT_MINIMUMS.items():
        value = getattr(policy, name)
        if value is None and name in _OPTIONAL_INTS:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"ClinicPolicy.{name} must be a whole number >= {minimum}, got {value!r}")


DEFAULT_POLICY = ClinicPolicy()


@dataclass(frozen=True, slots=True)
class PolicyField:
    """One row of "the policy values in force"."""

    name: str
    value: Any
    default: Any
    description: str
    sources: tuple[str, ...]
    basis: PolicyBasis

    @property
    def is_default(self) -> bool:
        return bool(self.value == self.default)

    @property
    def unverified(self) -> bool:
        return self.basis is PolicyBasis.UNVERIFIED

    @property
    def sources_differ(self) -> bool:
        return self.basis is PolicyBasis.SOURCES_DIFFER


def policy_fields(policy: ClinicPolicy = DEFAULT_POLICY) -> tuple[PolicyField, ...]:
    """Every policy field in declaration order, with its value in `policy` and its documented default."""
    rows = []
    for f in dataclasses.fields(ClinicPolicy):
        rows.append(
            PolicyField(
                name=f.name,
                value=getattr(policy, f.name),
                default=f.default,
                description=f.metadata["description"],
                sources=f.metadata["sources"],
                basis=f.metadata["basis"],
            )
        )
    return tuple(rows)


def format_value(value: object) -> str:
    """A policy value as staff should read it (None as 'not set', sets sorted)."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, frozenset):
        return ", ".join(sorted(str(v) for v in value)) or "none"
    return str(value)


def policy_to_json(policy: ClinicPolicy) -> dict[str, Any]:
    """The policy as plain JSON values: decimals as strings, pressures as {"systolic", "diastolic"}, sets as
    sorted lists. A screening or session keeps this as the policy it was judged under.
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(ClinicPolicy):
        value = getattr(policy, f.name)
        if isinstance(value, Decimal):
            out[f.name] = str(value)
        elif isinstance(value, BloodPressure):
            out[f.name] = {"systolic": value.systolic, "diastolic": value.diastolic}
        elif isinstance(value, frozenset):
            out[f.name] = sorted(value)
        elif isinstance(value, StrEnum):
            out[f.name] = value.value
        else:
            out[f.name] = value
    return out


def _from_json(name: str, default: Any, raw: Any) -> Any:
    if raw is None:
        return None
    if isinstance(default, Decimal):
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise ValueError(f"{name}: enter a number")
        try:
            return Decimal(str(raw))
        except ArithmeticError as exc:
            raise ValueError(f"{name}: enter a number") from exc
    if isinstance(default, BloodPressure) or name in _PRESSURES or name == "esketamine_bp_defer":
        if not isinstance(raw, dict) or set(raw) != {"systolic", "diastolic"}:
            raise ValueError(f"{name}: give systolic and diastolic in mmHg")
        return BloodPressure(raw["systolic"], raw["diastolic"])
    if isinstance(default, frozenset):
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise ValueError(f"{name}: give a list of codes")
        return frozenset(raw)
    if isinstance(default, CssrsBand):
        try:
            return CssrsBand(raw)
        except ValueError as exc:
            raise ValueError(f"{name}: one of {', '.join(b.value for b in CssrsBand)}") from exc
    return raw


def policy_from_json(values: dict[str, Any], base: ClinicPolicy = DEFAULT_POLICY) -> ClinicPolicy:
    """`base` with the named values of `values` (the shape `policy_to_json` writes) replaced.

    Raises ValueError naming the field for an unknown name or a value of the wrong shape or range.
    """
    defaults = {f.name: f.default for f in dataclasses.fields(ClinicPolicy)}
    changes: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in defaults:
            raise ValueError(f"{name}: not a clinic policy value")
        changes[name] = _from_json(name, defaults[name], raw)
    try:
        return dataclasses.replace(base, **changes)
    except (TypeError, ValueError) as exc:
        message = str(exc).removeprefix("ClinicPolicy.")
        raise ValueError(message) from exc
