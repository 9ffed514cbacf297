"""What a report can be filtered by: instrument, location, modality, protocol, dose band and period.

Dose bands are reporting groups of the prescribed dose (mg/kg for IV and IM ketamine, mg for esketamine),
chosen for reading a report, not clinical thresholds. Each is a condition on the plan's dose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import polars as pl
from pydantic import Field, ValidationInfo, field_validator

from ketaclinic.clinical.outcomes import OutcomeScale
from ketaclinic.clinical.protocols import PROTOCOLS
from ketaclinic.patients.inputs import Day, LocationSlug, Strict
from ketaclinic.treatment.models import PlanModality

# The instruments the assessments app stores that have outcome definitions.
INSTRUMENTS: dict[str, str] = {
    OutcomeScale.PHQ9.value: "PHQ-9",
    OutcomeScale.MADRS.value: "MADRS",
    OutcomeScale.QIDS_SR16.value: "QIDS-SR16",
}
InstrumentName = Literal["phq9", "madrs", "qids_sr16"]
ModalityName = Literal["", "iv_ketamine", "im_ketamine", "esketamine_nasal"]


@dataclass(frozen=True, slots=True)
class DoseBand:
    key: str
    label: str
    expr: pl.Expr  # a condition on the extract's plan columns


_KG, _MG = pl.col("dose_mg_per_kg"), pl.col("dose_mg")
DOSE_BANDS: dict[str, DoseBand] = {
    b.key: b
    for b in (
        DoseBand("mgkg_below_0_5", "below 0.5 mg/kg", _KG < 0.5),
        DoseBand("mgkg_0_5_to_0_75", "0.5 to below 0.75 mg/kg", (_KG >= 0.5) & (_KG < 0.75)),
        DoseBand("mgkg_0_75_up", "0.75 mg/kg or more", _KG >= 0.75),
        DoseBand("mg_56", "56 mg", _MG == 56),
        DoseBand("mg_84", "84 mg", _MG == 84),
    )
}
DoseBandName = Literal["", "mgkg_below_0_5", "mgkg_0_5_to_0_75", "mgkg_0_75_up", "mg_56", "mg_84"]
ProtocolName = Literal[("", *PROTOCOLS)]  # type: ignore[valid-type]
MODALITIES: dict[str, str] = {m.value: str(m.label) for m in PlanModality}


class OutcomesQuery(Strict):
    """The report's filters; every one optional except the instrument."""

    instrument: InstrumentName = Field(description="The scale: phq9, madrs or qids_sr16")
    location: LocationSlug = Field(
        "",
        description="A location's slug; empty for the whole network (network-wide roles) or your locations",
    )
    modality: ModalityName = Field("", description="iv_ketamine, im_ketamine or esketamine_nasal")
    protocol: ProtocolName = Field("", description="A protocol id (clinical/protocol_data)")
    dose_band: DoseBandName = Field("", description="A reporting band of the prescribed dose")
    from_: Day | None = Field(None, alias="from", description="Plans starting on or after, YYYY-MM-DD")
    to: Day | None = Field(None, description="Plans starting on or before, YYYY-MM-DD")

    model_config = Strict.model_config | {"populate_by_name": True}

    @field_validator("to")
    @classmethod
    def _period(cls, to: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("from_")
        if to is not None and start is not None and start > to:
            raise ValueError("must be on or after `from`")
        return to

    def period(self) -> tuple[dt.date | None, dt.date | None]:
        return self.from_, self.to
