"""`tovholder import-check`: which diagrams of a folder would run, which would be refused, and why.

Meant for a team bringing its Camunda 7 diagrams: it runs the deploy itself
(engine.catalog.deploy: every check, the units and deployed processes of
this database) and rolls it back, so nothing is stored. A deployment is
refused as a whole when one file is bad, so the check deploys again without
the refused files until the rest goes through: a diagram that calls a
refused one is then refused too, as it would be. For each diagram that would
run it lists how its `${…}` expressions and bare timer values are
translated (engine.bpmn.camunda7), so the process owner sees what runs.

Transaction rule: every attempt is rolled back; the caller commits nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from sqlalchemy.orm import Session

from . import catalog
from .bpmn import camunda7, juel
from .case_rules import CaseRules
from .errors import InvalidDefinition
from .validation import SourceFile, element_of, parse_xml

_TIMERS = ("timeDuration", "timeDate", "timeCycle")
_ATTRIBUTES = ("assignee", "dueDate", "followUpDate", "priority")


@dataclass
class Translation:
    element: str | None
    line: int | None
    what: str
    written: str
    runs_as: str


@dataclass
class FileReport:
    name: str
    camunda7: bool
    processes: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    translations: list[Translation] = field(default_factory=list)

    @property
    def runs(self) -> bool:
        return not self.problems


def check(session: Session, files: list[tuple[str, bytes]], *, rules: CaseRules,
          form_folders: list[Path] | None = None) -> list[FileReport]:
    """A report per diagram file (sorted by name); nothing is stored."""
    reports = {name: _report(name, raw) for name, raw in files}
    remaining = list(files)
    while remaining:
        try:
            deployed = catalog.deploy(session, remaining, rules=rules, actor="import-check",
                                      form_folders=list(form_folders or []))
        except InvalidDefinition as exc:
            session.rollback()
            problems = exc.detail if isinstance(exc.detail, list) else []
            refused = _assign(problems, reports, [name for name, _ in remaining])
            remaining = [(name, raw) for name, raw in remaining if name not in refused]
            continue
        session.rollback()
        by_file = {name: raw for name, raw in remaining}
        for result in deployed:
            for name in by_file:
                if result.key in _process_ids(reports[name], by_file[name]):
                    reports[name].processes.append(f"{result.key} (version {result.version}"
                                                   f"{'' if result.new else ', already deployed'})")
        break
    return [reports[name] for name in sorted(reports)]


def _assign(problems: list[dict], reports: dict[str, FileReport], names: list[str]) -> set[str]:
    """Give each problem to the files it names; problems naming none go to every file still in the run."""
    refused: set[str] = set()
    for found in problems:
        owners = [n for n in names if n == found.get("file") or n in str(found.get("file") or "").split(", ")]
        for name in owners or names:
            reports[name].problems.append(found)
            refused.add(name)
    return refused


def _process_ids(report: FileReport, raw: bytes) -> set[str]:
    src = parse_xml(report.name, raw, [])
    if src is None or src.is_dmn:
        return set()
    return {p.get("id") for p in src.root.iter(camunda7.bpmn("process"))}


def _report(name: str, raw: bytes) -> FileReport:
    src = parse_xml(name, raw, [])
    if src is None or src.is_dmn:
        return FileReport(name, False)
    return FileReport(name, src.is_camunda7, translations=translations(src))


def translations(src: SourceFile) -> list[Translation]:
    """Every `${…}` expression and bare timer value of the file, with the Python it runs as."""
    found: list[Translation] = []

    def add(node: etree._Element, what: str, text: str | None, translate: Callable[[str], str | None], *,
            only_juel: bool = False) -> None:
        if not text or not text.strip() or (only_juel and not juel.is_expression(text)):
            return
        try:
            python = translate(text)
        except juel.JuelError:
            return  # refused: the problems say so
        if python is not None and python != text:
            found.append(Translation(node.get("id") or element_of(node), node.sourceline, what,
                                     juel.shown(text.strip()), python))

    for node in src.root.iter(camunda7.bpmn("conditionExpression")):
        add(node, "condition", node.text, camunda7.condition_python)
    for tag in _TIMERS:
        for node in src.root.iter(camunda7.bpmn(tag)):
            add(node, tag, node.text, lambda text: camunda7.timer_python(text, src.is_camunda7))
    for node in src.root.iter(camunda7.bpmn("userTask")):
        for attribute in _ATTRIBUTES:
            add(node, f"camunda:{attribute}", node.get(camunda7.camunda(attribute)), camunda7.value_python,
                only_juel=True)
    for tag in ("inputParameter", "outputParameter"):
        for node in src.root.iter(camunda7.camunda(tag)):
            add(node, f"{tag} {node.get('name')}", node.text, camunda7.value_python, only_juel=True)
    for tag in ("in", "out"):
        for node in src.root.iter(camunda7.camunda(tag)):
            add(node, f"camunda:{tag} {node.get('target')}", node.get("sourceExpression"), camunda7.value_python,
                only_juel=True)
    return sorted(found, key=lambda t: (t.line or 0, t.what))
