"""SPRAVATO REMS duties and the per-session medication screen."""

from datetime import date

from ketaclinic.clinical.rems import (
    RACEMIC_EXTRA_MEDICATION_CLASSES,
    REMS_FORM_MEDICATION_CLASSES,
    monitoring_form_due,
    session_medication_screen,
)
from ketaclinic.clinical.vocab import MedicationClass


def test_monitoring_form_is_due_within_7_calendar_days() -> None:
    assert monitoring_form_due(date(2026, 12, 28)) == date(2027, 1, 4)


def test_esketamine_sessions_screen_the_rems_form_classes() -> None:
    screen = session_medication_screen("esketamine_nasal")
    assert screen == REMS_FORM_MEDICATION_CLASSES
    assert MedicationClass.OPIOID in screen and MedicationClass.LEVOTHYROXINE not in screen


def test_racemic_sessions_also_screen_thyroid_xanthine_lamotrigine_naltrexone() -> None:
    screen = session_medication_screen("iv_ketamine")
    assert set(RACEMIC_EXTRA_MEDICATION_CLASSES) <= set(screen)
    assert set(REMS_FORM_MEDICATION_CLASSES) <= set(screen)
