"""Deploying process definitions: parse, validate, version.

`deploy(session, files, ...)` takes (filename, bytes) pairs, refuses the whole
deployment with InvalidDefinition (a list of {file, element, line, message})
if any file is bad, and otherwise stores each executable process as an
immutable version of its key. It only flushes; the caller commits.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import clock
from .errors import InvalidDefinition, NotFound
from .forms import form_exists
from .models import ProcessDefinition, Unit
from .serialization import spec_to_json
from .spiff import BPMN_NS, CAMUNDA_NS, TovholderParser

DMN_NAMESPACES = {
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
}
# SpiffWorkflow names its own internal task specs like this; a BPMN element
# with such an id silently replaces them (the process then has no flow nodes).
RESERVED_IDS = {"Start", "End", "Root"}
RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin")
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    name: str
    hash: str
    new: bool

    def as_dict(self) -> dict:
        return {"key": self.key, "version": self.version, "name": self.name, "hash": self.hash, "new": self.new}


@dataclass
class _SourceFile:
    name: str
    raw: bytes
    root: etree._Element
    is_dmn: bool


def _problem(file, element, line, message) -> dict:
    return {"file": file, "element": element, "line": line, "message": message}


def _parse_xml(name: str, raw: bytes, problems: list) -> _SourceFile | None:
    suffix = Path(name).suffix.lower()
    if suffix not in (".bpmn", ".dmn"):
        problems.append(_problem(name, None, None, "only .bpmn and .dmn files can be deployed"))
        return None
    if len(raw) > MAX_FILE_BYTES:
        problems.append(_problem(name, None, None, f"file is larger than {MAX_FILE_BYTES} bytes"))
        return None
    try:
        raw.decode("utf-8")  # stored and served as UTF-8 text (GET .../bpmn)
    except UnicodeDecodeError as exc:
        problems.append(_problem(name, None, raw[:exc.start].count(b"\n") + 1,
                                 "the file is not UTF-8 encoded; save the diagram as UTF-8"))
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False, huge_tree=False)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        problems.append(_problem(name, None, line, f"not well-formed XML: {exc.msg}"))
        return None
    ns = etree.QName(root).namespace
    if suffix == ".dmn":
        if ns not in DMN_NAMESPACES or etree.QName(root).localname != "definitions":
            problems.append(_problem(name, None, root.sourceline, "not a DMN document (expected dmn:definitions)"))
            return None
        return _SourceFile(name, raw, root, True)
    if ns != BPMN_NS or etree.QName(root).localname != "definitions":
        problems.append(_problem(name, None, root.sourceline, "not a BPMN 2.0 document (expected bpmn:definitions)"))
        return None
    return _SourceFile(name, raw, root, False)


def _bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _check_ids(src: _SourceFile, problems: list) -> None:
    seen: dict[str, int] = {}
    for node in src.root.iter():
        if not isinstance(node.tag, str):
            continue
        node_id = node.get("id")
        if node_id is None or etree.QName(node).namespace != BPMN_NS:
            continue
        if node_id in seen:
            problems.append(_problem(src.name, node_id, node.sourceline,
                                     f"id '{node_id}' is used twice (first on line {seen[node_id]})"))
        seen[node_id] = node.sourceline
        if node_id in RESERVED_IDS or node_id.endswith(RESERVED_SUFFIXES):
            problems.append(_problem(src.name, node_id, node.sourceline,
                                     f"id '{node_id}' is reserved by the workflow engine; rename the element"))


def _check_references(src: _SourceFile, problems: list) -> None:
    """Dangling references make the library fail with misleading messages; name them plainly."""
    ids = {n.get("id") for n in src.root.iter() if isinstance(n.tag, str) and n.get("id")}
    checks = (("sequenceFlow", "sourceRef"), ("sequenceFlow", "targetRef"), ("boundaryEvent", "attachedToRef"),
              ("messageEventDefinition", "messageRef"), ("exclusiveGateway", "default"),
              ("inclusiveGateway", "default"))
    for tag, attr in checks:
        for node in src.root.iter(_bpmn(tag)):
            ref = node.get(attr)
            if ref and ref not in ids:
                problems.append(_problem(src.name, node.get("id"), node.sourceline,
                                         f"{attr} '{ref}' points to no element in this file"))


_EXPRESSION_TAGS = ("conditionExpression", "timeDuration", "timeDate", "timeCycle", "script")


def _check_expressions(src: _SourceFile, problems: list) -> None:
    """Conditions, timer expressions and scripts are Python; a syntax error is refused now, not mid-case."""
    for tag in _EXPRESSION_TAGS:
        for node in src.root.iter(_bpmn(tag)):
            code = (node.text or "").strip()
            owner = node.getparent()
            while owner is not None and owner.get("id") is None:
                owner = owner.getparent()
            owner_id = owner.get("id") if owner is not None else None
            if not code:
                if tag != "conditionExpression":
                    problems.append(_problem(src.name, owner_id, node.sourceline, f"empty {tag}"))
                continue
            if tag.startswith("time") and re.fullmatch(r"R?\d*/?P[0-9A-Z]*|\d{4}-\d\d-\d\dT[\d:+Z.-]*", code):
                problems.append(_problem(src.name, owner_id, node.sourceline,
                                         f'{tag} {code} must be quoted: timer values are expressions ("{code}")'))
                continue
            try:
                compile(code, f"<{owner_id}>", "exec" if tag == "script" else "eval")
            except SyntaxError as exc:
                hint = ' (timer values are expressions: quote literals, e.g. "P5D")' if tag.startswith("time") else ""
                if code.startswith(("${", "#{")):
                    hint = " (expressions are Python, e.g. forsikret == True, not Camunda's ${...})"
                problems.append(_problem(src.name, owner_id, node.sourceline + max((exc.lineno or 1) - 1, 0),
                                         f"{tag} is not a valid expression: {exc.msg}{hint}"))


def _check_lanes(src: _SourceFile, unit_keys: set[str], problems: list) -> None:
    for lane in src.root.iter(_bpmn("lane")):
        name = (lane.get("name") or "").strip()
        if lane.find(_bpmn("childLaneSet")) is not None:
            continue  # a lane holding lanes names no unit itself
        if name not in unit_keys:
            known = ", ".join(sorted(unit_keys)) or "none yet"
            problems.append(_problem(src.name, lane.get("id"), lane.sourceline,
                                     f"lane '{name}' does not name a unit (known units: {known})"))


def _executable_processes(src: _SourceFile) -> list:
    return [p for p in src.root.iter(_bpmn("process")) if p.get("isExecutable", "false").lower() == "true"]


def _lane_of(process, element_id: str) -> str | None:
    for lane in process.iter(_bpmn("lane")):
        for ref in lane.findall(_bpmn("flowNodeRef")):
            if (ref.text or "").strip() == element_id:
                return lane.get("name")
    return None


def _check_user_tasks(src: _SourceFile, process, forms_dir: Path, problems: list) -> None:
    has_lanes = process.find(f".//{_bpmn('lane')}") is not None
    for task in process.iter(_bpmn("userTask"), _bpmn("manualTask")):
        form_key = task.get(f"{{{CAMUNDA_NS}}}formKey")
        if form_key and not form_exists(forms_dir, form_key):
            problems.append(_problem(src.name, task.get("id"), task.sourceline,
                                     f"form '{form_key}' does not exist in {forms_dir}/"))
        if has_lanes and _lane_of(process, task.get("id")) is None and _in_subprocess_lane(process, task) is None:
            problems.append(_problem(src.name, task.get("id"), task.sourceline,
                                     "this task is in no lane, so no unit would receive it"))
        if not has_lanes:
            problems.append(_problem(src.name, task.get("id"), task.sourceline,
                                     "the process has no lanes; put each user task in the lane of the unit that does it"))


def _in_subprocess_lane(process, task):
    """A task inside an embedded subprocess belongs to the subprocess's lane."""
    parent = task.getparent()
    while parent is not None and parent is not process:
        if etree.QName(parent).localname in ("subProcess", "transaction", "adHocSubProcess"):
            lane = _lane_of(process, parent.get("id"))
            if lane is not None:
                return lane
        parent = parent.getparent()
    return None


