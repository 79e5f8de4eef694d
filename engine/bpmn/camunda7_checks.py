"""What of Camunda 7's extensions Tovholder honours, and a refusal, by name, for everything else.

Every `camunda:` attribute and extension element of a diagram is either
understood (engine.bpmn.camunda7 says what it means) or refused here, with
the element and line: a diagram never runs with part of it silently
ignored. Applied to every BPMN file at deploy (engine.validation) and by
`tovholder import-check`. The checks that need the database (which units
exist) or the rest of the deploy (lanes, forms, topics, expressions that
compile) are engine.validation's. Pure: lxml in, findings out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from . import juel
from .camunda7 import (
    _FIELD_TYPES,
    _FORM_KEY,
    BPMN_NS,
    CAMUNDA_NS,
    PLATFORM_8,
    ZEEBE_NS,
    bpmn,
    camunda,
    is_iso_literal,
    local_name,
    mapped_form_key,
    names,
    platform,
)


@dataclass(frozen=True)
class Finding:
    element: str | None
    line: int | None
    message: str


ACTIVITIES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "transaction"}
_ANYWHERE = {"exclusive"}  # job exclusivity: meaningless without asyncBefore/asyncAfter, which are refused
# The camunda: attributes each element may carry; their values are checked below.
_ALLOWED = {
    "process": {"historyTimeToLive", "versionTag", "isStartableInTasklist"},
    "startEvent": {"formKey", "initiator"},
    "userTask": {"formKey", "assignee", "candidateGroups", "candidateUsers", "dueDate", "followUpDate", "priority"},
    # class, expression and delegateExpression are refused by engine.validation's service-task check
    "serviceTask": {"type", "topic", "class", "expression", "delegateExpression"},
    "businessRuleTask": {"decisionRef", "decisionRefBinding"},
    "callActivity": {"calledElementBinding"},
    "multiInstanceLoopCharacteristics": {"collection", "elementVariable"},
    "intermediateCatchEvent": {"formKey"},
    "boundaryEvent": {"formKey"},
}
_JAVA = ("Java code does not run in Tovholder: draw a service task with Implementation External and a topic, "
         "and let a worker do the work")
_ASYNC = ("Tovholder has no job executor: every step already commits in its own transaction, and a service task "
          "waits for its worker; remove the asynchronous continuation")
_REASONS = {
    "asyncBefore": _ASYNC, "asyncAfter": _ASYNC, "async": _ASYNC, "class": _JAVA, "delegateExpression": _JAVA, "expression": _JAVA,
    "formHandlerClass": _JAVA, "variableMappingClass": _JAVA, "variableMappingDelegateExpression": _JAVA,
    "resultVariable": "results are not stored under a variable here: a script's variables and a decision's outputs "
                      "go into the case data themselves",
    "mapDecisionResult": "a decision's outputs go into the case data as they are",
    "jobPriority": "there are no jobs to prioritise", "taskPriority": "external tasks are fetched oldest first",
    "failedJobRetryTimeCycle": "a service task's retries are the property 'retries'",
    "candidateStarterGroups": "who may start a case follows the user's role and units",
    "candidateStarterUsers": "who may start a case follows the user's role and units",
    "calledElementVersion": "a call activity calls the version of the process deployed with it",
    "calledElementVersionTag": "a call activity calls the version of the process deployed with it",
    "calledElementTenantId": "there are no tenants", "decisionRefTenantId": "there are no tenants",
    "decisionRefVersion": "a decision is the one deployed with the process",
    "decisionRefVersionTag": "a decision is the one deployed with the process",
    "caseRef": "CMMN cases do not exist here", "caseBinding": "CMMN cases do not exist here",
    "errorCodeVariable": "a caught error's code is not stored in a variable here",
    "errorMessageVariable": "a caught error's message is not stored in a variable here",
    "escalationCodeVariable": "a caught escalation's code is not stored in a variable here",
    "variableName": "conditional events are not supported", "variableEvents": "conditional events are not supported",
    "topic": "only a service task (Implementation: External) names a topic",
    "formRef": "a linked Camunda Form does not run here: name a Tovholder form (a .json file) with camunda:formKey",
    "formRefBinding": "a linked Camunda Form does not run here: name a Tovholder form with camunda:formKey",
    "type": "only a service task has an implementation type",
}
_EXTENSION_REASONS = {
    "taskListener": "task listeners (Java, scripts or expressions on task events) do not run here; draw the work "
                    "as a service or script task of its own",
    "executionListener": "execution listeners do not run here; draw the work as a service or script task of its own",
    "connector": "Camunda Connect is not available: use an external service task and a worker",
    "field": "field injection feeds Java delegates, which do not run here",
    "failedJobRetryTimeCycle": "a service task's retries are the property 'retries'",
    "errorEventDefinition": "error events thrown by an external task's result are not supported",
    "potentialStarter": "who may start a case follows the user's role and units",
}
# Places where a ${…} expression is translated (engine.bpmn.camunda7); anywhere else it is refused.
_EXPRESSION_TEXTS = {"conditionExpression", "timeDuration", "timeDate", "timeCycle", "inputParameter",
                     "outputParameter", "documentation", "text", "script"}
_EXPRESSION_ATTRIBUTES = {"assignee", "dueDate", "followUpDate", "priority", "sourceExpression"}
_CONSTRAINTS = {"required", "minlength", "maxlength", "min", "max"}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,199}")
_BUSINESS_KEY = re.compile(r"[#$]\{\s*execution\.processBusinessKey\s*\}")


def findings(root: etree._Element) -> list[Finding]:
    """Everything in the document that Tovholder would not honour, each with element and line."""
    found: list[Finding] = []
    if platform(root) == PLATFORM_8 or any(isinstance(n.tag, str) and n.tag.startswith(f"{{{ZEEBE_NS}}}")
                                           for n in root.iter()):
        return [Finding(root.get("id"), root.sourceline, "this diagram is drawn for Camunda 8 (Zeebe, FEEL); "
                        "Tovholder runs Camunda 7 diagrams: in Camunda Modeler choose Camunda Platform 7")]
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        namespace = node.tag[1:].split("}")[0] if node.tag.startswith("{") else ""
        if namespace == BPMN_NS:
            _attributes(node, found)
            _expression_places(node, found)
        elif namespace == CAMUNDA_NS:
            _extension(node, found)
    _script_formats(root, found)
    _conditional_flows(root, found)
    return found


def _owner(node: etree._Element | None) -> etree._Element | None:
    """The nearest enclosing BPMN element with an id: what a finding names."""
    while node is not None and not (node.get("id") and node.tag.startswith(f"{{{BPMN_NS}}}")):
        node = node.getparent()
    return node


def _add(found: list, node: etree._Element, message: str, line: int | None = None) -> None:
    owner = _owner(node)
    found.append(Finding(owner.get("id") if owner is not None else None, line or node.sourceline, message))


def _attributes(node: etree._Element, found: list) -> None:
    tag = local_name(node)
    allowed = _ALLOWED.get(tag, set()) | _ANYWHERE
    for key, value in node.attrib.items():
        if not key.startswith(f"{{{CAMUNDA_NS}}}"):
            continue
        name = key.split("}")[1]
        if name not in allowed:
            reason = _REASONS.get(name) or (
                "it belongs on a user task, start event or message catch event" if name == "formKey" else
                "it belongs on a start event" if name == "initiator" else
                "it belongs on a user task" if name in _ALLOWED["userTask"] else
                "Tovholder does not read it")
            _add(found, node, f"camunda:{name} on {tag} is not supported: {reason}")
            continue
        problem = _value_problem(tag, name, value)
        if problem:
            _add(found, node, f"camunda:{name}=\"{juel.shown(value)}\": {problem}")


def _value_problem(tag: str, name: str, value: str) -> str | None:
    if name in _EXPRESSION_ATTRIBUTES and juel.is_expression(value):
        try:
            juel.translate(value)
        except juel.JuelError as exc:
            return str(exc)
        return None
    if name == "candidateGroups":
        groups = names(value)
        if juel.is_expression(value):
            return "the unit must be named in the diagram (a ${…} expression decides it only when a case runs)"
        if len(groups) != 1:
            return "a task goes to one unit here: name exactly one (the unit key)"
    if name == "candidateUsers" and juel.is_expression(value):
        return "candidate users must be named in the diagram, not computed"
    if name == "formKey":
        key = mapped_form_key(value)
        if juel.is_expression(value) or not _FORM_KEY.match(key):
            return (f"names no Tovholder form (read as '{key}'); a form key is letters, digits, _ or -, e.g. "
                    "'leave' or 'embedded:app:forms/leave.html'")
    if name == "initiator" and not _NAME.fullmatch(value):
        return "the initiator variable must be a field name (letters, digits and _)"
    if name == "dueDate" or name == "followUpDate":
        if not is_iso_literal(value) or value.strip().startswith(("R", "-")):
            return "a date is ISO 8601 (2026-05-01, 2026-05-01T12:00:00+02:00), a duration (P14D) or ${…}"
    if name == "priority" and not re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        return "a priority is a whole number or ${…}"
    if name == "isStartableInTasklist" and value != "true":
        return "every process can be started by the staff its role allows"
    if name in ("calledElementBinding", "decisionRefBinding") and value not in ("latest", "deployment"):
        return "Tovholder binds the version deployed together with the caller ('deployment', or 'latest' at deploy)"
    if name in ("collection", "elementVariable") and juel.is_expression(value):
        return "write the name of the case-data field, without ${…}"
    return None


def _expression_places(node: etree._Element, found: list) -> None:
    tag = local_name(node)
    if juel.is_expression(node.text) and tag not in _EXPRESSION_TEXTS:
        _add(found, node, f"a ${{…}} expression in {tag} is not supported (it would run as Python); "
                          f"found {juel.shown(node.text or '')}")
    called = node.get("calledElement")
    if tag == "callActivity" and juel.is_expression(called):
        _add(found, node, "calledElement must name the process; a ${…} expression is not supported")
    if tag == "conditionExpression":
        language = (node.get("language") or "").strip().lower()
        if language and language not in ("python", "juel"):
            _add(found, node, f"a condition in {language} is a script, which does not run here; write it as "
                              "${…} or as a Python expression")


# Extension elements read, and the elements they may sit on (None: any).
_UNDERSTOOD: dict[str, set[str] | None] = {"properties": None, "formData": {"userTask", "startEvent"},
                                           "inputOutput": ACTIVITIES, "in": {"callActivity"}, "out": {"callActivity"}}


def _understood(name: str, owner_tag: str) -> bool:
    if name not in _UNDERSTOOD:
        return False
    where = _UNDERSTOOD[name]
    return where is None or owner_tag in where


def _top_of(node: etree._Element | None) -> etree._Element | None:
    """The extension element directly under bpmn:extensionElements that holds this one (or itself)."""
    while node is not None:
        parent = node.getparent()
        if parent is None or local_name(parent) == "extensionElements":
            return node
        node = parent
    return None


def _extension(node: etree._Element, found: list) -> None:
    name, parent = local_name(node), node.getparent()
    parent_tag = local_name(parent) if parent is not None else ""
    owner = _owner(node)
    owner_tag = local_name(owner) if owner is not None else ""
    top = _top_of(node)
    if top is not node:
        if not _understood(local_name(top) if top is not None else "", owner_tag):
            return  # the element holding it is refused already
    if parent_tag == "extensionElements":
        _top_level_extension(node, name, owner_tag, found)
    elif name == "formField":
        _form_field(node, found)
    elif name == "constraint":
        constraint = node.get("name") or ""
        config = (node.get("config") or "").strip()
        if constraint not in _CONSTRAINTS:
            _add(found, node, f"the form constraint '{constraint}' is not supported (required, minlength, maxlength, "
                              "min and max are)")
        elif constraint in ("minlength", "maxlength") and not config.isdigit():
            _add(found, node, f"the form constraint {constraint} needs a whole number (got '{config}')")
        elif constraint in ("min", "max") and not re.fullmatch(r"-?\d+(\.\d+)?", config):
            _add(found, node, f"the form constraint {constraint} needs a number (got '{config}')")
    elif name in ("inputParameter", "outputParameter"):
        _parameter(node, name, found)
    elif name in ("list", "map", "script", "entry", "value") and parent_tag in (
            "inputParameter", "outputParameter", "entry", "list", "map"):
        if parent_tag in ("inputParameter", "outputParameter"):  # what is inside it is refused with it
            _add(found, node, f"camunda:{name} in an input/output parameter is not supported: give a plain value "
                              "or one ${…} expression")
    elif name in ("properties", "property") and parent_tag == "formField":
        _add(found, node, "properties of a form field are not supported")
    elif name in ("formField", "validation", "value", "property", "properties", "constraint"):
        return
    else:
        _add(found, node, f"camunda:{name} is not supported here")


def _top_level_extension(node: etree._Element, name: str, owner_tag: str, found: list) -> None:
    if name == "properties":
        for prop in node.findall(camunda("property")):
            if juel.is_expression(prop.get("value")):
                _add(found, prop, f"the property '{prop.get('name')}' is read as text: a ${{…}} expression is not "
                                  "supported in properties")
        return
    if name in ("in", "out") and owner_tag == "callActivity":
        _call_mapping(node, name, found)
        return
    if _understood(name, owner_tag):
        return
    reason = _EXTENSION_REASONS.get(name)
    if reason is None:
        where = {"formData": "a user task or start event", "inputOutput": "an activity (a task or call activity)",
                 "in": "a call activity", "out": "a call activity"}.get(name)
        reason = f"it belongs on {where}" if where else "Tovholder does not read it"
    _add(found, node, f"camunda:{name} on {owner_tag or 'this element'} is not supported: {reason}")


def _form_field(node: etree._Element, found: list) -> None:
    field_id = node.get("id") or ""
    kind = node.get("type") or "string"
    if not _FORM_KEY.match(field_id):
        _add(found, node, f"form field id '{field_id}' must be letters, digits, _ or -")
    if kind not in _FIELD_TYPES:
        _add(found, node, f"form field '{field_id}' has type '{kind}', which is not supported (string, long, "
                          "boolean, date and enum are)")
    if kind == "enum" and node.find(camunda("value")) is None:
        _add(found, node, f"form field '{field_id}' is an enum without values")
    for attribute in node.attrib:
        if attribute not in ("id", "label", "type"):
            what = "a default value is not filled in on Tovholder's forms" if attribute == "defaultValue" else (
                "Tovholder reads it not")
            _add(found, node, f"form field '{field_id}': {attribute} is not supported ({what})")


def _parameter(node: etree._Element, name: str, found: list) -> None:
    parameter = node.get("name") or ""
    if not _NAME.fullmatch(parameter):
        _add(found, node, f"the {name} name '{parameter}' must be a case-data field name (letters, digits and _)")
    text = (node.text or "").strip()
    if text and juel.is_expression(text):
        try:
            juel.translate(text)
        except juel.JuelError as exc:
            _add(found, node, f"{name} '{parameter}': {exc}")


def _call_mapping(node: etree._Element, name: str, found: list) -> None:
    attributes = set(node.attrib)
    if node.get("local") == "true":
        _add(found, node, f"camunda:{name} local=\"true\" is not supported: variables are passed to and from the "
                          "called process as a whole")
        attributes.discard("local")
    attributes.discard("local")
    business_key = node.get("businessKey")
    if business_key is not None:
        if not _BUSINESS_KEY.fullmatch(business_key.strip()) or name != "in":
            _add(found, node, "only the business key itself (#{execution.processBusinessKey}) can be passed: a "
                              "called process runs inside the same case")
        return
    if node.get("variables") is not None:
        if node.get("variables") != "all":
            _add(found, node, f"camunda:{name} variables=\"{node.get('variables')}\" is not supported ('all' is)")
        return
    source, expression, target = node.get("source"), node.get("sourceExpression"), node.get("target")
    for value in (source, target):
        if value is not None and not _NAME.fullmatch(value):
            _add(found, node, f"camunda:{name}: '{value}' must be a case-data field name (letters, digits and _)")
    if source is None and expression is None:
        _add(found, node, f"camunda:{name} names neither source nor sourceExpression")
    if expression is not None:
        if target is None:
            _add(found, node, f"camunda:{name} with a sourceExpression needs a target")
        try:
            juel.translate(expression) if juel.is_expression(expression) else None
        except juel.JuelError as exc:
            _add(found, node, f"camunda:{name}: {exc}")
    unknown = attributes - {"source", "sourceExpression", "target", "variables", "businessKey"}
    for attribute in sorted(unknown):
        _add(found, node, f"camunda:{name} {attribute} is not supported")


def _script_formats(root: etree._Element, found: list) -> None:
    for script in root.iter(bpmn("scriptTask")):
        language = (script.get("scriptFormat") or "python").strip().lower()
        if language not in ("python", "py"):
            _add(found, script, f"scriptFormat '{script.get('scriptFormat')}' is not supported: scripts here are "
                                "Python, run in a sandbox (docs/modelling.md, Scripts)")


def _conditional_flows(root: etree._Element, found: list) -> None:
    """A condition on a flow out of anything but an exclusive or inclusive gateway: the engine would ignore it."""
    kinds = {n.get("id"): local_name(n) for n in root.iter() if isinstance(n.tag, str) and n.get("id")}
    for flow in root.iter(bpmn("sequenceFlow")):
        condition = flow.find(bpmn("conditionExpression"))
        source_kind = kinds.get(flow.get("sourceRef"))
        if condition is not None and (condition.text or "").strip() and source_kind is not None and (
                source_kind not in ("exclusiveGateway", "inclusiveGateway")):
            _add(found, flow, f"a condition on a flow out of a {source_kind} is not supported (the flow would "
                              "always be taken): draw an exclusive gateway after it and put the condition there")
