"""The demo clinic network: two locations, a persona for every role, and about 40 patients each.

Every patient is built as the same PatientCreate an intake clerk would submit, and registered through the
actions, so the demo exercises the real code. Histories are varied on purpose: clear treatment-resistant
depression, too few adequate trials, label contraindications, interacting medications, psychosis
history, pregnancy, substance use. Names are invented; any likeness is chance.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from ketaclinic.accounts import actions as accounts
from ketaclinic.accounts.models import ClinicNetwork, User
from ketaclinic.accounts.permissions import Role
from ketaclinic.assessments import demo as assessments_demo
from ketaclinic.billing import demo as billing_demo
from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinicpolicy import demo as clinicpolicy_demo
from ketaclinic.consent import demo as consent_demo
from ketaclinic.homecare import demo as homecare_demo
from ketaclinic.ledger import demo as ledger_demo
from ketaclinic.outcomes import demo as outcomes_demo
from ketaclinic.patients import inputs
from ketaclinic.patients.actions import do_register_patient
from ketaclinic.portal import demo as portal_demo
from ketaclinic.rems import demo as rems_demo
from ketaclinic.scheduling import demo as scheduling_demo
from ketaclinic.screening import demo as screening_demo
from ketaclinic.therapy import demo as therapy_demo
from ketaclinic.treatment import demo as treatment_demo

NETWORK_SLUG = "demo"
PASSWORD = "ketaclinic-demo"
LOCATIONS = (("north", "North Clinic"), ("south", "South Clinic"))
# Each location counts its days in its own zone (issue 9): north on the Pacific coast, south on the Atlantic.
TIME_ZONES = {"north": "America/Los_Angeles", "south": "America/New_York"}
PERSONAS = (
    ("admin", Role.CLINIC_ADMIN, "Alex", "Admin"),
    ("prescriber", Role.PRESCRIBER, "Priya", "Prescott"),
    ("nurse", Role.NURSE, "Noah", "Nurse"),
    ("therapist", Role.THERAPIST, "Tara", "Thorne"),
    ("frontdesk", Role.FRONT_DESK, "Frankie", "Desk"),
)
PATIENTS_PER_LOCATION = 40
# The ledger's history is loaded for a network of at least this many patients a location (make run).
LEDGER_MIN_PATIENTS = 20

GIVEN_F = (
    "Ava",
    "Maya",
    "Lena",
    "Nora",
    "Iris",
    "Clara",
    "Hazel",
    "June",
    "Rosa",
    "Ines",
    "Mara",
    "Tess",
    "Ruth",
    "Elena",
    "Jana",
    "Leah",
    "Vera",
    "Opal",
    "Wren",
    "Zoe",
)
GIVEN_M = (
    "Owen",
    "Elias",
    "Jonah",
    "Theo",
    "Silas",
    "Milo",
    "Felix",
    "Hugo",
    "Isaac",
    "Omar",
    "Ravi",
    "Tomas",
    "Victor",
    "Luca",
    "Emil",
    "Caleb",
    "Ezra",
    "Amir",
    "Dario",
    "Nils",
)
FAMILY = (
    "Abbott",
    "Barros",
    "Castellanos",
    "Dunmore",
    "Eklund",
    "Farrow",
    "Galloway",
    "Haddad",
    "Ibarra",
    "Jansen",
    "Kowalczyk",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quist",
    "Rahman",
    "Sorensen",
    "Tanaka",
    "Umberg",
    "Valdez",
    "Whitlock",
    "Xu",
    "Yilmaz",
    "Zeller",
    "Achterberg",
    "Bellamy",
    "Corbin",
    "Delacroix",
)

# (drug, max daily dose mg) pairs used for adequate trials; doses are illustrative demo values.
ADEQUATE = (
    ("sertraline", 200),
    ("escitalopram", 20),
    ("venlafaxine", 225),
    ("duloxetine", 120),
    ("bupropion", 450),
    ("mirtazapine", 45),
    ("fluoxetine", 60),
    ("vortioxetine", 20),
    ("nortriptyline", 150),
)


def _trial(
    drug: str,
    dose: int,
    weeks: int,
    outcome: str,
    *,
    adequate: bool = True,
    current: bool = True,
    augmented: str = "",
) -> dict[str, Any]:
    return {
        "drug": drug,
        "max_daily_dose_mg": Decimal(dose),
        "weeks_at_dose": Decimal(weeks),
        "adequate_dose": adequate,
        "outcome": outcome,
        "current_episode": current,
        "augmented": bool(augmented),
        "augmentation_agent": augmented,
        "dose_optimised": weeks >= 10,
    }


def _failed_trials(rng: random.Random, count: int) -> list[dict[str, Any]]:
    picks = rng.sample(ADEQUATE, count)
    trials = [
        _trial(d, dose, rng.choice((6, 8, 10, 12)), rng.choice(("none", "partial"))) for d, dose in picks
    ]
    if count >= 3 and rng.random() < 0.5:
        trials[-1]["augmented"], trials[-1]["augmentation_agent"] = True, "aripiprazole"
    return trials


def _profile(kind: str, rng: random.Random) -> dict[str, Any]:
    """Conditions, medications, substance use and trials for one archetype."""
    mdd = [{"code": "major_depressive_disorder"}]
    current_ad = [{"drug": "escitalopram", "dose": "20 mg daily"}]
    profiles: dict[str, dict[str, Any]] = {
        "clear_trd": {
            "conditions": mdd,
            "medications": current_ad,
            "antidepressant_trials": _failed_trials(rng, rng.choice((2, 3, 4))),
        },
        "too_few_trials": {
            "conditions": mdd,
            "medications": current_ad,
            "antidepressant_trials": [
                _trial("sertraline", 100, 8, "partial"),
                _trial("citalopram", 20, 3, "none", adequate=False),
            ],
        },
        "contraindicated": {
            "conditions": [
                *mdd,
                {
                    "code": rng.choice(
                        (
                            "aneurysmal_vascular_disease",
                            "arteriovenous_malformation",
                            "intracerebral_hemorrhage_history",
                        )
                    )
                },
            ],
            "antidepressant_trials": _failed_trials(rng, 2),
        },
        "ketamine_allergy": {
            "conditions": [*mdd, {"code": "ketamine_hypersensitivity"}],
            "antidepressant_trials": _failed_trials(rng, 2),
            "allergies": [
                {
                    "substance": "Ketamine",
                    "category": "medication",
                    "reaction": "Hives and wheeze",
                    "severity": "severe",
                    "ketamine_related": True,
                }
            ],
        },
        "levothyroxine": {
            "conditions": mdd,
            "antidepressant_trials": _failed_trials(rng, 2),
            "medications": [*current_ad, {"drug": "levothyroxine", "dose": "75 mcg daily"}],
        },
        "levothyroxine_benzodiazepine": {
            "conditions": [*mdd, {"code": "generalized_anxiety_disorder"}],
            # Fixed trials: drawing them would shift every later patient's random history.
            "antidepressant_trials": [
                _trial("sertraline", 200, 8, "none"),
                _trial("venlafaxine", 225, 10, "partial"),
            ],
            "medications": [
                *current_ad,
                {"drug": "levothyroxine", "dose": "100 mcg daily"},
                {"drug": "lorazepam", "dose": "0.5 mg at night"},
            ],
        },
        "benzodiazepine": {
            "conditions": [*mdd, {"code": "generalized_anxiety_disorder"}],
            "antidepressant_trials": _failed_trials(rng, 3),
            "medications": [{"drug": "clonazepam", "dose": "1 mg twice daily"}, *current_ad],
        },
        "stimulant_maoi": {
            "conditions": mdd,
            "antidepressant_trials": _failed_trials(rng, 3),
            "medications": [
                {
                    "drug": rng.choice(("methylphenidate", "amphetamine", "modafinil")),
                    "dose": "as prescribed",
                },
                {"drug": "phenelzine", "dose": "45 mg daily"},
            ],
        },
        "psychosis": {
            "conditions": [{"code": "bipolar_depression"}, {"code": "psychosis_history", "onset_year": 2015}],
            "medications": [
                {"drug": "quetiapine", "dose": "300 mg nightly"},
                {"drug": "lamotrigine", "dose": "200 mg daily"},
            ],
            "antidepressant_trials": _failed_trials(rng, 2),
        },
        "pregnant": {
            "conditions": mdd,
            "antidepressant_trials": _failed_trials(rng, 2),
            "pregnancy_status": "pregnant",
        },
        "substance": {
            "conditions": [*mdd, {"code": "substance_use_disorder"}],
            "antidepressant_trials": _failed_trials(rng, 2),
            "substance_use": [{"substance": "alcohol", "use_status": "current", "use_disorder": True}],
        },
        "hypertension": {
            "conditions": [*mdd, {"code": "uncontrolled_hypertension"}],
            "antidepressant_trials": _failed_trials(rng, 2),
            "medications": [{"drug": "amlodipine", "dose": "10 mg daily"}, *current_ad],
        },
        "off_label": {
            "conditions": [
                {
                    "code": rng.choice(
                        ("obsessive_compulsive_disorder", "ptsd", "generalized_anxiety_disorder")
                    )
                }
            ],
            "medications": [{"drug": "sertraline", "dose": "150 mg daily"}],
            "antidepressant_trials": [_trial("sertraline", 150, 12, "partial")],
        },
        "naltrexone": {
            "conditions": mdd,
            "antidepressant_trials": _failed_trials(rng, 2),
            "medications": [{"drug": "naltrexone", "dose": "50 mg daily"}],
            "substance_use": [{"substance": "alcohol", "use_status": "past", "use_disorder": True}],
        },
    }
    return profiles[kind]


# How often each archetype appears; clear TRD is the clinic's main population.
ARCHETYPES = (
    ["clear_trd"] * 14
    + ["too_few_trials"] * 4
    + ["contraindicated"] * 2
    + ["ketamine_allergy"]
    + ["levothyroxine"] * 2
    + ["levothyroxine_benzodiazepine"]
    + ["benzodiazepine"] * 3
    + ["stimulant_maoi"] * 2
    + ["psychosis"] * 2
    + ["pregnant"] * 2
    + ["substance"] * 2
    + ["hypertension"] * 2
    + ["off_label"] * 2
    + ["naltrexone"]
)


# Resting vitals (systolic, diastolic mmHg, heart rate bpm): illustrative demo readings, all at or below the
# clinic policy's acknowledgement level (the demo tests check), picked by position so the seeded draws above
# stay as they were.
RESTING = ((116, 74, 68), (122, 78, 72), (128, 82, 76), (112, 70, 64), (124, 80, 80), (119, 77, 70))


def _resting(kind: str, index: int) -> dict[str, int]:
    """A normal resting reading; the uncontrolled-hypertension archetype is above the deferral level."""
    if kind == "hypertension":
        defer = DEFAULT_POLICY.ketamine_bp_defer
        systolic, diastolic, heart_rate = defer.systolic + 6, defer.diastolic + 4, 92
    else:
        systolic, diastolic, heart_rate = RESTING[index % len(RESTING)]
    return {"systolic_mmhg": systolic, "diastolic_mmhg": diastolic, "heart_rate_bpm": heart_rate}


def _patient(index: int, location: str, rng: random.Random, today: dt.date) -> inputs.PatientCreate:
    kind = ARCHETYPES[index % len(ARCHETYPES)]
    sex = "female" if kind == "pregnant" or rng.random() < 0.55 else "male"
    given = rng.choice(GIVEN_F if sex == "female" else GIVEN_M)
    family = rng.choice(FAMILY)
    age = rng.randint(26, 44) if kind == "pregnant" else rng.randint(19, 78)
    born = today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    profile = _profile(kind, rng)
    if sex == "female" and "pregnancy_status" not in profile:
        profile["pregnancy_status"] = "not_pregnant" if age < 55 else "not_applicable"
    return inputs.PatientCreate.model_validate(
        {
            "location": location,
            "external_mrn": f"{location[0].upper()}{100001 + index}",
            "given_name": given,
            "family_name": family,
            "date_of_birth": born,
            "sex": sex,
            "phone": f"555-01{rng.randint(10, 99)}",
            "email": f"{given.lower()}.{family.lower()}@example.org",
            "address": f"{rng.randint(1, 999)} {rng.choice(('Elm', 'Oak', 'Pine', 'Cedar'))} Street",
            "emergency_contact_name": f"{rng.choice(GIVEN_F + GIVEN_M)} {family}",
            "emergency_contact_phone": f"555-02{rng.randint(10, 99)}",
            "emergency_contact_relationship": rng.choice(("Spouse", "Parent", "Sibling", "Friend")),
            "measurement": {
                "weight_kg": Decimal(rng.randint(480, 1250)) / 10,
                "height_cm": Decimal(rng.randint(1520, 1950)) / 10,
                **_resting(kind, index),
            },
            **profile,
            # Generated names and birth dates may coincide; they are different demo people.
            "confirm_duplicate": True,
        }
    )


def load(today: dt.date, *, patients_per_location: int = PATIENTS_PER_LOCATION, seed: int = 20261121) -> bool:
    """Load the demo network once. Returns False (and changes nothing) when it is already there."""
    if ClinicNetwork.objects.filter(slug=NETWORK_SLUG).exists():
        return False
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    password_hash = make_password(PASSWORD)
    with transaction.atomic():
        network = accounts.do_create_network("KetaClinic Demo Network", NETWORK_SLUG)
        for slug, name in LOCATIONS:
            location = accounts.do_create_location(network, name, slug, time_zone=TIME_ZONES[slug])
            for username, role, first, last in PERSONAS:
                user = accounts.do_create_staff(
                    network,
                    f"{username}.{slug}",
                    "",
                    first_name=first,
                    last_name=f"{last} ({name.split()[0]})",
                    password_hash=password_hash,
                )
                accounts.do_grant_role(user, location, role)
            registrar = User.objects.get(username=f"frontdesk.{slug}")
            for index in range(patients_per_location):
                do_register_patient(_patient(index, slug, rng, today), actor=registrar)
            # Months of controlled-substance ledger; none for the small networks of the tests.
            ledger_demo.history(
                location, today, rng, months=4 if patients_per_location >= LEDGER_MIN_PATIENTS else 0
            )
        clinicpolicy_demo.load(network.locations.order_by("pk"))
        rems_demo.load(network, today, rng)
        consent_demo.load(network, screening_demo.chosen(network))
        screening_demo.load(network, today)
        # Last: today's sessions need the documents, screenings and ledger lots above.
        treatment_demo.load(list(network.locations.order_by("slug")), rng)
        # Months of scores (PHQ-9, GAD-7, MADRS) for patients without today's sessions; none for the tests.
        if patients_per_location >= LEDGER_MIN_PATIENTS:
            assessments_demo.load(list(network.locations.order_by("slug")), today, rng)
        # A ketamine-assisted psychotherapy course at each location: none for the tests' small networks.
        if patients_per_location >= LEDGER_MIN_PATIENTS:
            therapy_demo.load(list(network.locations.order_by("slug")), today, rng)
        # A patient with a portal login, whose upcoming session needs the plans above.
        portal_demo.load(network)
        # Price lists (the tests' too); coverage, estimates, and invoices of signed sessions with payments.
        billing_demo.load(network, today, rng, full=patients_per_location >= LEDGER_MIN_PATIENTS)
        # The calendar: hours, a holiday and rosters; in the full demo the nurse ratio and booked courses.
        scheduling_demo.load(
            list(network.locations.order_by("slug")), full=patients_per_location >= LEDGER_MIN_PATIENTS
        )
        # Next week's proposal: a few course visits moved, placed again by the optimiser (full demo only).
        if patients_per_location >= LEDGER_MIN_PATIENTS:
            from ketaclinic.scheduling import demo_proposals

            demo_proposals.load(list(network.locations.order_by("slug")))
        # An at-home program at north with four weeks of doses and a missed check-in holding the next dose.
        if patients_per_location >= LEDGER_MIN_PATIENTS:
            homecare_demo.load(network, today)
        # A year of past courses with their scores, for the outcome report's curves (bulk-inserted).
        if patients_per_location >= LEDGER_MIN_PATIENTS:
            outcomes_demo.load(list(network.locations.order_by("slug")), today, rng)
            outcomes_demo.director(network, password_hash)
    return True


def logins() -> list[str]:
    return [f"{u}.{loc}" for loc, _ in LOCATIONS for u, *_ in PERSONAS]


DIRECTOR = outcomes_demo.DIRECTOR


def has_director() -> bool:
    """The full demo's clinic director (admin at every location), made with the outcome report's courses."""
    return User.objects.filter(username=DIRECTOR).exists()
