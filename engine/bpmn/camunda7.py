"""Diagrams saved by Camunda Modeler for Camunda Platform 7: what their attributes mean in Tovholder.

Read by the parser (engine.bpmn.parser) and by the deploy checks
(engine.validation, engine.bpmn.camunda7_checks), so both see one meaning:

- `is_camunda7(root)`: the file says it was drawn for Camunda Platform 7
  (`modeler:executionPlatform="Camunda Platform"`) or uses `${…}`.
- Expressions by place: a condition, a timer value, an attribute value
  (assignee, dueDate, …) as the sandboxed Python that runs. `${…}` is JUEL
  (engine.bpmn.juel) everywhere; a bare ISO value (`P14D`) in a timer of a
  Camunda 7 diagram is text, as Camunda reads it; anything else is
  Tovholder's own Python, as before (so a Tovholder diagram saved by
  Camunda Modeler 5 keeps its meaning).
- Forms: `camunda:formKey` names a Tovholder form (`embedded:app:forms/leave.html`
  → `leave`); `camunda:formData` becomes a form of the version, generated here.
- Units: `camunda:candidateGroups` names the unit of a task without a lane.

Pure functions over lxml elements; no SpiffWorkflow, no database.
"""
from __future__ import annotations

import json
import re

from lxml import etree

from . import juel

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MODELER_NS = "http://camunda.org/schema/modeler/1.0"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
PLATFORM_7 = "Camunda Platform"
PLATFORM_8 = "Camunda Cloud"

# The extension keys the parser writes into a task spec's `extensions` (beside camunda:properties).
ASSIGNEE = "tovholder:assignee"
CANDIDATE_USERS = "tovholder:candidate_users"
DUE_DATE = "tovholder:due_date"
FOLLOW_UP_DATE = "tovholder:follow_up_date"
PRIORITY = "tovholder:priority"
INITIATOR = "tovholder:initiator"
INPUTS = "tovholder:inputs"
OUTPUTS = "tovholder:outputs"
CALL_IN = "tovholder:call_in"
CALL_OUT = "tovholder:call_out"

_FORM_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")  # engine.forms' rule for form keys
_NUMBER = r"\d+(?:[.,]\d+)?"
_DURATION = rf"P(?:{_NUMBER}[YMWD])*(?:T(?:{_NUMBER}[HMS])+)?"
_MOMENT = r"\d{4}-\d\d-\d\d(?:T\d\d(?::\d\d(?::\d\d(?:[.,]\d+)?)?)?(?:Z|[+-]\d\d(?::?\d\d)?)?)?"
_ISO_CHARACTERS = re.compile(r"[A-Z0-9:.,+\-/]+")  # no Python a Tovholder diagram writes looks like this
_ISO_VALUE = re.compile(rf"-?{_DURATION}|{_MOMENT}|R\d*/(?:{_DURATION}|{_MOMENT})(?:/(?:{_DURATION}|{_MOMENT}))?")


