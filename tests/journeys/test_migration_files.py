"""The journeys' migration files (processes/**/<name>.migration.toml, engine/catch_up.py) leave the cases of
the current version where they are.

When the next version is deployed, the cases of today's version are moved with the file's lines for them.
A line whose old id today's version has would move such a case off an element that still exists (a later
version that reuses an old version's id for something else: kontanthjælp's `jobsamtale`, sygedagpenge's
`vent_revurdering`); lines for an older version belong in a `[when_version_has.<element>]` table naming an
element only that version has. Reads files only.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine import catch_up

pytestmark = pytest.mark.database_free

ROOT = Path(__file__).resolve().parents[2]
FILES = catch_up.mapping_files([ROOT / "processes"])
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def current_ids(key: str) -> set[str]:
    for path in (ROOT / "processes").rglob("*.bpmn"):
        root = ET.parse(path).getroot()
        for process in root.iter(f"{BPMN}process"):
            if process.get("id") == key:
                return {n.get("id") for n in process.iter() if n.get("id") and not n.tag.endswith("sequenceFlow")}
    raise AssertionError(f"no diagram under processes/ has the process {key}")


@pytest.mark.parametrize("key", sorted(FILES))
def test_no_line_moves_a_case_of_the_current_version(key):
    ids = current_ids(key)
    plan = FILES[key]
    moved = {old: new for old, new in plan.for_version(ids).items() if old in ids}
    assert moved == {}, f"{key}: these lines would move today's cases when the next version comes: {moved}"
    assert not set(plan.when_has) & ids, f"{key}: a [when_version_has] table names an element today's version has"
