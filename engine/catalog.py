"""Deploying process definitions: parse, validate, version.

`deploy(session, files, ...)` takes (filename, bytes) pairs, refuses the whole
deployment with InvalidDefinition (a list of {file, element, line, message})
if any file is bad, and otherwise stores each executable process as an
immutable version of its key. A version is a bundle: the diagram, the
processes it calls and every form any of them names (engine.form_sources
finds them, engine.bundles stores and hashes them), so a changed form makes
a new version and an unchanged bundle is the existing one. Each version also
keeps the source of the decision tables (.dmn) it was compiled with
(`stored_decisions`; the compiled spec carries what is evaluated). It only flushes;
the caller commits.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import bundles, clock
from .bpmn import camunda7
from .bpmn.parser import BPMN_NS, CAMUNDA_NS, TovholderParser
from .bpmn.serializer import spec_to_json
from .case_rules import CaseRules
from .errors import Invalid, InvalidDefinition, NotFound
from .form_sources import FormFile, FormSources, is_form_file, uploaded_forms
from .models import DefinitionDecision, DefinitionMessageStart, ProcessDefinition, Unit
from .rule_set_checks import check_form_swaps, check_switches
from .validation import (
    SourceFile,
    called_elements,
    check_bpmn,
    check_dmn,
    executable_processes,
    library_problem,
    message_start_names,
    named_forms,
    parse_tree,
    parse_xml,
    problem,
    start_form_key,
)


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    name: str
    hash: str
    new: bool

    def as_dict(self) -> dict:
        return {"key": self.key, "version": self.version, "name": self.name, "hash": self.hash, "new": self.new}


@dataclass(frozen=True)
class Prepared:
    """A deployment that passed every check, ready to store: each executable process with its compiled parts."""

    processes: list[tuple[SourceFile, etree._Element]]
    compiled: list[tuple[str, list[FormFile]]]  # (spec JSON, the forms of its bundle), per process
    decisions: tuple[SourceFile, ...] = ()  # the deployment's .dmn files: each version keeps those it names

    def compiled_for(self, key: str) -> tuple[SourceFile, str, list[FormFile]] | None:
        for (src, process), (spec_json, forms) in zip(self.processes, self.compiled, strict=True):
            if process.get("id") == key:
                return src, spec_json, forms
        return None


def deploy(session: Session, files: list[tuple[str, bytes]], *, rules: CaseRules,
           actor: str | None = None, form_folders: Sequence[Path] = (),
           base_forms: dict[str, FormFile] | None = None) -> list[Deployed]:
    """Deploy diagrams (.bpmn/.dmn) with the forms (.json/.html) sent along; see module doc.

    `form_folders` are folders given to `tovholder deploy`: forms found there
    come before TOVHOLDER_FORMS_DIR's (engine.form_sources). `base_forms` are
    the forms of the version a studio draft replaces: they come right after
    the upload, so publishing a draft keeps the forms its version has.
    """
    return store(session, prepare(session, files, rules=rules, form_folders=form_folders, base_forms=base_forms),
                 actor=actor)


def store(session: Session, prepared: Prepared, *, actor: str | None = None) -> list[Deployed]:
    """Store what `prepare` checked and compiled, in the caller's transaction: each process as a version."""
    return [_store(session, src, process, *parts, actor, decisions=prepared.decisions)
            for (src, process), parts in zip(prepared.processes, prepared.compiled, strict=True)]


def prepare(session: Session, files: list[tuple[str, bytes]], *, rules: CaseRules,
            form_folders: Sequence[Path] = (), base_forms: dict[str, FormFile] | None = None) -> Prepared:
    """Every check of a deployment, and the compiled specs, without storing anything (InvalidDefinition).

    `deploy` stores what this returns; the studio runs it alone to check a draft
    with exactly the checks its publication will meet. It only reads.
    """
    problems: list[dict] = []
    if not files:
        raise InvalidDefinition("nothing to deploy", [problem(None, None, None, "no files were given")])
    diagrams = [(name, raw) for name, raw in files if not is_form_file(name)]
    forms = FormSources(uploaded_forms([(n, r) for n, r in files if is_form_file(n)], problems),
                        [Path(f) for f in form_folders], Path(rules.forms_dir), base=dict(base_forms or {}))
    if not diagrams:
        problems.append(problem(None, None, None, "no .bpmn or .dmn file was given: forms are deployed "
                                                  "together with the diagrams that name them"))
    sources = [s for s in (parse_xml(name, raw, problems) for name, raw in diagrams) if s is not None]
    for src in sources:
        if not src.is_dmn:
            _add_generated_forms(src, forms, problems)
    unit_keys = set(session.scalars(select(Unit.key)))
    swaps = rules.form_swaps()
    processes: list[tuple[SourceFile, etree._Element]] = []
    for src in sources:
        if src.is_dmn:
            check_dmn(src, problems)
            continue
        check_bpmn(src, unit_keys=unit_keys, forms=forms, named_deadlines=rules.named_deadlines(),
                   problems=problems)
        check_switches(src, set(rules.switches()), problems)
        check_form_swaps(src, forms=forms, swaps=swaps, named_deadlines=rules.named_deadlines(), problems=problems)
        processes.extend((src, process) for process in executable_processes(src))
    if sources and not problems and not processes:
        names = ", ".join(s.name for s in sources)
        problems.append(problem(names, None, None, "no executable process (set isExecutable=\"true\" on the process)"))
    if problems:
        raise InvalidDefinition("the deployment was refused", problems)

    parser = TovholderParser(validator=BpmnValidator())
    stored = _add_sources(parser, sources, processes, session, problems)
    if problems:
        raise InvalidDefinition("the deployment was refused", problems)
    for definition in stored.values():
        for key, form in bundles.form_files(session, definition.id).items():
            forms.stored.setdefault(key, form)
    compiled = [_compile(parser, src, process, sources, forms, stored, problems, swaps) for src, process in processes]
    for unused in forms.unused_uploads():
        problems.append(problem(unused.origin, None, None,
                                f"form '{unused.key}' is named by no task or event of the deployed processes"))
    if problems:
        raise InvalidDefinition("the deployment was refused", problems)
    return Prepared(processes, compiled, tuple(s for s in sources if s.is_dmn))


