"""Each demo persona lands on the page the README says, and sees the navigation it lists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.test import Client

from ketaclinic.demo.data import PASSWORD

if TYPE_CHECKING:
    from conftest import World


def readme_personas() -> dict[str, tuple[str, list[str]]]:
    """username -> (the path the README says they see first, the navigation links it lists)."""
    text = (Path(settings.BASE_DIR) / "README.md").read_text()
    rows: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].startswith("`"):
            first = re.search(r"\(`(/[^`]*)`\)", cells[3])
            assert first, f"no path in {cells[3]!r}"
            links = [link.strip() for link in cells[4].split(",")]
            for cell in cells[1:3]:
                rows[cell.strip("`")] = (first.group(1), links)
    return rows


def test_the_readme_names_every_persona() -> None:
    assert {
        f"{role}.{site}"
        for role in ("admin", "prescriber", "nurse", "therapist", "frontdesk")
        for site in ("north", "south")
    } == set(readme_personas())


@pytest.mark.parametrize(
    "username", ["admin.north", "prescriber.south", "nurse.north", "therapist.south", "frontdesk.north"]
)
def test_each_persona_lands_where_the_readme_says(world: World, username: str) -> None:
    first, links = readme_personas()[username]
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == first
    page = client.get(first)
    assert page.status_code == 200
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', page.content.decode(), re.S)
    # A link's name: its aria-label where it shows a shorter label on a phone, else its text.
    names = (
        [
            label or text
            for label, text in re.findall(
                r'<a [^>]*?(?:aria-label="([^"]+)"[^>]*)?>(?:([^<]+)|<span)', nav.group(1)
            )
        ]
        if nav
        else []
    )
    assert nav and names == links
