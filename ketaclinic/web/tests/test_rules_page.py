"""Staff can read the rule catalogue and the policy values in force; the docs copy stays current."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command

from ketaclinic.clinical.policy import policy_fields
from ketaclinic.clinical.rules import AREA_ORDER, RULES, RULESET_VERSION
from ketaclinic.clinical.sources import SOURCES
from ketaclinic.web.catalogue import HEADINGS, segments

if TYPE_CHECKING:
    from conftest import World

WORDING = re.compile(r"recall|from memory|recollect|remembered", re.I)


class Page(HTMLParser):
    """The parts of the rules page the tests read: ids, links, headings, scripts and inline styles."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.headings: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.styled: list[str] = []
        self._heading = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag == "script":
            self.scripts.append(found)
        if tag == "style" or "style" in found:
            self.styled.append(tag)
        if tag in ("h2", "h3"):
            self._heading = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3"):
            self._heading = False

    def handle_data(self, data: str) -> None:
        if self._heading:
            self.headings[-1] += data


def rules_page(world: World, who: str = "nurse.north") -> tuple[str, Page]:
    response = world.client(who).get("/rules/")
    assert response.status_code == 200
    body = response.content.decode()
    return body, Page(body)


def test_every_staff_role_reads_the_catalogue(world: World) -> None:
    for who in ("nurse.north", "admin.south", "therapist.north"):
        body, page = rules_page(world, who)
        assert RULESET_VERSION in body and "madrs_remission_max" in body
        assert {r.id for r in RULES} <= page.ids
        assert body.count("data-filter-row") == len(RULES) + len(policy_fields())


def test_catalogue_needs_a_login_and_a_role(world: World) -> None:
    from ketaclinic.accounts.actions import do_create_staff

    assert world.client(None).get("/rules/").status_code == 302
    loner = do_create_staff(world.network("nurse.north"), "no.roles", "a-long-enough-pass-phrase")
    client = world.client(None)
    client.force_login(loner)
    assert client.get("/rules/").status_code == 403


def test_contents_link_to_every_area_the_policy_table_and_the_sources(world: World) -> None:
    body, page = rules_page(world)
    nav = re.search(r'<nav class="card contents".*?</nav>', body, re.S)
    assert nav, "a contents list"
    contents = [f"#area-{area.value}" for area in AREA_ORDER] + ["#policy", "#sources"]
    assert re.findall(r'href="([^"]+)"', nav.group()) == contents
    assert {c.removeprefix("#") for c in contents} <= page.ids


def test_headings_are_spelled_as_clinicians_write_them(world: World) -> None:
    _, page = rules_page(world)
    headings = " | ".join(page.headings)
    for spelled in ("TRD", "REMS", "MOAA/S", "PHQ-9", "QIDS-SR16", "SPRAVATO"):
        assert spelled in headings
    for misspelled in ("Trd", "Rems", "Moaa", "Phq", "Qids"):
        assert misspelled not in headings
    assert all(HEADINGS[area] in page.headings for area in AREA_ORDER)


def test_each_rule_links_its_source_tags_to_full_citations_at_the_bottom(world: World) -> None:
    body, page = rules_page(world)
    cited = {tag for r in RULES for tag in r.sources} | {tag for f in policy_fields() for tag in f.sources}
    assert {f"#src-{tag}" for tag in cited} <= set(page.links)
    assert {f"src-{tag}" for tag in cited} <= page.ids
    for tag in cited:  # the full citation follows its tag in the sources list, readable without hovering
        entry = body[body.index(f'<dt id="src-{tag}">{tag}</dt>') :].split("</dd>", 1)[0]
        text = html.unescape(re.sub(r"<[^>]+>", "", entry))
        assert SOURCES[tag][:60] in text
    assert "<abbr" not in body and 'title="' not in body.split("<main", 1)[1]
    row = body[body.index('<tr id="ELIG-ALL-ACK-PREGNANCY"') :].split("</tr>", 1)[0]
    rule = next(r for r in RULES if r.id == "ELIG-ALL-ACK-PREGNANCY")
    assert all(f'href="#src-{tag}">{tag}</a>' in row for tag in rule.sources)


def test_citation_addresses_become_links_without_their_closing_punctuation() -> None:
    parts = segments("Scale notes (see https://example.org/gad/). More at http://example.org/a.")
    assert [(p.text, p.address) for p in parts] == [
        ("Scale notes (see ", False),
        ("https://example.org/gad/", True),
        ("). More at ", False),
        ("http://example.org/a", True),
        (".", False),
    ]