def _start_form_key(process) -> str | None:
    for start in process.findall(_bpmn("startEvent")):
        key = start.get(f"{{{CAMUNDA_NS}}}formKey")
        if key:
            return key
    return None


def _called_elements(process) -> list[tuple[str, object]]:
    return [(c.get("calledElement") or "", c) for c in process.iter(_bpmn("callActivity"))]


def _library_problem(file_name: str, exc: Exception, sources: list[_SourceFile] = ()) -> dict:
    """Turn any exception of the library into {file, element, line, message}."""
    if isinstance(exc, SpiffWorkflowException):
        file_name = getattr(exc, "file_name", None) or file_name
        element = getattr(exc, "id", None) or None
        if element is None and getattr(exc, "task_spec", None) is not None:
            element = getattr(exc.task_spec, "bpmn_id", None) or exc.task_spec.name
        line = getattr(exc, "line_number", None) or _line_of(sources, file_name, element)
        message = str(exc).split("\n")[0]
    else:
        element, line = None, None
        message = f"the diagram could not be parsed ({type(exc).__name__}: {exc})"
    return _problem(file_name, element, line, message)


def _line_of(sources, file_name, element_id) -> int | None:
    for src in sources:
        if src.name == file_name and element_id:
            for node in src.root.iter():
                if isinstance(node.tag, str) and node.get("id") == element_id:
                    return node.sourceline
    return None