def _add_generated_forms(src: SourceFile, forms: FormSources, problems: list) -> None:
    """The forms a Camunda 7 diagram describes in camunda:formData go into the version like uploaded ones."""
    for key, (text, node) in camunda7.generated_forms(src.root).items():
        if key in forms.uploaded:
            problems.append(problem(src.name, node.get("id"), node.sourceline,
                                    f"form '{key}' is both generated from camunda:formData and uploaded"))
            continue
        forms.uploaded[key] = FormFile(key, text, None, f"{src.name} (camunda:formData of {node.get('id')})")


def _add_sources(parser: TovholderParser, sources: list[SourceFile], processes: list[tuple[SourceFile, etree._Element]],
                 session: Session, problems: list[dict]) -> dict[str, ProcessDefinition]:
    """Feed every file to the parser, plus stored definitions for call activities to other files.

    Returns the stored definitions used, by the process key they provide.
    """
    for src in sources:
        try:
            if src.is_dmn:
                parser.add_dmn_xml(src.root, filename=src.name)
            else:
                parser.add_bpmn_xml(src.root, filename=src.name)
        except Exception as exc:  # noqa: BLE001 - every library error becomes a typed problem
            problems.append(library_problem(src.name, exc, sources))
    if problems:
        return {}
    known = set(parser.get_process_ids())
    stored: dict[str, ProcessDefinition] = {}
    for src, process in processes:
        for called, node in called_elements(process):
            if called in known or called in stored:
                continue
            latest = latest_definition(session, called)
            if latest is None:
                problems.append(problem(src.name, node.get("id"), node.sourceline,
                                         f"calls process '{called}', which is neither in this deployment nor deployed"))
                continue
            stored[called] = latest
            try:
                # parsed as at its own deploy: the library's parser reads some files differently
                parser.add_bpmn_xml(parse_tree(latest.bpmn_xml.encode("utf-8")), filename=latest.source_file)
            except Exception as exc:  # noqa: BLE001
                problems.append(library_problem(latest.source_file, exc))
    return stored


def _compile(parser: TovholderParser, src: SourceFile, process: etree._Element, sources: list[SourceFile],
             forms: FormSources, stored: dict[str, ProcessDefinition], problems: list[dict],
             swaps: dict[str, list[tuple[str, str]]] | None = None) -> tuple[str, list[FormFile]]:
    """The spec JSON of a process and the forms of its bundle (its own and those of the processes it calls,
    and the alternatives the configured rule sets name for them: `swaps`, engine.rule_set_checks)."""
    key = process.get("id")
    try:
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
        BpmnWorkflow(spec, subprocess_specs)  # fails now, not at the first case, on broken wiring
        spec_json = spec_to_json(spec, subprocess_specs)
    except Exception as exc:  # noqa: BLE001
        problems.append(library_problem(src.name, exc, sources))
        return "", []
    found: dict[str, FormFile] = {}
    for process_id in [key, *subprocess_specs]:
        process_parser = parser.process_parsers.get(process_id)
        if process_parser is None:  # an embedded subprocess: its elements are inside its process's node
            continue
        from_stored = process_id in stored  # a called process deployed earlier keeps the forms it had then
        for form_key, node in named_forms(process_parser.node):
            if form_key in found:
                continue
            try:
                found[form_key] = forms.get(form_key, prefer_stored=from_stored)
            except Invalid as exc:
                if from_stored:  # the deployed files were checked already (check_bpmn)
                    problems.append(problem(process_parser.filename, node.get("id"), node.sourceline, exc.message))
    for form_key in list(found):
        for _rule_set, alternative in (swaps or {}).get(form_key, ()):
            if alternative not in found:
                # checked with the deployment's own diagrams (check_form_swaps); a called process taken from an
                # earlier deployment without it keeps the ordinary form (engine.projections falls back)
                try:
                    found[alternative] = forms.get(alternative)
                except Invalid:
                    pass
    return spec_json, sorted(found.values(), key=lambda f: f.key)


