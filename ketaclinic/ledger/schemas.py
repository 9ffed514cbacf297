"""What the API returns about the ledger. Quantities are decimals in plain notation (`schemas.Dec`)."""

from __future__ import annotations

import datetime as dt
import uuid

from ketaclinic.patients.schemas import Dec, Out, Page


class BalanceOut(Out):
    location: str
    product: str
    balance: Dec
    # "mg" for ketamine vials, "device" for esketamine nasal spray devices (28 mg each).
    unit: str


class EventOut(Out):
    id: int
    location: str
    product: str
    lot_number: str
    kind: str
    # "pending" for a waste not yet witnessed, "witnessed" once it is, "recorded" for other events.
    status: str
    occurred_at: dt.datetime
    recorded_by: int
    reason: str
    # The change to the lot's book balance and the balance after it, in `unit`.
    delta: Dec
    balance_after: Dec
    unit: str
    amount_mg: Dec
    volume_ml: Dec
    containers: int | None
    supplier_name: str
    supplier_address: str
    supplier_dea_number: str
    patient_id: uuid.UUID | None
    session_ref: str
    counted: Dec | None
    book_balance: Dec | None
    discrepancy: Dec | None
    corrects: int | None
    witnessed_by: int | None
    witnessed_at: dt.datetime | None


EventPage = Page[EventOut]
