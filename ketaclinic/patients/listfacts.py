"""Each patient's list facts (PatientListFacts): what the safety chips of a search result are computed from.

The actions keep them current in their own transaction, as they keep the search tokens (`refresh`): every
write of a history entry or a measurement, and each registration. The search page reads them with its
rows in the page's one query and computes the chips from them (`picture.listed_flags`, cached), instead of
reading five tables for the page: the chips went from about 0.8-1.2 ms of a search page's CPU to under
0.1 ms (docs/performance.md). A patient without a row (one written before the table existed and not yet
filled, or made by a bulk loader that bypasses the actions) is not missed: the page reads that patient's
facts from the entries (`picture.flags_for_patients`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from ketaclinic.patients import picture
from ketaclinic.patients.models import Patient, PatientListFacts

BATCH = 500


def refresh(patient_id: str | uuid.UUID) -> None:
    """Rewrite a patient's list facts from its entries; call inside the action's transaction.

    The patient's row is locked first (PostgreSQL; SQLite serialises write transactions anyway): two
    writes to one history at once then read the entries one after the other, the second after the
    first's commit, so neither stores facts without the other's entry. FOR NO KEY UPDATE, because each
    has inserted an entry, which holds a key-share lock on the patient row that FOR UPDATE would wait on.
    """
    list(Patient.objects.select_for_update(no_key=True).filter(pk=patient_id).values_list("pk"))
    facts = picture.list_facts([patient_id])[str(patient_id)]
    # The patient's lock orders refreshes of one patient, so the row cannot appear between the two.
    if not PatientListFacts.objects.filter(patient_id=patient_id).update(facts=facts):
        PatientListFacts.objects.create(patient_id=patient_id, facts=facts)


def fill(patient_ids: Iterable[str | uuid.UUID]) -> None:
    """Write the list facts of patients that have none yet (bulk loaders, after their inserts)."""
    wanted = list(patient_ids)
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        facts = picture.list_facts(batch)
        PatientListFacts.objects.bulk_create(
            [PatientListFacts(patient_id=pk, facts=facts[str(pk)]) for pk in batch], ignore_conflicts=True
        )
