"""Demo consent documents: one per modality at each location, in plain language, from the clinical
reference's facts only (its sections 1.4, 1.6, 2.3 and 2.5)."""

from __future__ import annotations

from typing import Any

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinical.common import Modality
from ketaclinic.consent.actions import do_publish_document, do_sign_consent
from ketaclinic.consent.inputs import ConsentIn, DocumentIn
from ketaclinic.consent.models import ConsentDocument
from ketaclinic.patients.models import Patient

_COMMON_RISKS = (
    "What you may feel. During and after the treatment most people feel detached or unreal, or notice "
    "changes in what they see and hear (dissociation). Many people feel sleepy or sedated; rarely, a person "
    "becomes unresponsive. Blood pressure usually rises for a while. Nausea, dizziness and headache can "
    "happen. Short-term effects on thinking and memory can happen.\n\n"
    "Other risks. Ketamine can be misused and can lead to dependence; tell us about any past or present use "
    "of alcohol or drugs. Frequent or long-term use has been linked with bladder problems: tell us if "
    "passing urine becomes painful or frequent. Ketamine may harm an unborn baby: tell us if you are or may "
    "become pregnant, or are breastfeeding."
)
_AFTER = (
    "After the treatment. Do not drive or use machinery until the next day, after a restful sleep. A "
    "responsible adult must take you home: arrange your ride before you come."
)
_OFF_LABEL = (
    "Off-label use. Racemic ketamine is licensed as an anaesthetic, not as a treatment for depression: using "
    "it for depression is off-label. Evidence about its long-term benefits and safety is limited."
)
_STAY = (
    "While you are here. Staff check your blood pressure, heart rate and breathing (with a finger sensor) "
    "and stay with you until the effects have passed and it is safe for you to leave."
)

BODIES: dict[Modality, tuple[str, str]] = {
    Modality.ESKETAMINE_NASAL: (
        "Consent to esketamine nasal spray (Spravato)",
        "What the treatment is. Esketamine is a nasal spray licensed for treatment-resistant depression, "
        "taken here under staff supervision and the Spravato REMS safety programme, in which you are "
        "enrolled before your first treatment.\n\n"
        + _COMMON_RISKS
        + "\n\nWhile you are here. Staff monitor you for at least 2 hours after each dose, including your "
        "breathing with a finger sensor, and until drowsiness and feeling detached have passed. Rarely, "
        "breathing slows; staff watch for this.\n\n" + _AFTER,
    ),
    Modality.IV_KETAMINE: (
        "Consent to intravenous (IV) ketamine",
        "What the treatment is. Ketamine is given as a slow drip into a vein over about 40 minutes.\n\n"
        + _OFF_LABEL
        + "\n\n"
        + _COMMON_RISKS
        + "\n\n"
        + _STAY
        + "\n\n"
        + _AFTER,
    ),
    Modality.IM_KETAMINE: (
        "Consent to intramuscular (IM) ketamine",
        "What the treatment is. Ketamine is given as an injection into a muscle.\n\n"
        + _OFF_LABEL
        + "\n\n"
        + _COMMON_RISKS
        + "\n\n"
        + _STAY
        + "\n\n"
        + _AFTER,
    ),
    Modality.ORAL_KETAMINE: (
        "Consent to oral ketamine",
        "What the treatment is. Ketamine is taken by mouth here under staff supervision.\n\n"
        + _OFF_LABEL
        + "\n\n"
        + _COMMON_RISKS
        + "\n\n"
        + _STAY
        + "\n\n"
        + _AFTER,
    ),
    Modality.HOME_KETAMINE: (
        "Consent to at-home ketamine",
        "What the treatment is. Ketamine prescribed to take at home, as your prescriber directs.\n\n"
        + _OFF_LABEL
        + "\n\n"
        + _COMMON_RISKS
        + "\n\nAt home. Have a responsible adult with you until the effects have passed. Keep the medicine "
        "locked away and never share it.\n\n" + _AFTER,
    ),
}


def load(network: Any, patients: list[Patient]) -> None:
    """One document per modality at each location, published by that location's clinic admin; `patients`
    sign the IV ketamine and esketamine documents of their location, witnessed by a nurse there."""
    documents: dict[tuple[int, str], ConsentDocument] = {}
    for location in ClinicLocation.objects.filter(network=network).order_by("pk"):
        admin = User.objects.get(username=f"admin.{location.slug}")
        for modality, (title, body) in BODIES.items():
            data = DocumentIn(modality=modality.value, title=title, body=body)
            documents[location.pk, modality.value] = do_publish_document(location, data, actor=admin)
    for patient in patients:
        nurse = User.objects.get(username=f"nurse.{patient.location.slug}")
        for modality in (Modality.IV_KETAMINE, Modality.ESKETAMINE_NASAL):
            document = documents[patient.location_id, modality.value]
            signed = ConsentIn(
                document_id=document.pk, signed_name=f"{patient.given_name} {patient.family_name}"
            )
            do_sign_consent(patient, signed, actor=nurse)