def decision_refs(node: etree._Element) -> set[str]:
    """The decision ids the business rule tasks under `node` (a process or a whole diagram) evaluate."""
    return {ref for task in node.iter(f"{{{BPMN_NS}}}businessRuleTask")
            if (ref := task.get(f"{{{CAMUNDA_NS}}}decisionRef"))}


def decision_ids(root: etree._Element) -> set[str]:
    """The ids of the decisions a DMN document defines."""
    return {i for n in root.iter() if isinstance(n.tag, str) and etree.QName(n).localname == "decision"
            and (i := n.get("id"))}


def _store_decisions(session: Session, row: ProcessDefinition, process: etree._Element,
                     decisions: tuple[SourceFile, ...]) -> None:
    """Keep the source of the decision tables this version was compiled with (its spec carries the tables)."""
    wanted = decision_refs(process)
    for dmn in decisions:
        if wanted & decision_ids(dmn.root):
            session.add(DefinitionDecision(definition_id=row.id, file_name=dmn.name[:500],
                                           content=dmn.raw.decode("utf-8")))


def stored_decisions(session: Session, definition_id: str) -> dict[str, str]:
    """{file name: DMN text} of the decision tables a version was compiled with (none before migration 0023)."""
    rows = session.scalars(select(DefinitionDecision).where(DefinitionDecision.definition_id == definition_id)
                           .order_by(DefinitionDecision.file_name))
    return {r.file_name: r.content for r in rows}


def _store(session: Session, src: SourceFile, process: etree._Element, spec_json: str, forms: list[FormFile],
           actor: str | None = None, *, decisions: tuple[SourceFile, ...] = ()) -> Deployed:
    key = process.get("id")
    name = process.get("name") or key
    content_hash = bundles.bundle_hash(_content_hash(src.raw, spec_json), forms)
    existing = session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.key == key, ProcessDefinition.hash == content_hash))
    if existing is not None:
        return Deployed(key, existing.version, existing.name, content_hash, False)
    current = session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == key)) or 0
    row = ProcessDefinition(
        key=key, version=current + 1, name=name, hash=content_hash, source_file=src.name,
        bpmn_xml=src.raw.decode("utf-8"), spec_json=spec_json,
        calls=sorted({c for c, _ in called_elements(process)}), start_form_key=start_form_key(process),
        created_at=clock.now(), deployed_by=actor,
    )
    session.add(row)
    session.flush()
    bundles.store_forms(session, row, forms)
    _store_decisions(session, row, process, decisions)
    for message in message_start_names(src, process):
        session.add(DefinitionMessageStart(definition_id=row.id, message=message, process_key=key))
    session.flush()
    return Deployed(key, row.version, name, content_hash, True)


def without_file_names(value: Any) -> Any:
    """A compiled spec with the source file names left out (they say where, not what)."""
    if isinstance(value, dict):
        return {k: without_file_names(v) for k, v in value.items() if k != "file"}
    if isinstance(value, list):
        return [without_file_names(v) for v in value]
    return value


def _content_hash(raw: bytes, spec_json: str) -> str:
    """Hash of what runs: the file's bytes and the compiled spec (called processes included).

    File names are left out, so the same diagram deployed from another path
    is the same version.
    """
    digest = hashlib.sha256(raw)
    digest.update(b"\0")
    digest.update(json.dumps(without_file_names(json.loads(spec_json)), sort_keys=True).encode("utf-8"))
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
    """Read .bpmn/.dmn files from files and folders (recursively), sorted for stable deploys.

    A form file (.json/.html) named on its own is sent as an upload; forms in
    a folder are found by key when a diagram names them (see form_folders).
    """
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in (".bpmn", ".dmn") and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise NotFound(f"{path}: no such file or folder")
    if not any(not is_form_file(p.name) for p in found):
        raise InvalidDefinition("nothing to deploy", [problem(None, None, None, "no .bpmn or .dmn files found")])
    return [(_display_name(p, paths), p.read_bytes()) for p in found]


def form_folders(paths: list[Path]) -> list[Path]:
    """The folders among the deploy paths: where `tovholder deploy` looks for forms first."""
    return [Path(p) for p in paths if Path(p).is_dir()]


def _display_name(path: Path, roots: list[Path]) -> str:
    for root in roots:
        root = Path(root)
        if root.is_dir():
            try:
                return str(path.relative_to(root.parent if root.name else root))
            except ValueError:
                continue
    return path.name
