"""The demo clinic's Spravato REMS: each location's certified-setting details, written through the actions.

The ids are marked DEMO: they name no real certification.
"""

from __future__ import annotations

import datetime as dt
import random

from ketaclinic.accounts.models import ClinicLocation, ClinicNetwork, User
from ketaclinic.rems.actions import do_save_rems_setting
from ketaclinic.rems.inputs import RemsSettingIn

ADDRESSES = {
    "north": "200 Harbour Way, Suite 3, Portland, OR 97201",
    "south": "45 Magnolia Street, Floor 2, Savannah, GA 31401",
}
REPRESENTATIVES = {"north": "Dr Avery Stone", "south": "Dr Morgan Reyes"}


def load(network: ClinicNetwork, today: dt.date, rng: random.Random) -> None:
    """Setting details for every location of the demo network, kept by the location's demo admin."""
    for location in ClinicLocation.objects.filter(network=network).order_by("slug"):
        admin = User.objects.get(username=f"admin.{location.slug}")
        nurse = User.objects.get(username=f"nurse.{location.slug}")
        details = RemsSettingIn(
            location=location.slug,
            version=0,
            setting_name=location.name,
            address=ADDRESSES.get(location.slug, f"{location.name}, 1 Clinic Road"),
            certification_id=f"DEMO-REMS-{location.slug.upper()}-{rng.randint(1000, 9999)}",
            authorised_representative=REPRESENTATIVES.get(location.slug, "Dr Sam Lee"),
            hcp_name=nurse.get_full_name(),
            hcp_phone=f"555-01{rng.randint(10, 99)}",
            hcp_email=f"rems.{location.slug}@demo.ketaclinic.example",
        )
        do_save_rems_setting(location, details, actor=admin)
