"""Read models for the studio's pages: the journeys with their drafts, a version's diagram with its cases.

`journeys` lists every deployed process key (and every draft of a key not
yet deployed) with its latest version, running cases and draft; `case_counts`
gives the running cases per drawn element of a version (engine.versions'
rows; a call activity counts the cases inside what it calls);
`counted_svg` and `diff_svgs` draw a version with those overlays
(engine.diagram.overlays); `element_choices` lists a version's elements for
a migration's mapping.

Read-only: nothing here flushes or commits.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import drafts, studio_catalog
from .clock import as_utc
from .diagram.overlays import CaseCounts, DiffMarks, scoped
from .diagram.svg import render
from .diff import VersionDiff
from .diff_words import TYPE_WORDS
from .models import Case, ProcessDefinition
from .versions import case_positions


@dataclass(frozen=True)
class Journey:
    key: str
    name: str
    latest_version: int | None
    deployed_at: datetime | None
    deployed_by: str | None
    running_cases: int
    draft: drafts.DraftView | None

    @property
    def draft_errors(self) -> int:
        return sum(1 for p in (self.draft.problems if self.draft else []) if p.get("severity") == "error")

    @property
    def draft_warnings(self) -> int:
        return sum(1 for p in (self.draft.problems if self.draft else []) if p.get("severity") == "warning")


def journeys(session: Session) -> list[Journey]:
    running = dict(session.execute(select(Case.process_key, func.count(Case.id)).where(Case.status == "running")
                                   .group_by(Case.process_key)).all())
    found = drafts.list_drafts(session)
    rows = [Journey(row.key, row.name, row.version, as_utc(row.created_at), row.deployed_by,
                    running.get(row.key, 0), found.pop(row.key, None))
            for row in studio_catalog.latest_definitions(session)]
    rows += [Journey(key, key, None, None, None, 0, draft) for key, draft in found.items()]
    return sorted(rows, key=lambda j: (j.name.lower(), j.key))


def _called(spec_json: str) -> dict[str, set[str]]:
    """{call activity id: every element id inside what it calls}, through calls within calls."""
    stored = json.loads(spec_json)
    specs = {"": stored["spec"], **stored["subprocess_specs"]}
    ids = {name: {ts["bpmn_id"] for ts in spec["task_specs"].values() if ts.get("bpmn_id")}
           for name, spec in specs.items()}

    def inside(called: str, seen: frozenset[str]) -> set[str]:
        if called in seen or called not in specs:
            return set()
        found = set(ids[called])
        for ts in specs[called]["task_specs"].values():
            if ts.get("spec"):
                found |= inside(ts["spec"], seen | {called})
        return found
    result: dict[str, set[str]] = {}
    for spec in specs.values():
        for ts in spec["task_specs"].values():
            if ts.get("bpmn_id") and isinstance(ts.get("spec"), str) and ts["spec"] in specs:
                result[ts["bpmn_id"]] = inside(ts["spec"], frozenset())
    return result


def case_counts(session: Session, definition: ProcessDefinition) -> dict[str, int]:
    """{element id: running cases standing there}: each case once per element, call activities included."""
    positions = case_positions(session, definition.id)
    counts = {element: len(cases) for element, cases in positions.items()}
    for call, inner in _called(definition.spec_json).items():
        cases = set(positions.get(call, set()))
        for element in inner:
            cases |= positions.get(element, set())
        if cases:
            counts[call] = len(cases)
    return counts


def counted_svg(definition: ProcessDefinition, counts: dict[str, int], prefix: str = "v") -> str | None:
    """The version's diagram with the running cases per element; None if it has no layout (BPMNDI)."""
    try:
        svg = render(definition.bpmn_xml.encode("utf-8"), CaseCounts(counts, definition.version))
    except ValueError:
        return None
    return scoped(svg, prefix)


def diff_svgs(old: ProcessDefinition, new: ProcessDefinition, diff: VersionDiff) -> tuple[str | None, str | None]:
    """Both versions drawn: removed and changed marked on the old one, added and changed on the new one.

    Only the journey's own elements are marked: a called process's elements are not in this picture.
    """
    def own(elements) -> frozenset[str]:
        return frozenset(e.element_id for e in elements if e.process == old.key)
    changed = own(diff.changed)
    drawn: list[str | None] = []
    for row, marks, prefix in (
            (old, DiffMarks(removed=own(diff.removed), changed=changed, label=f"version {old.version}"), "fra"),
            (new, DiffMarks(added=own(diff.added), changed=changed, label=f"version {new.version}"), "til")):
        try:
            svg = render(row.bpmn_xml.encode("utf-8"), marks)
        except ValueError:
            drawn.append(None)
            continue
        drawn.append(scoped(svg, prefix))
    return drawn[0], drawn[1]


@dataclass(frozen=True)
class Choice:
    element_id: str
    name: str
    type: str

    @property
    def label(self) -> str:
        kind = TYPE_WORDS.get(self.type, self.type)
        return f"{self.name} ({kind}, {self.element_id})" if self.name != self.element_id else \
            f"{self.element_id} ({kind})"


def element_choices(definition: ProcessDefinition) -> list[Choice]:
    """The elements of a version a removed element's cases can be moved to, by name."""
    stored = json.loads(definition.spec_json)
    found: dict[str, Choice] = {}
    for spec in [stored["spec"], *stored["subprocess_specs"].values()]:
        for ts in spec["task_specs"].values():
            element = ts.get("bpmn_id")
            if element and element not in found:
                found[element] = Choice(element, ts.get("bpmn_name") or element, ts.get("typename", ""))
    return sorted(found.values(), key=lambda c: (c.name.lower(), c.element_id))