def deploy(session: Session, files: list[tuple[str, bytes]], *, forms_dir: Path,
           actor: str | None = None) -> list[Deployed]:
    problems: list[dict] = []
    if not files:
        raise InvalidDefinition("nothing to deploy", [_problem(None, None, None, "no files were given")])
    sources = [s for s in (_parse_xml(name, raw, problems) for name, raw in files) if s is not None]
    unit_keys = set(session.scalars(select(Unit.key)))
    bpmn_sources = [s for s in sources if not s.is_dmn]
    processes: list[tuple[_SourceFile, object]] = []
    for src in bpmn_sources:
        _check_ids(src, problems)
        _check_references(src, problems)
        _check_expressions(src, problems)
        _check_lanes(src, unit_keys, problems)
        for process in _executable_processes(src):
            processes.append((src, process))
            _check_user_tasks(src, process, forms_dir, problems)
    if sources and not problems and not processes:
        names = ", ".join(s.name for s in bpmn_sources) or ", ".join(s.name for s in sources)
        problems.append(_problem(names, None, None,
                                 "no executable process (set isExecutable=\"true\" on the process)"))
    if problems:
        raise InvalidDefinition("the deployment was refused", problems)

    parser = TovholderParser(validator=BpmnValidator())
    _add_sources(parser, sources, processes, session, problems)
    if problems:
        raise InvalidDefinition("the deployment was refused", problems)
    return [_store(session, parser, src, process, sources, actor) for src, process in processes]


def _add_sources(parser, sources, processes, session, problems) -> dict[str, bytes]:
    """Feed every file to the parser, plus stored definitions for call activities to other files."""
    for src in sources:
        try:
            if src.is_dmn:
                parser.add_dmn_xml(src.root, filename=src.name)
            else:
                parser.add_bpmn_xml(src.root, filename=src.name)
        except Exception as exc:  # noqa: BLE001 - every library error becomes a typed problem
            problems.append(_library_problem(src.name, exc, sources))
    if problems:
        return {}
    known = set(parser.get_process_ids())
    stored: dict[str, bytes] = {}
    for src, process in processes:
        for called, node in _called_elements(process):
            if called in known or called in stored:
                continue
            latest = latest_definition(session, called)
            if latest is None:
                problems.append(_problem(src.name, node.get("id"), node.sourceline,
                                         f"calls process '{called}', which is neither in this deployment nor deployed"))
                continue
            stored[called] = latest.bpmn_xml.encode("utf-8")
            try:
                parser.add_bpmn_str(stored[called], filename=latest.source_file)
            except Exception as exc:  # noqa: BLE001
                problems.append(_library_problem(latest.source_file, exc))
    return stored


