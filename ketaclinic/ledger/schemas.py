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
    # The patient of an administration, only for a reader who may read the location's patients; null
    # (with `patient_withheld` true) for one who may not.
    patient_id: uuid.UUID | None
    patient_withheld: bool
    session_ref: str
    counted: Dec | None
    book_balance: Dec | None
    discrepancy: Dec | None
    corrects: int | None
    witnessed_by: int | None
    witnessed_at: dt.datetime | None
    # dispose: "destroyed" or "reverse_distributor" (with the distributor's name, address and DEA number).
    manner: str
    distributor_name: str
    distributor_address: str
    distributor_dea_number: str
    # transfer_out / transfer_in: the other location's slug; the pair's other event.
    counterpart_location: str | None
    transfer_of: int | None
    transferred_as: int | None
    # loss: the theft or loss report it belongs to.
    loss_report: int | None


EventPage = Page[EventOut]


class LossItemOut(Out):
    event_id: int
    product: str
    substance: str
    form: str
    ndc: str
    lot_number: str
    quantity: Dec
    unit: str
    amount_mg: Dec
    volume_ml: Dec


class LossOut(Out):
    id: int
    location: str
    loss_type: str
    # notice_due, notice_overdue, form_106_due, form_106_overdue or filed.
    status: str
    discovered_at: dt.datetime
    description: str
    recorded_by: int
    recorded_at: dt.datetime
    notice_due_on: dt.date
    form_106_due_on: dt.date
    notice_sent_at: dt.datetime | None
    notice_reference: str
    form_106_filed_at: dt.datetime | None
    form_106_confirmation: str
    items: list[LossItemOut]


LossPage = Page[LossOut]