def camunda(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


def bpmn(name: str) -> str:
    return f"{{{BPMN_NS}}}{name}"


def local_name(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def platform(root: etree._Element) -> str | None:
    """What the modeler says the diagram was drawn for ("Camunda Platform" is 7, "Camunda Cloud" is 8)."""
    return root.get(f"{{{MODELER_NS}}}executionPlatform")


def is_camunda7(root: etree._Element) -> bool:
    if platform(root) == PLATFORM_7:
        return True
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if juel.is_expression(node.text) or any(juel.is_expression(v) for v in node.attrib.values()):
            return True
    return False


# -- expressions by place ---------------------------------------------------------------------------

def condition_python(text: str | None) -> str | None:
    """A sequence flow's condition as it runs: JUEL translated, Tovholder's Python as it is."""
    if text is None:
        return None
    return juel.translate(text) if juel.is_expression(text) else text


def is_iso_literal(text: str) -> bool:
    return _ISO_VALUE.fullmatch(text.strip()) is not None


def timer_python(text: str | None, camunda7: bool) -> str | None:
    """A timer value as it runs: JUEL translated; a bare ISO value of a Camunda 7 diagram as text."""
    if text is None:
        return None
    if juel.is_expression(text):
        return juel.translate(text)
    if camunda7 and (is_iso_literal(text) or _ISO_CHARACTERS.fullmatch(text.strip())):
        return repr(text.strip())  # text, as Camunda reads it; engine.timer_rules says what is wrong with it
    return text


def value_python(text: str | None) -> str | None:
    """An attribute value (assignee, dueDate, an input parameter): JUEL translated, anything else is text."""
    if text is None:
        return None
    return juel.translate(text) if juel.is_expression(text) else repr(text.strip())


def names(text: str | None) -> list[str]:
    """A comma-separated list (candidateGroups, candidateUsers)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def candidate_group(node: etree._Element) -> str | None:
    """The unit `camunda:candidateGroups` names, when it names exactly one (camunda7_checks refuses the rest)."""
    groups = names(node.get(camunda("candidateGroups")))
    return groups[0] if len(groups) == 1 and not juel.is_expression(groups[0]) else None


# -- forms --------------------------------------------------------------------------------------------

def mapped_form_key(value: str) -> str:
    """The Tovholder form a Camunda formKey names: `embedded:app:forms/leave.html` → `leave`.

    A plain key (`visitation`) is itself. The result may still not be a
    valid key; camunda7_checks refuses it then.
    """
    key = value.strip().rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    for suffix in (".html", ".htm", ".form", ".json"):
        if key.lower().endswith(suffix):
            return key[: -len(suffix)]
    return key


def generated_form_key(node: etree._Element) -> str:
    """The key of the form made from an element's camunda:formData: process and element id."""
    process = next((p for p in node.iterancestors(bpmn("process"))), None)
    raw = f"{process.get('id') if process is not None else 'process'}__{node.get('id')}"
    return re.sub(r"[^A-Za-z0-9_\-]", "_", raw)[:200]


def form_data(node: etree._Element) -> etree._Element | None:
    ext = node.find(bpmn("extensionElements"))
    return ext.find(camunda("formData")) if ext is not None else None


def form_key_of(node: etree._Element) -> str | None:
    """The form an element names: its formKey (mapped), else the form generated from its formData."""
    key = node.get(camunda("formKey"))
    if key and key.strip():
        return mapped_form_key(key)
    if form_data(node) is not None:
        return generated_form_key(node)
    return None


_FIELD_TYPES = {"string": "text", "long": "number", "boolean": "boolean", "date": "date", "enum": "choice"}


def generated_form(node: etree._Element) -> str:
    """The JSON text of the Tovholder form that an element's camunda:formData describes.

    camunda7_checks has refused what does not translate (other types, readonly,
    defaultValue, custom validators), so everything here has a meaning.
    """
    data = form_data(node)
    if data is None:
        raise ValueError("generated_form is only called for elements with camunda:formData")
    fields = []
    for xml_field in data.findall(camunda("formField")):
        kind = _FIELD_TYPES.get(xml_field.get("type") or "string", "text")
        item: dict = {"name": xml_field.get("id"), "label": xml_field.get("label") or xml_field.get("id"),
                      "type": kind}
        validation = xml_field.find(camunda("validation"))
        for constraint in (validation.findall(camunda("constraint")) if validation is not None else []):
            name, config = constraint.get("name"), (constraint.get("config") or "").strip()
            if name == "required":
                item["required"] = config.lower() != "false"
            elif name == "maxlength":
                item["max"] = int(config)
            elif name == "minlength":
                item["pattern"] = f"(?s).{{{int(config)},}}"
            elif name in ("min", "max"):
                item[name] = float(config) if "." in config else int(config)
        if kind == "choice":
            item["choices"] = [{"value": v.get("id"), "label": v.get("name") or v.get("id")}
                               for v in xml_field.findall(camunda("value"))]
        fields.append(item)
    return json.dumps({"title": node.get("name") or node.get("id"), "fields": fields}, ensure_ascii=False, indent=2)


def generated_forms(root: etree._Element) -> dict[str, tuple[str, etree._Element]]:
    """{key: (form JSON, element)} for every element of the document with camunda:formData and no formKey."""
    found = {}
    for node in root.iter(bpmn("userTask"), bpmn("startEvent")):
        if form_data(node) is not None and not (node.get(camunda("formKey")) or "").strip():
            found[generated_form_key(node)] = (generated_form(node), node)
    return found


# -- variables in and out --------------------------------------------------------------------------

def _parameters(node: etree._Element, tag: str) -> list[list]:
    """[[name, python or None]] of camunda:inputOutput's inputParameter/outputParameter elements."""
    ext = node.find(bpmn("extensionElements"))
    io = ext.find(camunda("inputOutput")) if ext is not None else None
    if io is None:
        return []
    found = []
    for parameter in io.findall(camunda(tag)):
        text = (parameter.text or "").strip()
        found.append([parameter.get("name"), value_python(text) if text else None])
    return found


def input_output(node: etree._Element) -> tuple[list[list], list[list]]:
    return _parameters(node, "inputParameter"), _parameters(node, "outputParameter")


def call_mappings(node: etree._Element, tag: str) -> list[dict]:
    """camunda:in / camunda:out of a call activity: [{"all": True}] or [{"target", "source"|"expression"}].

    `businessKey` (the modeler's "Business key" box) is left out: a called
    process runs inside the same case and so has its business key anyway.
    """
    ext = node.find(bpmn("extensionElements"))
    found: list[dict] = []
    for mapping in (ext.findall(camunda(tag)) if ext is not None else []):
        if mapping.get("variables") == "all":
            found.append({"all": True})
        elif mapping.get("sourceExpression") is not None:
            found.append({"target": mapping.get("target"),
                          "expression": value_python(mapping.get("sourceExpression"))})
        elif mapping.get("source") is not None:
            found.append({"target": mapping.get("target") or mapping.get("source"), "source": mapping.get("source")})
    return found


def has_call_mappings(node: etree._Element) -> bool:
    ext = node.find(bpmn("extensionElements"))
    return ext is not None and (ext.find(camunda("in")) is not None or ext.find(camunda("out")) is not None)
