"""What changed in one element, in words a process owner reads: Danish first, the plain English term after.

engine.diff finds the changed attributes (SpiffWorkflow's SpecDiff compares
the serialized task specs key by key); this module turns each changed key of
the two serialized specs into sentences such as
`frist (deadline): "visitation" → "P5D"`. Pure functions, no database.
"""
from __future__ import annotations

from .forms import Form, FormField

INTERNAL_SUFFIXES = (".BoundaryEventSplit", ".BoundaryEventJoin", ".EndJoin")
# Keys that follow from others or say where, not what: the successor walk in engine.diff covers the flow.
IGNORED_KEYS = {"inputs", "outputs", "description", "name", "bpmn_id", "lookahead", "typename", "choice",
                "split_task", "threshold", "file"}

# The library's task spec classes: the BPMN element they come from, and its Danish name.
SPEC_TYPES = {
    "UserTask": ("userTask", "brugeropgave"),
    "ManualTask": ("manualTask", "manuel opgave"),
    "NoneTask": ("task", "opgave"),
    "ScriptTask": ("scriptTask", "scriptopgave"),
    "ServiceTask": ("serviceTask", "serviceopgave"),
    "TopicServiceTask": ("serviceTask", "serviceopgave"),
    "BusinessRuleTask": ("businessRuleTask", "beslutningstabel"),
    "CallActivity": ("callActivity", "kaldt proces"),
    "SubWorkflowTask": ("subProcess", "delproces"),
    "EventSubprocess": ("subProcess", "hændelsesdelproces"),
    "TransactionSubprocess": ("transaction", "transaktion"),
    "ExclusiveGateway": ("exclusiveGateway", "eksklusiv gateway"),
    "InclusiveGateway": ("inclusiveGateway", "inklusiv gateway"),
    "ParallelGateway": ("parallelGateway", "parallel gateway"),
    "EventBasedGateway": ("eventBasedGateway", "hændelsesgateway"),
    "StartEvent": ("startEvent", "start"),
    "EndEvent": ("endEvent", "slut"),
    "IntermediateCatchEvent": ("intermediateCatchEvent", "ventehændelse"),
    "IntermediateThrowEvent": ("intermediateThrowEvent", "sendehændelse"),
    "BoundaryEvent": ("boundaryEvent", "randhændelse"),
    "SendTask": ("sendTask", "sendeopgave"),
    "ReceiveTask": ("receiveTask", "modtageopgave"),
}
BPMN_TYPES = {name: tag for name, (tag, _word) in SPEC_TYPES.items()}
TYPE_WORDS = {name: word for name, (_tag, word) in SPEC_TYPES.items()}


def spec_type(typename: str) -> str:
    """The plain spec type of a Camunda 7 variant (IOUserTask, MappedCallActivity: engine.bpmn.camunda7_specs)."""
    return typename.removeprefix("IO").removeprefix("Mapped")


def type_word(typename: object) -> str:
    return TYPE_WORDS.get(spec_type(typename), typename) if isinstance(typename, str) else str(typename)


PROPERTY_WORDS = {
    "deadline": "frist (deadline)", "audience": "modtagere (audience)", "payload": "beskedens indhold (payload)",
    "correlation_key": "korrelationsnøgle (correlation key)", "topic": "emne (topic)",
    "retries": "genforsøg (retries)", "tovholder:interrupting": "afbryder forløbet (interrupting)",
}


def element_of(spec_name: str | None) -> str | None:
    """The BPMN element behind one of SpiffWorkflow's internal spec names (None for Start/End/EndJoin)."""
    if not spec_name:
        return None
    for suffix in (".BoundaryEventSplit", ".BoundaryEventJoin"):
        if spec_name.endswith(suffix):
            return spec_name[: -len(suffix)]
    if spec_name.endswith(".EndJoin") or spec_name in ("Start", "End"):
        return None
    return spec_name


def _q(value: object) -> str:
    if value is None or value == "":
        return "(intet)"
    return f'"{value}"' if isinstance(value, str) else str(value)


def change(label: str, old: object, new: object, *, expression: bool = False) -> str:
    """`label: "old" → "new"`; an expression (a timer value) is shown as written, its own quotes and all."""
    show = (lambda v: "(intet)" if v in (None, "") else str(v)) if expression else _q
    return f"{label}: {show(old)} → {show(new)}"


def _audience(value: str | None) -> str | None:
    return {"teamlead": "teamleder"}.get(value, value) if value else "alle i enheden"


def _properties(old: dict, new: dict) -> list[str]:
    words = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        label = PROPERTY_WORDS.get(key, f"egenskab {key} (property)")
        if key == "audience":
            words.append(f"{label}: {_audience(old.get(key))} → {_audience(new.get(key))}")
        else:
            words.append(change(label, old.get(key), new.get(key)))
    return words


def _event_parts(definition: dict | None) -> dict[str, str | None]:
    """{"timer"/"besked"/...: value} of an event definition, flattening a gateway's several events."""
    if not definition:
        return {}
    inner = definition.get("event_definitions")
    if inner is not None:
        parts: dict[str, str | None] = {}
        for item in inner:
            for kind, value in _event_parts(item).items():
                parts[kind] = f"{parts[kind]}, {value}" if kind in parts else value
        return parts
    typename = definition.get("typename", "")
    if "Timer" in typename or typename.startswith("TimeDate"):
        return {"timer (timer value)": definition.get("expression")}
    if "Message" in typename:
        return {"besked (message name)": definition.get("name")}
    if "Signal" in typename:
        return {"signal (signal name)": definition.get("name")}
    if "Error" in typename or "Escalation" in typename:
        return {"fejl/eskalering (error code)": definition.get("code") or definition.get("name")}
    if typename in ("NoneEventDefinition", ""):
        return {}
    return {"hændelse (event)": typename}


