"""What the Spravato REMS API answers."""

from __future__ import annotations

import datetime as dt

from ketaclinic.patients.schemas import Out, Page


class RemsSettingOut(Out):
    location: str
    version: int
    setting_name: str
    address: str
    certification_id: str
    authorised_representative: str
    hcp_name: str
    hcp_phone: str
    hcp_email: str
    asks_sedation: bool
    asks_dissociation: bool
    asks_respiratory_depression: bool
    updated_at: dt.datetime


RemsSettingPage = Page[RemsSettingOut]
