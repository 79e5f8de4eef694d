"""The studio's server side: a draft checked, previewed and published through the deploy's own code.

- `check` runs the deploy's checks (engine.catalog.prepare: XML, ids and
  references, expressions and timer rules, lanes and units, Tovholder's
  properties, service tasks, forms, and the library's compilation) on a draft
  without storing anything, and says each finding in Danish
  (engine.studio_words) with its element and line. It adds the studio's own:
  the draft's process must carry its journey's key (errors), and what deploys
  but helps nobody (warnings: a user task without a form, a diagram without
  a layout). Errors stop a publication; warnings do not.
- `save` stores a draft (engine.drafts) with the check's findings.
- `preview` compares the latest version with the draft (engine.diff) and
  counts the running cases standing on what changes (engine.versions' rows).
- `publish` is the normal deploy of the draft with its forms (the same
  `prepare` stored by `catalog.store`), in the caller's one transaction, and
  removes the draft.

The files a draft deploys: its BPMN, its own form files, and the decision
tables (.dmn) its business rule tasks name: the draft's own edited tables
first, then those the latest version was compiled with (engine.catalog
`stored_decisions`), then TOVHOLDER_PROCESSES_DIR; a file is passed over when
one before it defines the same decision. Forms it names but does not carry come
from the latest version first (engine.form_sources `base`), then the forms
directory, so a form edited in the studio and published once is not replaced
by an older file on disk.

Only flushes; the edge commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from sqlalchemy.orm import Session

from . import bundles, catalog, drafts, studio_words
from .bpmn.parser import BPMN_NS, CAMUNDA_NS
from .case_rules import CaseRules
from .catalog import Deployed, Prepared
from .diff import VersionDiff, diff_candidate, first_version_diff
from .errors import Invalid, InvalidDefinition
from .form_sources import FormFile
from .models import ProcessDefinition
from .validation import parse_tree

ERROR, WARNING = "error", "warning"


class PublishRefused(Invalid):
    """The draft has problems that stop a publication; detail is the list of problems."""


@dataclass(frozen=True)
class Problem:
    element: str | None
    line: int | None
    message: str  # Danish
    severity: str = ERROR
    file: str | None = None  # the decision table (.dmn) the finding is in; None for the diagram

    def as_dict(self) -> dict:
        found = {"element": self.element, "line": self.line, "message": self.message, "severity": self.severity}
        if self.file is not None:  # only a decision table's findings name their file
            found["file"] = self.file
        return found


@dataclass
class Evaluation:
    """A draft run through the deploy's checks: what was found, and what would be stored."""

    problems: list[Problem]
    prepared: Prepared | None
    files: list[tuple[str, bytes]]
    base_forms: dict[str, FormFile]

    @property
    def publishable(self) -> bool:
        return self.prepared is not None and not any(p.severity == ERROR for p in self.problems)


def _from_engine(found: dict, bpmn_name: str | None = None) -> Problem:
    """One of the deploy's {file, element, line, message} (or the draft check's {field, line, message}) in Danish."""
    message = studio_words.danish(found.get("message") or "")
    where = found.get("file") or (found.get("field") or "").removeprefix("forms.")
    if where.endswith(".dmn"):  # a decision table's finding: the file says where, the element which cell
        return Problem(found.get("element"), found.get("line"), message, file=where.removeprefix("decisions."))
    if where and where != bpmn_name and where not in ("bpmn", "draft.bpmn", "forms") and not found.get("element"):
        if not message.startswith("Formularen"):
            message = f"Formularen {where}: {message}"
    return Problem(found.get("element"), found.get("line"), message)


def _listed(detail: object) -> list[dict]:
    return [p for p in detail if isinstance(p, dict)] if isinstance(detail, list) else [{"message": str(detail)}]


def base_forms(session: Session, key: str | None) -> dict[str, FormFile]:
    latest = catalog.latest_definition(session, key) if key else None
    return bundles.form_files(session, latest.id) if latest is not None else {}


def bpmn_name(session: Session, key: str | None) -> str:
    latest = catalog.latest_definition(session, key) if key else None
    if latest is not None and latest.source_file.lower().endswith(".bpmn"):
        return latest.source_file
    return f"{key or 'udkast'}.bpmn"


def _disk_decisions(processes_dir: Path | None) -> list[tuple[str, bytes]]:
    if processes_dir is None or not Path(processes_dir).is_dir():
        return []
    found = []
    for path in sorted(Path(processes_dir).rglob("*.dmn")):
        try:
            found.append((path.relative_to(processes_dir).as_posix(), path.read_bytes()))
        except OSError:
            continue
    return found


