"""Checks of diagram files before SpiffWorkflow sees them, each reported as {file, element, line, message}.

Pure functions over parsed XML (lxml); no database. engine.catalog runs them
and refuses the whole deployment if any finds a problem.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import clock
from .bpmn import camunda7, camunda7_checks, juel
from .bpmn.parser import BPMN_NS, CAMUNDA_NS
from .deadlines import DeadlineError, Rule, parse_rule
from .errors import Invalid
from .scripting import SAFE_BUILTINS, ScriptContext, ScriptRuleBroken, compile_checked, make_helpers
from .timer_rules import TIMER_TAGS, expression_problems

if TYPE_CHECKING:
    from .form_sources import FormSources

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
_FORM_KEY = f"{{{CAMUNDA_NS}}}formKey"


@dataclass
class SourceFile:
    name: str
    raw: bytes
    root: etree._Element
    is_dmn: bool

    @cached_property
    def is_camunda7(self) -> bool:
        """Drawn for Camunda Platform 7 (engine.bpmn.camunda7): bare ISO timer values are text, topics freer."""
        return not self.is_dmn and camunda7.is_camunda7(self.root)


def problem(file: str | None, element: str | None, line: int | None, message: str) -> dict:
    return {"file": file, "element": element, "line": line, "message": message}


def parse_xml(name: str, raw: bytes, problems: list) -> SourceFile | None:
    suffix = Path(name).suffix.lower()
    if suffix not in (".bpmn", ".dmn"):
        problems.append(problem(name, None, None, "only .bpmn and .dmn files can be deployed"))
        return None
    if len(raw) > MAX_FILE_BYTES:
        problems.append(problem(name, None, None, f"file is larger than {MAX_FILE_BYTES} bytes"))
        return None
    try:
        raw.decode("utf-8")  # stored and served as UTF-8 text (GET .../bpmn)
    except UnicodeDecodeError as exc:
        problems.append(problem(name, None, raw[:exc.start].count(b"\n") + 1,
                                 "the file is not UTF-8 encoded; save the diagram as UTF-8"))
        return None
    doctype_line = _doctype_line(raw.decode("utf-8"))
    if doctype_line is not None:
        problems.append(problem(name, None, doctype_line, DOCTYPE_REFUSED))
        return None
    try:
        root = parse_tree(raw)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        problems.append(problem(name, None, line, f"not well-formed XML: {exc.msg}"))
        return None
    if root.getroottree().docinfo.doctype:  # a declaration the prolog scan missed: refuse all the same
        problems.append(problem(name, None, 1, DOCTYPE_REFUSED))
        return None
    ns = etree.QName(root).namespace
    if suffix == ".dmn":
        if ns not in DMN_NAMESPACES or etree.QName(root).localname != "definitions":
            problems.append(problem(name, None, root.sourceline, "not a DMN document (expected dmn:definitions)"))
            return None
        return SourceFile(name, raw, root, True)
    if ns != BPMN_NS or etree.QName(root).localname != "definitions":
        problems.append(problem(name, None, root.sourceline, "not a BPMN 2.0 document (expected bpmn:definitions)"))
        return None
    return SourceFile(name, raw, root, False)


DOCTYPE_REFUSED = ("a DOCTYPE (DTD or entity declarations) is not allowed in a diagram: remove the <!DOCTYPE ...> "
                   "line; BPMN and DMN files need none, and entities would read differently each time")
# What may stand before the root element besides a DOCTYPE: the XML declaration, processing
# instructions, comments and white space.
_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)


def _doctype_line(text: str) -> int | None:
    """The line of a <!DOCTYPE in the prolog, or None. Read before parsing, so no entity is ever expanded."""
    pos = 1 if text.startswith("\ufeff") else 0
    while (match := _PROLOG_ITEM.match(text, pos)) is not None and match.end() > pos:
        pos = match.end()
    if text[pos:pos + 9].upper() == "<!DOCTYPE":
        return text.count("\n", 0, pos) + 1
    return None


def parse_tree(raw: bytes) -> etree._Element:
    """The one way diagram XML is parsed, at deploy and when a stored definition is read again."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=False,
                             huge_tree=False)
    return etree.fromstring(raw, parser)


