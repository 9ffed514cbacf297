"""What a patient is told to do before a treatment session, by modality, each instruction with its sources.

Only esketamine nasal spray has preparation facts in the reference (section 1.2 patient prep, section 1.4
driving). For IV and IM ketamine the reference gives none that are verified (its IV guidance is marked
UNVERIFIED), so KetaClinic states none: the patient is told to follow the clinic's own instructions.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.clinical.common import Modality


@dataclass(frozen=True, slots=True)
class Instruction:
    id: str
    text: str
    sources: tuple[str, ...]


ESKETAMINE_PREPARATION: tuple[Instruction, ...] = (
    Instruction("prep.esketamine.food", "Do not eat for at least 2 hours before your dose.", ("S4b", "S5")),
    Instruction(
        "prep.esketamine.liquids",
        "Do not drink anything for at least 30 minutes before your dose.",
        ("S4b", "S5"),
    ),
    Instruction(
        "prep.esketamine.nasal_sprays",
        "If you use a steroid or decongestant nasal spray, use it at least 1 hour before your dose.",
        ("S4b", "S5"),
    ),
    Instruction(
        "prep.esketamine.ride_home",
        "Arrange for someone to take you home after the session.",
        ("S3a", "S8 p.21"),
    ),
    Instruction(
        "prep.esketamine.no_driving",
        "Do not drive or operate machinery until the next day, after a restful sleep.",
        ("S3a", "S8 p.21"),
    ),
)

CLINIC_INSTRUCTIONS = Instruction(
    "prep.clinic",
    "Follow the preparation instructions your clinic gave you for this session. If you are unsure, call the "
    "clinic before your appointment.",
    (),
)


def preparation_for(modality: str) -> tuple[Instruction, ...]:
    """The instructions a patient sees before a session of this modality."""
    if modality == Modality.ESKETAMINE_NASAL:
        return ESKETAMINE_PREPARATION
    return (CLINIC_INSTRUCTIONS,)
