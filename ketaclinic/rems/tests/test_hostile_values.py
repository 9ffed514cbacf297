"""Every free-text column of the REMS records shows as text on its pages (columns found from the model)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ketaclinic.patients.tests.test_hostile_values import ATTACK, _free_text, _hostile
from ketaclinic.rems.models import RemsSetting

if TYPE_CHECKING:
    from conftest import World


def test_setting_details_are_escaped_on_the_list_and_the_form(world: World) -> None:
    setting = RemsSetting.objects.get(location__slug="north")  # the demo's, saved through the actions
    columns = _free_text(RemsSetting)
    assert {f.name for f in columns} >= {"setting_name", "address", "hcp_email"}
    RemsSetting.objects.filter(pk=setting.pk).update(**{f.name: _hostile(f, f.name) for f in columns})
    client = world.client("admin.north")
    for url in ("/rems/settings/", "/rems/settings/north/"):
        html = client.get(url).content.decode()
        assert "<script>" not in html and "<img src=x" not in html
        for field in columns:
            if field.max_length and field.max_length >= len(ATTACK.format(tag=field.name)):
                assert (
                    f"alert(&#34;{field.name}&#34;)" in html or f"alert(&quot;{field.name}&quot;)" in html
                ), (
                    url,
                    field.name,
                )