def _bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _check_ids(src: SourceFile, problems: list) -> None:
    seen: dict[str, int] = {}
    for node in src.root.iter():
        if not isinstance(node.tag, str):
            continue
        node_id = node.get("id")
        if node_id is None or etree.QName(node).namespace != BPMN_NS:
            continue
        if node_id in seen:
            problems.append(problem(src.name, node_id, node.sourceline,
                                     f"id '{node_id}' is used twice (first on line {seen[node_id]})"))
        seen[node_id] = node.sourceline
        if node_id in RESERVED_IDS or node_id.endswith(RESERVED_SUFFIXES):
            problems.append(problem(src.name, node_id, node.sourceline,
                                     f"id '{node_id}' is reserved by the workflow engine; rename the element"))


def _check_references(src: SourceFile, problems: list) -> None:
    """Dangling references make the library fail with misleading messages; name them plainly."""
    ids = {n.get("id") for n in src.root.iter() if isinstance(n.tag, str) and n.get("id")}
    checks = (("sequenceFlow", "sourceRef"), ("sequenceFlow", "targetRef"), ("boundaryEvent", "attachedToRef"),
              ("messageEventDefinition", "messageRef"), ("exclusiveGateway", "default"),
              ("inclusiveGateway", "default"))
    for tag, attr in checks:
        for node in src.root.iter(_bpmn(tag)):
            ref = node.get(attr)
            if ref and ref not in ids:
                problems.append(problem(src.name, node.get("id"), node.sourceline,
                                         f"{attr} '{ref}' points to no element in this file"))


_EXPRESSION_TAGS = ("conditionExpression", "timeDuration", "timeDate", "timeCycle", "script")


def _check_expressions(src: SourceFile, named_deadlines: dict[str, Rule], problems: list) -> None:
    """Conditions, timer expressions and scripts are Python; a syntax error is refused now, not mid-case.

    `${…}` (Camunda's JUEL) is translated first, as the parser does (engine.bpmn.camunda7), and what is
    outside the subset is refused naming the expression. Timer expressions are checked further
    (engine.timer_rules): a value no case could start with is refused here, with the element and line.
    """
    now = clock.now()
    for tag in _EXPRESSION_TAGS:
        for node in src.root.iter(_bpmn(tag)):
            code = (node.text or "").strip()
            owner_id = element_of(node)
            if not code:
                if tag != "conditionExpression":
                    problems.append(problem(src.name, owner_id, node.sourceline, f"empty {tag}"))
                continue
            if tag == "script":
                source = node.text or ""
            else:
                try:
                    source = (camunda7.condition_python(code) if tag == "conditionExpression"
                              else camunda7.timer_python(code, src.is_camunda7)) or ""
                except juel.JuelError as exc:
                    problems.append(problem(src.name, owner_id, node.sourceline, f"{tag} {exc}"))
                    continue
            if tag.startswith("time") and source == code and camunda7.is_iso_literal(code):
                problems.append(problem(src.name, owner_id, node.sourceline,
                                         f'{tag} {code} must be quoted: timer values are expressions ("{code}")'))
                continue
            try:
                compile_checked(source, "exec" if tag == "script" else "eval")
            except SyntaxError as exc:
                hint = ' (timer values are expressions: quote literals, e.g. "P5D")' if tag.startswith("time") else ""
                what = "breaks the script rules" if isinstance(exc, ScriptRuleBroken) else "is not a valid expression"
                problems.append(problem(src.name, owner_id, node.sourceline + max((exc.lineno or 1) - 1, 0),
                                        f"{tag} {what}: {exc.msg}{hint}"))
                continue
            if tag in TIMER_TAGS:
                for message in expression_problems(tag, source, named_deadlines=named_deadlines,
                                                   known_functions=_script_functions(), now=now):
                    problems.append(problem(src.name, owner_id, node.sourceline, message))


def element_of(node: etree._Element) -> str | None:
    """The id of the element an expression belongs to: the event, not its event definition (Camunda Modeler
    gives those ids too), else the nearest enclosing element with an id."""
    owner = node.getparent()
    while owner is not None and (owner.get("id") is None or etree.QName(owner).localname.endswith("EventDefinition")):
        owner = owner.getparent()
    return owner.get("id") if owner is not None else None