def decision_files(root: etree._Element, processes_dir: Path | None, *, draft: dict[str, str] | None = None,
                   stored: dict[str, str] | None = None) -> list[tuple[str, bytes]]:
    """The .dmn files that define the decisions the diagram's business rule tasks name.

    Looked for in the draft's own tables, then the latest version's stored
    ones, then the processes directory; a file is passed over when one found
    before it defines one of its decisions (an edited table replaces the older).
    """
    wanted = catalog.decision_refs(root)
    if not wanted:
        return []
    candidates = [*((n, t.encode("utf-8")) for n, t in sorted((draft or {}).items())),
                  *((n, t.encode("utf-8")) for n, t in sorted((stored or {}).items())),
                  *_disk_decisions(processes_dir)]
    found: list[tuple[str, bytes]] = []
    covered: set[str] = set()
    for name, raw in candidates:
        try:
            ids = catalog.decision_ids(parse_tree(raw))
        except etree.XMLSyntaxError:
            ids = set()
            if draft and name in draft:  # the draft's own broken table: its check says what is wrong
                found.append((name, raw))
            continue
        if ids & wanted and not ids & covered:
            found.append((name, raw))
        covered |= ids
    return found


def stored_decisions(session: Session, key: str | None) -> dict[str, str]:
    latest = catalog.latest_definition(session, key) if key else None
    return catalog.stored_decisions(session, latest.id) if latest is not None else {}


def journey_decisions(session: Session, key: str | None, bpmn: str, *, draft: dict[str, str] | None,
                      processes_dir: Path | None) -> dict[str, str]:
    """{file name: DMN text} of the decision tables the diagram names, as the draft's publication would use them."""
    try:
        root = parse_tree(bpmn.encode("utf-8"))
    except etree.XMLSyntaxError:
        return {}
    return {name: raw.decode("utf-8") for name, raw in decision_files(
        root, processes_dir, draft=draft, stored=stored_decisions(session, key))}


def evaluate(session: Session, *, key: str | None, bpmn: object, forms: object, rules: CaseRules,
             processes_dir: Path | None = None, decisions: object = None) -> Evaluation:
    """Run the draft through every check of its publication; stores nothing."""
    try:
        files_by_name = drafts.check_content(bpmn, forms, decisions)
    except Invalid as exc:
        return Evaluation([_from_engine(p) for p in _listed(exc.detail)], None, [], {})
    assert isinstance(bpmn, str)
    root = parse_tree(bpmn.encode("utf-8"))
    name = bpmn_name(session, key)
    edited = dict(decisions) if isinstance(decisions, dict) else {}
    files = [(name, bpmn.encode("utf-8")),
             *decision_files(root, processes_dir, draft=edited, stored=stored_decisions(session, key)),
             *((n, text.encode("utf-8")) for n, text in sorted(files_by_name.items()))]
    base = base_forms(session, key)
    problems = _key_problems(root, key)
    prepared = None
    try:
        prepared = catalog.prepare(session, files, rules=rules, base_forms=base)
    except InvalidDefinition as exc:
        problems += [_from_engine(p, name) for p in _listed(exc.detail)]
    problems += _warnings(root, key)
    return Evaluation([_on_shape(root, p) for p in problems], prepared, files, base)


_DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


def _on_shape(root: etree._Element, found: Problem) -> Problem:
    """A finding on an inner part (a timer's event definition, a condition) is put on the shape that is drawn."""
    if found.element is None:
        return found
    drawn = {n.get("bpmnElement") for n in root.iter(f"{_DI}BPMNShape", f"{_DI}BPMNEdge")}
    node = next((n for n in root.iter() if isinstance(n.tag, str) and n.get("id") == found.element), None)
    if not drawn or node is None or found.element in drawn:
        return found
    while node is not None and node.get("id") not in drawn:
        node = node.getparent()
    if node is None:
        return found
    return Problem(node.get("id"), found.line, found.message, found.severity)


def check(session: Session, *, key: str | None, bpmn: object, forms: object, rules: CaseRules,
          processes_dir: Path | None = None, decisions: object = None) -> list[Problem]:
    return evaluate(session, key=key, bpmn=bpmn, forms=forms, rules=rules, processes_dir=processes_dir,
                    decisions=decisions).problems


