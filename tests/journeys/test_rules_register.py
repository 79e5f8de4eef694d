"""The rules registers in docs/journeys.md (`## Regler: <journey>`) name what exists.

Each row's Element (`process_id:element_id`) is an element of a diagram in processes/, its Frist
a named deadline in config/deadlines.toml (or —), and its Test a test function in that file. Pure
file reading; no database.
"""
from __future__ import annotations

import ast
import re
import tomllib

from lxml import etree

from tests import factories as f

ROOT = f.ROOT
SECTIONS = ("Virksomhedsrettet forløb", "Kontrol", "Kontanthjælp")  # the registers of issue 14


def _rows(section: str) -> list[list[str]]:
    doc = (ROOT / "docs" / "journeys.md").read_text(encoding="utf-8")
    body = doc.split(f"## Regler: {section}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| Regel")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def _elements() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / "processes").rglob("*.bpmn"):
        root = etree.parse(str(path)).getroot()
        for process in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process"):
            found.setdefault(process.get("id"), set()).update(
                el.get("id") for el in process.iter() if isinstance(el.tag, str) and el.get("id"))
    return found


def _tests(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_the_placement_and_kontrol_registers_name_elements_deadlines_and_tests_that_exist():
    elements = _elements()
    deadlines = tomllib.loads((ROOT / "config" / "deadlines.toml").read_text(encoding="utf-8"))
    for section in SECTIONS:
        rows = _rows(section)
        assert len(rows) >= 8, section
        for regel, element, frist, kilde, test in rows:
            process_id, element_id = element.strip("`").split(":")
            assert element_id in elements.get(process_id, set()), (section, regel, element)
            if frist != "—":
                assert frist.strip("`") in deadlines, (section, regel, frist)
            assert kilde, (section, regel)
            path, name = re.fullmatch(r"`([^`:]+)::([a-z0-9_]+)`", test).groups()
            assert name in _tests(path), (section, regel, test)