def _script_functions() -> set[str]:
    """The names an expression can call: the sandbox's builtins and helpers."""
    return set(SAFE_BUILTINS) | set(make_helpers(ScriptContext(), {}))


def _check_lanes(src: SourceFile, unit_keys: set[str], problems: list) -> None:
    for lane in src.root.iter(_bpmn("lane")):
        name = (lane.get("name") or "").strip()
        if lane.find(_bpmn("childLaneSet")) is not None:
            continue  # a lane holding lanes names no unit itself
        if name not in unit_keys:
            known = ", ".join(sorted(unit_keys)) or "none yet"
            problems.append(problem(src.name, lane.get("id"), lane.sourceline,
                                     f"lane '{name}' does not name a unit (known units: {known})"))


def executable_processes(src: SourceFile) -> list:
    return [p for p in src.root.iter(_bpmn("process")) if p.get("isExecutable", "false").lower() == "true"]


def _lane_of(process: etree._Element, element_id: str) -> str | None:
    for lane in process.iter(_bpmn("lane")):
        for ref in lane.findall(_bpmn("flowNodeRef")):
            if (ref.text or "").strip() == element_id:
                return lane.get("name")
    return None


def named_forms(process: etree._Element) -> list[tuple[str, etree._Element]]:
    """(form key, element) for every element that names a form: user tasks, start and message events.

    A Camunda formKey (`embedded:app:forms/leave.html`) names the form `leave`; an element with
    camunda:formData names the form generated from it (engine.bpmn.camunda7).
    """
    found = []
    for node in process.iter():
        if isinstance(node.tag, str) and (node.get(_FORM_KEY) or camunda7.form_data(node) is not None):
            key = camunda7.form_key_of(node)
            if key:
                found.append((key, node))
    return found


def _check_forms(src: SourceFile, process: etree._Element, forms: FormSources, problems: list,
                 unit_keys: set[str] | None = None) -> None:
    """Each form a process names must be found (upload, folders, forms dir) and valid: it goes into the version.
    A `staff` field must name a unit that exists (its choices are that unit's staff)."""
    for form_key, node in named_forms(process):
        try:
            form = forms.load(form_key)
        except Invalid as exc:
            problems.append(problem(src.name, node.get("id"), node.sourceline, exc.message))
            continue
        for fld in getattr(form, "fields", ()):
            if fld.type == "staff" and unit_keys is not None and fld.unit not in unit_keys:
                problems.append(problem(src.name, node.get("id"), node.sourceline,
                                        f"form '{form_key}': staff field '{fld.name}' names unit '{fld.unit}', "
                                        f"which does not exist (known units: {', '.join(sorted(unit_keys))})"))


def _check_user_tasks(src: SourceFile, process: etree._Element, unit_keys: set[str], problems: list) -> None:
    """Every user task lands in one unit's inbox: its lane's, or (Camunda 7) the unit its candidateGroups names.

    A lane and candidateGroups that both name a unit must agree: the lane decides, and a diagram that
    says two things is refused rather than read one way.
    """
    has_lanes = process.find(f".//{_bpmn('lane')}") is not None
    for task in process.iter(_bpmn("userTask"), _bpmn("manualTask")):
        lane = _lane_of(process, task.get("id")) or _in_subprocess_lane(process, task)
        groups = task.get(f"{{{CAMUNDA_NS}}}candidateGroups")
        group = camunda7.candidate_group(task)
        where = (src.name, task.get("id"), task.sourceline)
        if group is not None and group not in unit_keys:
            known = ", ".join(sorted(unit_keys)) or "none yet"
            problems.append(problem(*where, f"candidateGroups '{group}' does not name a unit (known units: {known})"))
        if group is not None and lane is not None and group != lane:
            problems.append(problem(*where, f"the task is in lane '{lane}' but its candidateGroups names '{group}': "
                                            "make them agree (the lane is the unit)"))
        if lane is not None or groups is not None:
            continue  # a malformed candidateGroups is refused by engine.bpmn.camunda7_checks
        if has_lanes:
            problems.append(problem(*where, "this task is in no lane, so no unit would receive it"))
        else:
            problems.append(problem(*where, "the process has no lanes; put each user task in the lane of the unit "
                                            "that does it (or, as in Camunda 7, name the unit in candidateGroups)"))


