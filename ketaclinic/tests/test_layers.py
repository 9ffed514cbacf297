"""The apps of KetaClinic import each other in one direction only (docs/architecture.md, "Layers").

Every import in every module of ketaclinic (tests and migrations aside) is read with ast, including
imports inside functions, and mapped to the app it names. An import between apps must go from a higher
layer to a lower one; a new app fails here until it is given a layer.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import ketaclinic

ROOT = Path(ketaclinic.__file__).parent

# Lower layers first. An app may import only from layers below its own.
LAYERS: tuple[frozenset[str], ...] = (
    # Pure rules and shared helpers; the SQLite backend the settings name.
    frozenset({"clinical", "errors", "config", "fastload", "prepared", "db"}),
    frozenset({"audit"}),  # the trail, its writer and denial recording
    frozenset({"accounts"}),  # staff, roles, grants, login
    frozenset({"web"}),  # page shell, design system, role gates, the server command
    # Each location's clock, policy in force, chairs and rooms; delivery of patients' messages (the outbox).
    frozenset({"clinicpolicy", "messaging"}),
    frozenset({"patients", "audit_review", "staff"}),  # areas with pages and endpoints
    # Built on patients: break-glass reads of another location's patient; stored answers of API POSTs,
    # whose replays are checked like patient reads; screenings, consents and REMS enrolment; the ledger.
    frozenset({"emergency", "idempotency", "screening", "consent", "ledger"}),
    frozenset({"treatment"}),  # plans, sessions and the treatment day, gated by screening and consent
    # The Patient Monitoring Form of each esketamine session, its queue and submission; the floor board.
    frozenset({"rems", "floor"}),
    # Measurement-based care: scored questionnaires, their requests and links, safety alerts, the worklist.
    frozenset({"assessments"}),
    # The calendar: resources, appointments and courses booked as a whole, above plans and REMS enrolment.
    frozenset({"scheduling"}),
    # Ketamine-assisted psychotherapy: the care team, therapy sessions linked to their dose sessions, notes
    # and psychotherapy-note privacy.
    frozenset({"therapy"}),
    # The patient portal: patients' own accounts, sign-in, and their sessions, questionnaires and scores.
    frozenset({"portal"}),
    # Costs and billing: prices, coverage, estimates of plans (shown in the portal too), invoices of sessions.
    frozenset({"billing"}),
    # At-home ketamine programs: the prescription, the patient's home doses and check-ins, holds.
    frozenset({"homecare"}),
    # Outcome analytics: cohorts' response, remission and durability over plans and scores, aggregates only.
    frozenset({"outcomes"}),
    frozenset({"api", "demo"}),  # the API app that mounts the areas' routers; the demo clinic
    # FHIR R4 exchange: reads every area's records as FHIR with the API's bearer tokens, imports through
    # the areas' actions, bulk export in the task runner.
    frozenset({"fhir"}),
)
# The project's wiring imports every app; it is not an app itself.
WIRING = {"settings", "test_settings", "urls", "wsgi", "__main__", "__init__"}
RANK = {app: rank for rank, apps in enumerate(LAYERS) for app in apps}


def _unit(path: Path, root: Path) -> str | None:
    """The app (or shared top-level module) a source file belongs to; None for tests, migrations, wiring."""
    parts = path.relative_to(root).parts
    if "tests" in parts or "migrations" in parts:
        return None
    name = parts[0].removesuffix(".py")
    return None if name in WIRING else name


def _imported_units(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "ketaclinic":  # from ketaclinic import fastload
                names = [f"ketaclinic.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "ketaclinic" and len(parts) > 1:
                yield parts[1]


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """unit -> the other units it imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        unit = _unit(path, root)
        if unit is None:
            continue
        targets = graph.setdefault(unit, set())
        for target in _imported_units(ast.parse(path.read_text(), str(path))):
            if target != unit and target not in WIRING:
                targets.add(target)
    return graph


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path [a, b, ..., a], or None when it is acyclic."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_graph_is_read_from_the_source() -> None:
    """Known imports are found, so that an empty graph cannot pass the tests below."""
    graph = import_graph()
    assert {"audit", "accounts"} <= graph["patients"]
    assert "accounts" in graph["web"] and "audit" in graph["accounts"]
    assert "fastload" in graph["patients"]  # from ketaclinic import fastload


def test_there_is_no_import_cycle_between_apps() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle between apps: " + " -> ".join(cycle or [])


def test_every_import_goes_down_the_layers() -> None:
    graph = import_graph()
    unplaced = sorted(set(graph) - set(RANK))
    assert not unplaced, f"give these a layer in LAYERS and docs/architecture.md: {unplaced}"
    upward = sorted(
        f"{app} -> {target}"
        for app, targets in graph.items()
        for target in targets
        if RANK[target] >= RANK[app]
    )
    assert not upward, f"imports that do not go down the layers: {upward}"


@pytest.mark.parametrize(
    ("graph", "cyclic"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
        ({"a": {"b"}, "b": {"a"}}, True),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
        ({"a": {"a"}}, True),
    ],
)
def test_find_cycle_finds_cycles(graph: dict[str, set[str]], cyclic: bool) -> None:
    assert (find_cycle(graph) is not None) is cyclic


def test_an_import_inside_a_function_counts(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "m.py").write_text("def f():\n    from ketaclinic.two.x import y\n")
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "x.py").write_text("import ketaclinic.one.m\n")
    graph = import_graph(tmp_path)
    assert find_cycle(graph) == ["one", "two", "one"]
