"""The rules register in docs/journeys.md names only things that exist.

Each section `## Regler: <journey>` holds a table `| Regel | Element | Frist | Kilde | Test |`: a rule
of DOMAIN.md, the element that carries it (`process_id:element_id`, drawn in that process's diagram
under processes/), its named deadline (`name` in config/deadlines.toml, or — when the rule has none),
its source, and the test that proves it (`tests/path.py::test_name`, a test function in that file). A
cell may name several, each in backticks. This test reads every such table and fails listing each bad
row with what is wrong; at least one section must exist.
"""
from __future__ import annotations

import ast
import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.database_free

ROOT = Path(__file__).resolve().parent.parent
JOURNEYS = ROOT / "docs" / "journeys.md"
HEADER = ["Regel", "Element", "Frist", "Kilde", "Test"]
SECTION = re.compile(r"^## Regler: (?P<journey>.+?)\s*$")
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
NONE = {"—", "-", "–", ""}


def register_sections(text: str) -> list[tuple[str, int, list[list[str]] | str]]:
    """(journey, line number, rows) per `## Regler:` section; a str instead of rows says what is wrong."""
    lines = text.splitlines()
    found: list[tuple[str, int, list[list[str]] | str]] = []
    for number, line in enumerate(lines, start=1):
        match = SECTION.match(line)
        if not match:
            continue
        body = []
        for later in lines[number:]:
            if later.startswith("## ") or later.startswith("# "):
                break
            body.append(later)
        table = [row for row in body if row.strip().startswith("|")]
        if len(table) < 2:
            found.append((match["journey"], number, "no table"))
            continue
        header = _cells(table[0])
        if header != HEADER:
            found.append((match["journey"], number, f"the table's columns are {header}, not {HEADER}"))
            continue
        found.append((match["journey"], number, [_cells(row) for row in table[2:]]))
    return found


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _named(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def diagram_elements(root: Path) -> dict[str, set[str]]:
    """Element ids by process id, for every process drawn under root."""
    elements: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.bpmn")):
        for process in ET.parse(path).getroot().iter(f"{BPMN}process"):
            ids = {e.get("id") for e in process.iter() if e is not process and e.get("id")}
            elements.setdefault(process.get("id") or "", set()).update(i for i in ids if i)
    return elements


def functions_in(path: Path) -> set[str]:
    """`name` and `Class::name` of every function defined in a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(f"{node.name}::{item.name}" for item in node.body
                         if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return names


def row_problems(row: list[str], elements: dict[str, set[str]], deadlines: set[str], root: Path) -> list[str]:
    """What is wrong with one row of the register (nothing: an empty list)."""
    if len(row) != len(HEADER):
        return [f"{len(row)} cells, not {len(HEADER)}"]
    rule, element_cell, deadline_cell, source, test_cell = row
    problems = []
    if not rule:
        problems.append("no rule")
    if not source:
        problems.append("no source")
    named = _named(element_cell)
    if not named:
        problems.append(f"Element {element_cell!r} names no `process_id:element_id`")
    for item in named:
        process, _, element = item.partition(":")
        if process not in elements:
            problems.append(f"no process {process!r} in processes/")
        elif element not in elements[process]:
            problems.append(f"{process} has no element {element!r}")
    names = _named(deadline_cell)
    if not names and deadline_cell not in NONE:
        problems.append(f"Frist {deadline_cell!r} is neither a `deadline_name` nor —")
    problems += [f"no deadline {name!r} in config/deadlines.toml" for name in names if name not in deadlines]
    tests = _named(test_cell)
    if not tests:
        problems.append(f"Test {test_cell!r} names no `tests/path.py::test_name`")
    for item in tests:
        file, sep, function = item.partition("::")
        path = root / file
        if not sep or not file.startswith("tests/") or not file.endswith(".py"):
            problems.append(f"{item!r} is not tests/path.py::test_name")
        elif not path.is_file():
            problems.append(f"no file {file}")
        elif function not in functions_in(path):
            problems.append(f"{file} has no test {function!r}")
    return problems


def register_problems(text: str, root: Path = ROOT) -> list[str]:
    elements = diagram_elements(root / "processes")
    deadlines = set(tomllib.loads((root / "config" / "deadlines.toml").read_text(encoding="utf-8")))
    sections = register_sections(text)
    if not sections:
        return ["docs/journeys.md has no section `## Regler: <journey>`"]
    problems = []
    for journey, line, rows in sections:
        if isinstance(rows, str):
            problems.append(f"## Regler: {journey} (line {line}): {rows}")
            continue
        if not rows:
            problems.append(f"## Regler: {journey} (line {line}): the table has no rows")
        for row in rows:
            for problem in row_problems(row, elements, deadlines, root):
                problems.append(f"## Regler: {journey}: {row[0] if row else '?'!r}: {problem}")
    return problems


def test_every_row_of_the_rules_register_names_what_exists():
    problems = register_problems(JOURNEYS.read_text(encoding="utf-8"))
    assert not problems, f"{len(problems)} problem(s) in the rules register:\n" + "\n".join(problems)


def test_the_check_finds_each_kind_of_bad_row():
    test = "tests/test_rule_register.py::test_the_check_finds_each_kind_of_bad_row"
    good = f"| Visitation | `demo_forloeb:visitation` | `visitation` | DOMAIN.md | `{test}` |"
    table = "## Regler: Prøve\n\n| Regel | Element | Frist | Kilde | Test |\n|---|---|---|---|---|\n"
    assert register_problems(table + good + "\n") == []
    bad = [
        f"| A | `demo_forloeb:findes_ikke` | `visitation` | DOMAIN.md | `{test}` |",
        f"| B | `ingen_proces:visitation` | — | DOMAIN.md | `{test}` |",
        f"| C | `demo_forloeb:visitation` | `ingen_frist` | DOMAIN.md | `{test}` |",
        "| D | `demo_forloeb:visitation` | — | DOMAIN.md | `tests/test_rule_register.py::ingen_test` |",
        "| E | `demo_forloeb:visitation` | — | DOMAIN.md | `tests/ingen_fil.py::test_x` |",
        f"| F | demo_forloeb:visitation | 1 uge | DOMAIN.md | `{test}` |",
    ]
    problems = register_problems(table + "\n".join(bad) + "\n")
    assert problems == [
        "## Regler: Prøve: 'A': demo_forloeb has no element 'findes_ikke'",
        "## Regler: Prøve: 'B': no process 'ingen_proces' in processes/",
        "## Regler: Prøve: 'C': no deadline 'ingen_frist' in config/deadlines.toml",
        "## Regler: Prøve: 'D': tests/test_rule_register.py has no test 'ingen_test'",
        "## Regler: Prøve: 'E': no file tests/ingen_fil.py",
        "## Regler: Prøve: 'F': Element 'demo_forloeb:visitation' names no `process_id:element_id`",
        "## Regler: Prøve: 'F': Frist '1 uge' is neither a `deadline_name` nor —",
    ]
    assert register_problems("# Journeys\n\nIngen regler.\n") == [
        "docs/journeys.md has no section `## Regler: <journey>`"]
    wrong_columns = "## Regler: X\n\n| Regel | Element | Kilde |\n|---|---|---|\n| a | b | c |\n"
    assert register_problems(wrong_columns) == [
        "## Regler: X (line 1): the table's columns are ['Regel', 'Element', 'Kilde'], not "
        "['Regel', 'Element', 'Frist', 'Kilde', 'Test']"]