def _store(session, parser, src, process, sources, actor=None) -> Deployed:
    key = process.get("id")
    name = process.get("name") or key
    try:
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
        BpmnWorkflow(spec, subprocess_specs)  # fails now, not at the first case, on broken wiring
        spec_json = spec_to_json(spec, subprocess_specs)
    except Exception as exc:  # noqa: BLE001
        raise InvalidDefinition("the deployment was refused", [_library_problem(src.name, exc, sources)]) from None
    content_hash = _content_hash(src.raw, spec_json)
    existing = session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.key == key, ProcessDefinition.hash == content_hash))
    if existing is not None:
        return Deployed(key, existing.version, existing.name, content_hash, False)
    current = session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key)) or 0
    row = ProcessDefinition(
        key=key, version=current + 1, name=name, hash=content_hash, source_file=src.name,
        bpmn_xml=src.raw.decode("utf-8"), spec_json=spec_json,
        calls=sorted({c for c, _ in _called_elements(process)}), start_form_key=_start_form_key(process),
        created_at=clock.now(), deployed_by=actor,
    )
    session.add(row)
    session.flush()
    return Deployed(key, row.version, name, content_hash, True)


def _content_hash(raw: bytes, spec_json: str) -> str:
    """Hash of what runs: the file's bytes and the compiled spec (called processes included).

    File names are left out, so the same diagram deployed from another path
    is the same version.
    """
    def without_files(value):
        if isinstance(value, dict):
            return {k: without_files(v) for k, v in value.items() if k != "file"}
        if isinstance(value, list):
            return [without_files(v) for v in value]
        return value
    digest = hashlib.sha256(raw)
    digest.update(b"\0")
    digest.update(json.dumps(without_files(json.loads(spec_json)), sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


def latest_definition(session: Session, key: str) -> ProcessDefinition | None:
    return session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key)
                          .order_by(ProcessDefinition.version.desc()).limit(1))


def get_definition(session: Session, key: str, version: int | None = None) -> ProcessDefinition:
    if version is None:
        row = latest_definition(session, key)
    elif not 1 <= version <= 2**31 - 1:  # beyond the column (SQLite would overflow): surely not deployed
        row = None
    else:
        row = session.scalar(select(ProcessDefinition).where(
            ProcessDefinition.key == key, ProcessDefinition.version == version))
    if row is None:
        what = f"process '{key}'" + (f" version {version}" if version is not None else "")
        raise NotFound(f"{what} is not deployed")
    return row


def list_definitions(session: Session, *, limit: int = 50, offset: int = 0) -> list[dict]:
    rows = session.execute(
        select(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name)
        .order_by(ProcessDefinition.key, ProcessDefinition.version)).all()
    grouped: dict[str, dict] = {}
    for key, version, name in rows:
        entry = grouped.setdefault(key, {"key": key, "name": name, "latest_version": version, "versions": []})
        entry["versions"].append(version)
        entry["latest_version"] = version
        entry["name"] = name
    return list(grouped.values())[offset:offset + limit]


def collect_files(paths: list[Path]) -> list[tuple[str, bytes]]:
    """Read .bpmn/.dmn files from files and folders (recursively), sorted for stable deploys."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in (".bpmn", ".dmn") and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise NotFound(f"{path}: no such file or folder")
    if not found:
        raise InvalidDefinition("nothing to deploy", [_problem(None, None, None, "no .bpmn or .dmn files found")])
    return [(_display_name(p, paths), p.read_bytes()) for p in found]


def _display_name(path: Path, roots: list[Path]) -> str:
    for root in roots:
        root = Path(root)
        if root.is_dir():
            try:
                return str(path.relative_to(root.parent if root.name else root))
            except ValueError:
                continue
    return path.name