def _key_problems(root: etree._Element, key: str | None) -> list[Problem]:
    """A draft publishes its own journey and nothing else."""
    if key is None:
        return []
    processes = [p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable", "false").lower() == "true"]
    ids = [p.get("id") for p in processes]
    found = []
    if ids and key not in ids:
        found.append(Problem(ids[0], processes[0].sourceline,
                             f"Diagrammets proces har id'et »{ids[0]}«, men forløbet hedder »{key}«. "
                             f"Giv processen id'et »{key}«."))
    for process in processes:
        if process.get("id") != key and key in ids:
            found.append(Problem(process.get("id"), process.sourceline,
                                 f"Diagrammet indeholder også den kørbare proces »{process.get('id')}«; et udkast "
                                 "udgiver kun sit eget forløb. Fjern den, eller markér den som ikke kørbar."))
    return found


def _warnings(root: etree._Element, key: str | None) -> list[Problem]:
    found = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("isExecutable", "false").lower() != "true" or (key is not None and process.get("id") != key):
            continue
        for task in process.iter(f"{{{BPMN_NS}}}userTask"):
            if not task.get(f"{{{CAMUNDA_NS}}}formKey"):
                found.append(Problem(task.get("id"), task.sourceline,
                                     f"Opgaven »{task.get('name') or task.get('id')}« har ingen formular. Vælg en "
                                     "formular, så sagsbehandleren ved, hvad der skal udfyldes.", WARNING))
    if root.find("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNDiagram") is None:
        found.append(Problem(None, None, "Diagrammet har intet layout (BPMNDI), så det kan ikke vises. "
                                         "Åbn og gem det i modelleringsværktøjet.", WARNING))
    return found


def save(session: Session, key: str, *, bpmn: object, forms: object, revision: object, actor: str, rules: CaseRules,
         processes_dir: Path | None = None, decisions: object = None) -> tuple[drafts.DraftView, list[Problem]]:
    """Save the draft with its findings (a draft with problems is saved; input that is no diagram is not).

    `decisions` None keeps the draft's edited decision tables (the form editor saves only forms).
    """
    drafts.check_key(key)
    drafts.check_content(bpmn, forms, decisions)  # refuses before the (slower) checks run
    if decisions is None:
        current = drafts.find_draft(session, key)
        checked = current.decisions if current is not None else {}
    else:
        checked = decisions  # type: ignore[assignment]  # a dict: checked by check_content
    problems = check(session, key=key, bpmn=bpmn, forms=forms, rules=rules, processes_dir=processes_dir,
                     decisions=checked)
    view = drafts.save_draft(session, key, bpmn=bpmn, forms=forms, revision=revision, actor=actor,
                             problems=[p.as_dict() for p in problems], decisions=decisions)
    return view, problems


@dataclass(frozen=True)
class Preview:
    problems: list[Problem]
    diff: VersionDiff | None
    affected_cases: int
    affected_by_element: dict[str, int]
    decisions_changed: tuple[str, ...] = ()  # the decision tables (.dmn) the draft changes

    def as_dict(self) -> dict:
        return {"problems": [p.as_dict() for p in self.problems],
                "diff": self.diff.as_dict() if self.diff is not None else None,
                "affected_cases": self.affected_cases, "affected_by_element": dict(self.affected_by_element),
                "decisions_changed": list(self.decisions_changed)}


def _candidate(key: str, prepared: Prepared) -> tuple[ProcessDefinition, dict[str, FormFile]] | None:
    """What the draft would store as its journey's next version: a row never added to the session."""
    found = prepared.compiled_for(key)
    if found is None:
        return None
    src, spec_json, forms = found
    row = ProcessDefinition(key=key, version=None, name=key, hash="", source_file=src.name,
                            bpmn_xml=src.raw.decode("utf-8"), spec_json=spec_json)
    return row, {f.key: f for f in forms}


def preview(session: Session, key: str, *, rules: CaseRules, processes_dir: Path | None = None) -> Preview:
    """What publishing the draft would change: its problems, the diff to the latest version, the cases reached."""
    draft = drafts.get_draft(session, key)
    evaluation = evaluate(session, key=key, bpmn=draft.bpmn, forms=draft.forms, rules=rules,
                          processes_dir=processes_dir, decisions=draft.decisions)
    candidate = _candidate(key, evaluation.prepared) if evaluation.prepared is not None else None
    if candidate is None:
        return Preview(evaluation.problems, None, 0, {})
    before = dict(decision_files(parse_tree(draft.bpmn.encode("utf-8")), processes_dir,
                                 stored=stored_decisions(session, key)))
    tables = tuple(sorted(n for n, raw in evaluation.files if n.endswith(".dmn") and before.get(n) != raw))
    latest = catalog.latest_definition(session, key)
    if latest is None:
        diff = first_version_diff(session, key, *candidate)
    else:
        diff = diff_candidate(session, key, latest.version, *candidate)
    return Preview(evaluation.problems, diff, len(diff.affected_case_ids),
                   {a.element_id: a.cases for a in diff.affected}, tables)


def publish(session: Session, key: str, *, revision: object, actor: str, rules: CaseRules,
            processes_dir: Path | None = None) -> Deployed:
    """Deploy the draft at `revision` (DraftStale if it changed) and remove it; PublishRefused on errors."""
    draft = drafts.hold(session, key, revision=revision)
    evaluation = evaluate(session, key=key, bpmn=draft.bpmn, forms=draft.forms, rules=rules,
                          processes_dir=processes_dir, decisions=draft.decisions)
    if not evaluation.publishable:
        errors = [p for p in evaluation.problems if p.severity == ERROR]
        raise PublishRefused("the draft has problems that stop its publication: " + errors[0].message,
                             [p.as_dict() for p in evaluation.problems])
    assert evaluation.prepared is not None
    deployed = [d for d in catalog.store(session, evaluation.prepared, actor=actor) if d.key == key]
    drafts.delete_draft(session, key, revision=draft.revision)
    return deployed[0]