def _in_subprocess_lane(process: etree._Element, task: etree._Element) -> str | None:
    """A task inside an embedded subprocess belongs to the subprocess's lane."""
    parent = task.getparent()
    while parent is not None and parent is not process:
        if etree.QName(parent).localname in ("subProcess", "transaction", "adHocSubProcess"):
            lane = _lane_of(process, parent.get("id"))
            if lane is not None:
                return lane
        parent = parent.getparent()
    return None


def start_form_key(process: etree._Element) -> str | None:
    for start in process.findall(_bpmn("startEvent")):
        key = camunda7.form_key_of(start)
        if key:
            return key
    return None


def called_elements(process: etree._Element) -> list[tuple[str, etree._Element]]:
    return [(c.get("calledElement") or "", c) for c in process.iter(_bpmn("callActivity"))]


def library_problem(file_name: str, exc: Exception, sources: Sequence[SourceFile] = ()) -> dict:
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
    return problem(file_name, element, line, message)


def _line_of(sources: Sequence[SourceFile], file_name: str, element_id: str | None) -> int | None:
    for src in sources:
        if src.name == file_name and element_id:
            for node in src.root.iter():
                if isinstance(node.tag, str) and node.get("id") == element_id:
                    return node.sourceline
    return None




def _camunda_properties(node: etree._Element) -> dict[str, tuple[str, int]]:
    """{name: (value, line)} of a node's own camunda:properties."""
    found: dict[str, tuple[str, int]] = {}
    ext = node.find(_bpmn("extensionElements"))
    if ext is None:
        return found
    for prop in ext.iter(f"{{{CAMUNDA_NS}}}property"):
        found[prop.get("name") or ""] = (prop.get("value") or "", prop.sourceline)
    return found


def _check_payload(src: SourceFile, node: etree._Element, value: str, line: int, problems: list) -> None:
    """`payload` on a message throw (or message end) event: the case-data fields the message carries."""
    throws = etree.QName(node).localname in ("intermediateThrowEvent", "endEvent")
    if not throws or node.find(f"{{{BPMN_NS}}}messageEventDefinition") is None:
        problems.append(problem(src.name, node.get("id"), line, "payload belongs on a message throw or end event"))
        return
    names = [name.strip() for name in value.split(",")]
    bad = [name for name in names if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)]
    if not value.strip() or bad:
        problems.append(problem(src.name, node.get("id"), line, "payload must list case-data field names "
                                f"separated by commas, e.g. 'kategori, problemomraader' (got '{value}')"))


# Who within the task's unit works it; no audience means every caseworker and team lead of the unit.
AUDIENCES = ("teamlead",)


def _check_properties(src: SourceFile, named_deadlines: dict[str, Rule], problems: list) -> None:
    """The properties Tovholder reads: `deadline` and `audience` on user tasks, `correlation_key` on catch events."""
    for node in src.root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS:
            continue
        props = _camunda_properties(node)
        if "deadline" in props:
            value, line = props["deadline"]
            if etree.QName(node).localname not in ("userTask", "manualTask"):
                problems.append(problem(src.name, node.get("id"), line,
                                        "a deadline belongs on a user task (draw a timer event for other waits)"))
            else:
                try:
                    parse_rule(value, named_deadlines)
                except DeadlineError as exc:
                    problems.append(problem(src.name, node.get("id"), line, f"deadline: {exc}"))
        if "audience" in props:
            value, line = props["audience"]
            if etree.QName(node).localname != "userTask":
                problems.append(problem(src.name, node.get("id"), line, "audience belongs on a user task"))
            elif value not in AUDIENCES:
                problems.append(problem(src.name, node.get("id"), line,
                                        f"audience must be one of: {', '.join(AUDIENCES)} (got '{value}')"))
        if "payload" in props:
            _check_payload(src, node, *props["payload"], problems)
        if "correlation_key" in props:
            value, line = props["correlation_key"]
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
                problems.append(problem(src.name, node.get("id"), line,
                                        "correlation_key must name a field of the case data"))