def _events(old: dict | None, new: dict | None) -> list[str]:
    before, after = _event_parts(old), _event_parts(new)
    if not before and not after and old != new:
        return ["hændelsen er ændret (event changed)"]
    return [change(kind, before.get(kind), after.get(kind), expression=kind.startswith("timer"))
            for kind in sorted(set(before) | set(after)) if before.get(kind) != after.get(kind)]


def _paths(old: list | None, new: list | None) -> list[str]:
    """Conditions per outgoing path, by the element each path leads to."""
    def by_target(items: list | None) -> dict:
        return {element_of(c.get("task_spec")) or c.get("task_spec"): c.get("condition") for c in items or []}
    before, after = by_target(old), by_target(new)
    words = []
    for target in sorted(set(before) | set(after)):
        if target not in after:
            words.append(f"vejen til {target} er fjernet (path removed)")
        elif target not in before:
            words.append(f"ny vej til {target} (path added), betingelse (condition): {_q(after[target])}")
        elif before[target] != after[target]:
            words.append(change(f"betingelse mod {target} (condition)", before[target], after[target]))
    return words


def describe(old: dict, new: dict, keys: list[str]) -> list[str]:
    """Sentences for the changed `keys` of two serialized task specs of one element."""
    words: list[str] = []
    for key in keys:
        if key in IGNORED_KEYS:
            if key == "typename":
                words.append(f"type: {type_word(old.get(key))} → {type_word(new.get(key))}")
            continue
        before, after = old.get(key), new.get(key)
        if key == "bpmn_name":
            words.append(change("navn (name)", before, after))
        elif key == "lane":
            words.append(change("enhed (lane/unit)", before, after))
        elif key == "form":
            words.append(change("formular (form)", (before or {}).get("key"), (after or {}).get("key")))
        elif key == "extensions":
            words.extend(_properties(before or {}, after or {}))
        elif key == "event_definition":
            words.extend(_events(before, after))
        elif key == "cond_task_specs":
            words.extend(_paths(before, after))
        elif key == "default_task_spec":
            words.append(change("standardvej (default path)", element_of(before), element_of(after)))
        elif key == "spec":
            words.append(change("kalder proces (called process)", before, after))
        elif key == "cancel_activity":
            words.append(f"afbryder opgaven (interrupting): {'ja' if before else 'nej'} → {'ja' if after else 'nej'}")
        elif key in ("script", "prescript", "postscript"):
            words.append({"script": "script ændret (script changed)", "prescript": "script før ændret (prescript)",
                          "postscript": "script efter ændret (postscript)"}[key])
        elif key == "decision_table":
            words.append(change("beslutningstabel (decision table)", (before or {}).get("id"),
                                 (after or {}).get("id")) if (before or {}).get("id") != (after or {}).get("id")
                         else "beslutningstabellens regler er ændret (decision rules changed)")
        elif key == "documentation":
            words.append("beskrivelse ændret (documentation)")
        elif key in ("data_input_associations", "data_output_associations", "io_specification"):
            words.append("data ind/ud ændret (data inputs/outputs)")
        else:
            words.append(f"{key} ændret (changed)")
    return words


def successors(old: list[str], new: list[str]) -> list[str]:
    if sorted(old) == sorted(new):
        return []
    return [f"fører videre til (next): {', '.join(sorted(old)) or '(slut)'} → {', '.join(sorted(new)) or '(slut)'}"]


def form_changes(key: str, old: Form, new: Form) -> dict:
    """What changed in one form: the fields added, removed, made required or optional, otherwise changed."""
    before = {f.name: f for f in old.fields}
    after = {f.name: f for f in new.fields}
    shared = [n for n in after if n in before]
    return {
        "key": key,
        "fields_added": [n for n in after if n not in before],
        "fields_removed": [n for n in before if n not in after],
        "made_required": [n for n in shared if after[n].required and not before[n].required],
        "made_optional": [n for n in shared if before[n].required and not after[n].required],
        "fields_changed": [n for n in shared if _without_required(before[n]) != _without_required(after[n])],
        "title_changed": old.title != new.title,
        "layout_changed": old.template != new.template,
    }


def _without_required(field: FormField) -> tuple:
    return (field.label, field.type, field.choices, field.min, field.max, field.pattern, field.help)


def form_words(form_change: dict, new: Form | None, old: Form | None) -> list[str]:
    """Sentences for one form's changes (form_changes); a form that no longer reads (None) has no labels."""
    labels = {f.name: f.label for form in (old, new) if form is not None for f in form.fields}
    key = form_change["key"]

    def named(names: list[str]) -> str:
        return ", ".join(f'"{labels.get(n, n)}" ({n})' for n in names)
    words = []
    for field, text in (("fields_added", "felt tilføjet (field added)"),
                        ("fields_removed", "felt fjernet (field removed)"),
                        ("made_required", "felt nu påkrævet (made required)"),
                        ("made_optional", "felt nu valgfrit (made optional)"),
                        ("fields_changed", "felt ændret (field changed)")):
        if form_change[field]:
            words.append(f"formular {key}: {text}: {named(form_change[field])}")
    if form_change["title_changed"] and old is not None and new is not None:  # only set when both read
        words.append(change(f"formular {key}: titel (title)", old.title, new.title))
    if form_change["layout_changed"]:
        words.append(f"formular {key}: layout ændret (layout changed)")
    return words or [f"formular {key} ændret (form changed)"]