def test_the_filter_is_a_vendored_script_and_the_page_works_without_it(world: World) -> None:
    body, page = rules_page(world)
    box = re.search(r'<div class="card rule-filter" data-rule-filter hidden>.*?</div>', body, re.S)
    assert box and 'type="search"' in box.group() and 'for="rule-filter"' in box.group()
    # Without the script the box stays hidden and every rule is listed (the first test counts them).
    sources = [s.get("src") for s in page.scripts]
    assert all(sources), "no inline scripts: the CSP refuses them"
    assert "/static/web/rules.js" in sources
    assert page.styled == [], "no inline styles: the CSP refuses them"
    script = finders.find("web/rules.js")
    assert script, "the filter script is vendored under web/static/web/"
    text = Path(script).read_text()
    assert "data-filter-row" in text and "data-rule-filter" in text and "citations" in text


def test_unverified_values_are_explained(world: World) -> None:
    body, _ = rules_page(world)
    legend = body[body.index('id="basis"') :].split("</dl>", 1)[0]
    assert "unverified" in legend and "clinic policy default" in legend and "confirm it locally" in legend


def test_no_wording_says_a_fact_was_recalled(world: World) -> None:
    """Staff read that a value is unverified, never how somebody came by it."""
    body, _ = rules_page(world)
    root = Path(settings.BASE_DIR)
    files = [root / "README.md", root / "CONTRIBUTING.md", *(root / "docs").rglob("*.md")]
    files += [
        f for f in (root / "ketaclinic").rglob("*") if f.suffix in {".py", ".html", ".js", ".md", ".txt"}
    ]
    said = [
        f"{f.relative_to(root)}: {m.group()}"
        for f in files
        if f.name != Path(__file__).name
        for m in re.finditer(WORDING, f.read_text(encoding="utf-8"))
    ]
    assert said == []
    assert not WORDING.search(body)
    out = StringIO()
    call_command("rules", stdout=out)
    assert not WORDING.search(out.getvalue())


def test_rules_command_prints_and_checks_the_catalogue(db: None) -> None:
    out = StringIO()
    call_command("rules", stdout=out)
    assert out.getvalue().startswith("# KetaClinic clinical rule catalogue")
    check = StringIO()
    call_command("rules", "--check-docs", stdout=check)
    assert "current" in check.getvalue()


def _change_north_policy(world: World) -> None:
    from ketaclinic.clinicpolicy import actions as policy_actions
    from ketaclinic.clinicpolicy.inputs import PolicyChangeIn

    north = world.user("nurse.north").memberships.get().location
    policy_actions.do_change_policy(
        north,
        PolicyChangeIn(
            values={"spo2_alert_below": 91}, reason="Local protocol agreed with the clinical lead"
        ),
        actor=world.user("admin.north"),
        expected_version=0,
    )


def _in_force(body: str, name: str) -> str:
    row = body.split(f'id="policy-{name}"')[1].split("</tr>")[0]
    return str(re.findall(r"<strong>([^<]*)</strong>", row)[0])


def test_the_policy_table_shows_the_values_in_force_at_the_readers_location(world: World) -> None:
    _change_north_policy(world)
    north, _ = rules_page(world, "nurse.north")
    south, _ = rules_page(world, "nurse.south")
    assert _in_force(north, "spo2_alert_below") == "91"
    assert "1 value set by this location" in north and "North" in north.split('id="policy"')[1][:300]
    assert _in_force(south, "spo2_alert_below") == "93"
    assert "This location runs the documented defaults" in south


def test_a_reader_of_two_locations_chooses_one_and_another_networks_or_unheld_location_is_a_404(
    world: World,
) -> None:
    from ketaclinic.accounts.actions import do_grant_role
    from ketaclinic.accounts.models import ClinicLocation
    from ketaclinic.accounts.permissions import Role

    _change_north_policy(world)
    nurse = world.user("nurse.south")
    north = ClinicLocation.objects.get(slug="north")
    client = world.client("nurse.south")
    from ketaclinic.audit.models import Action, AuditEvent

    denials = AuditEvent.objects.filter(action=Action.ACCESS_DENIED, actor=nurse).count()
    before = client.get("/rules/?location=north")
    assert before.status_code == 404
    assert "spo2_alert_below" not in before.content.decode()
    assert AuditEvent.objects.filter(action=Action.ACCESS_DENIED, actor=nurse).count() == denials + 1
    do_grant_role(nurse, north, Role.NURSE)
    chosen = client.get("/rules/?location=north").content.decode()
    assert _in_force(chosen, "spo2_alert_below") == "91"
    assert 'name="location"' in chosen
    assert _in_force(client.get("/rules/?location=south").content.decode(), "spo2_alert_below") == "93"
    assert client.get("/rules/?location=nowhere").status_code == 404