def _check_event_gateways(src: SourceFile, problems: list) -> None:
    """At most one timer behind an event-based gateway.

    SpiffWorkflow 3.2.0 keeps one due time per gateway: with two timers, the
    one whose flow comes first decides, so a 1-day timer drawn after a 5-day
    one would fire after 5 days. Refused rather than silently late.
    """
    flows: dict[str | None, list[str | None]] = {}
    for flow in src.root.iter(_bpmn("sequenceFlow")):
        flows.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    nodes = {n.get("id"): n for n in src.root.iter() if isinstance(n.tag, str) and n.get("id")}
    for gateway in src.root.iter(_bpmn("eventBasedGateway")):
        timers = [t for t in flows.get(gateway.get("id"), [])
                  if t is not None and t in nodes and nodes[t].find(_bpmn("timerEventDefinition")) is not None]
        if len(timers) > 1:
            problems.append(problem(src.name, gateway.get("id"), gateway.sourceline,
                                    f"an event-based gateway may wait for one timer only (found {', '.join(timers)}): "
                                    "keep the earliest, or put the later one on a task as a boundary timer"))


def check_bpmn(src: SourceFile, *, unit_keys: set[str], forms: FormSources, named_deadlines: dict[str, Rule],
               problems: list) -> None:
    """`forms` finds the forms the diagram names (engine.form_sources.FormSources: `load(key)`)."""
    _check_ids(src, problems)
    _check_references(src, problems)
    _check_camunda_extensions(src, problems)
    _check_expressions(src, named_deadlines, problems)
    _check_lanes(src, unit_keys, problems)
    _check_properties(src, named_deadlines, problems)
    _check_event_gateways(src, problems)
    _check_service_tasks(src, problems)
    for process in executable_processes(src):
        _check_user_tasks(src, process, unit_keys, problems)
        _check_forms(src, process, forms, problems, unit_keys)


def _check_camunda_extensions(src: SourceFile, problems: list) -> None:
    """Every camunda: attribute and extension element is honoured or refused by name (engine.bpmn.camunda7_checks)."""
    for finding in camunda7_checks.findings(src.root):
        problems.append(problem(src.name, finding.element, finding.line, finding.message))
    for node in src.root.iter(_bpmn("userTask")):
        if node.get(f"{{{CAMUNDA_NS}}}dueDate") and "deadline" in _camunda_properties(node):
            problems.append(problem(src.name, node.get("id"), node.sourceline, "the task has both "
                                    "camunda:dueDate and a deadline property: keep one"))
    for node in src.root.iter(_bpmn("userTask"), _bpmn("startEvent")):
        if (node.get(_FORM_KEY) or "").strip() and camunda7.form_data(node) is not None:
            problems.append(problem(src.name, node.get("id"), node.sourceline, "the element has both "
                                    "camunda:formKey and camunda:formData: keep one (formKey names a form file)"))


_TOPIC = re.compile(r"[a-z][a-z0-9_]{0,199}")
_CAMUNDA7_TOPIC = re.compile(r"[A-Za-z][A-Za-z0-9_.:\-]{0,199}")  # as Camunda 7 diagrams name them
_JAVA_ATTRIBUTES = ("class", "expression", "delegateExpression")


def _check_service_tasks(src: SourceFile, problems: list) -> None:
    """A service task names the topic a worker takes it by (engine.service_spec); nothing else runs it."""
    topic_rule = _CAMUNDA7_TOPIC if src.is_camunda7 else _TOPIC
    for node in src.root.iter(_bpmn("serviceTask")):
        attribute = (node.get(f"{{{CAMUNDA_NS}}}topic") or "").strip()
        prop, prop_line = _camunda_properties(node).get("topic", ("", node.sourceline))
        prop = prop.strip()
        kind = node.get(f"{{{CAMUNDA_NS}}}type")
        where = (src.name, node.get("id"))
        java = [a for a in _JAVA_ATTRIBUTES if node.get(f"{{{CAMUNDA_NS}}}{a}")]
        if java:
            problems.append(problem(*where, node.sourceline, f"camunda:{java[0]} is not supported: a service task "
                                    "here runs no Java class or expression: set Implementation to External and "
                                    "name a topic"))
        elif kind not in (None, "external"):
            problems.append(problem(*where, node.sourceline, f"service task type '{kind}' is not supported: "
                                    "set Implementation to External and name a topic"))
        if not attribute and not prop:
            if not java:
                problems.append(problem(*where, node.sourceline, "this service task names no topic: set "
                                        "Implementation to External and Topic to e.g. brev_til_borger"))
        elif attribute and prop and attribute != prop:
            problems.append(problem(*where, prop_line, f"topic '{attribute}' and property topic '{prop}' differ"))
        elif not topic_rule.fullmatch(attribute or prop):
            rule = ("letters, digits, _, -, . and :" if src.is_camunda7 else "lower-case letters, digits and _")
            problems.append(problem(*where, node.sourceline if attribute else prop_line,
                                    f"topic '{attribute or prop}' must be {rule}"))
        retries, line = _camunda_properties(node).get("retries", ("3", node.sourceline))
        if not retries.strip().isdigit() or int(retries) > 100:
            problems.append(problem(*where, line, f"retries must be a whole number from 0 to 100 (got '{retries}')"))


def message_start_names(src: SourceFile, process: etree._Element) -> list[str]:
    """Names of the messages that start this process (top-level message start events)."""
    names = {m.get("id"): m.get("name") for m in src.root.iter(_bpmn("message"))}
    found = []
    for start in process.findall(_bpmn("startEvent")):
        for definition in start.findall(_bpmn("messageEventDefinition")):
            name = names.get(definition.get("messageRef"))
            if name:
                found.append(name)
    return sorted(set(found))


# -- DMN ------------------------------------------------------------------------------------------

SUPPORTED_HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")


def check_dmn(src: SourceFile, problems: list) -> None:
    """Refuse what SpiffWorkflow would evaluate wrongly rather than run it.

    Hit policies: UNIQUE (checked at run time: two matching rules are an
    error, see engine.bpmn.patches), FIRST and COLLECT without aggregation. Cells are
    Python expressions, not FEEL: each must compile, alone or after an input.
    Every input names the field it reads (a Python expression) and every
    output the field its result is stored in.
    """
    ns = etree.QName(src.root).namespace
    for table in src.root.iter(f"{{{ns}}}decisionTable"):
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        owner = table.getparent().get("id") if table.getparent() is not None else None
        if policy not in SUPPORTED_HIT_POLICIES:
            problems.append(problem(src.name, owner, table.sourceline,
                                    f"hit policy {policy} is not supported (use UNIQUE, FIRST or COLLECT)"))
        if table.get("aggregation"):
            problems.append(problem(src.name, owner, table.sourceline,
                                    f"COLLECT with aggregation {table.get('aggregation')} is not supported; "
                                    "collect the list and sum it in a script task"))
        for column in table.findall(f"{{{ns}}}input"):
            expression = column.find(f"{{{ns}}}inputExpression/{{{ns}}}text")
            if expression is None or not (expression.text or "").strip():
                problems.append(problem(src.name, column.get("id") or owner, column.sourceline,
                                        f"input '{column.get('label') or column.get('id')}' has no expression: "
                                        "name the case's field it reads"))
            elif not _compiles(expression.text.strip()):
                problems.append(problem(src.name, column.get("id") or owner, column.sourceline,
                                        f"input expression '{expression.text.strip()}' is not a Python expression"))
        for column in table.findall(f"{{{ns}}}output"):
            if not (column.get("name") or "").strip():
                problems.append(problem(src.name, column.get("id") or owner, column.sourceline,
                                        f"output '{column.get('label') or column.get('id')}' has no name: "
                                        "the case's field the result is stored in"))
        for entry in table.iter(f"{{{ns}}}inputEntry", f"{{{ns}}}outputEntry"):
            text_node = entry.find(f"{{{ns}}}text")
            text = (text_node.text or "").strip() if text_node is not None else ""
            if not text:
                continue
            if text == "-":
                problems.append(problem(src.name, entry.get("id") or owner, entry.sourceline,
                                        "'-' is FEEL for 'any'; leave the cell empty instead"))
                continue
            is_input = etree.QName(entry).localname == "inputEntry"
            if not _compiles(text) and not (is_input and _compiles(f"v {text}")):
                problems.append(problem(src.name, entry.get("id") or owner, entry.sourceline,
                                        f"cell '{text}' is not a Python expression (DMN cells here are Python, "
                                        "not FEEL: write \"jobparat\", < 8, in [1, 2])"))


def _compiles(text: str) -> bool:
    try:
        compile(text, "<dmn>", "eval")
        return True
    except SyntaxError:
        return False
