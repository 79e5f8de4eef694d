"""What a compiled version holds, element by element: lanes, properties, and what it waits for from outside.

Read from the stored spec JSON (the version's own processes and the ones it
calls), so a case's version answers, not the files on disk. Each message
catch names its message, the lane (unit) it sits in, and the form the
message must fill (`camunda:formKey` on the event, kept by
engine.bpmn.parser). Each element keeps its lane and its `camunda:properties`
(a user task's `context` says what crosses to it: engine.handover). Pure:
JSON in, tuples out.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.specs.base import TaskSpec

from .parser import EVENT_FORM_KEY
from .serializer import SERIALIZER

START, EVENT_START, CATCH, BOUNDARY = "start", "event_start", "catch", "boundary"


@dataclass(frozen=True)
class MessageCatch:
    process_id: str       # the process (main or called) the event is drawn in
    element_id: str
    element_name: str | None
    message: str
    unit: str | None      # the lane's unit
    form_key: str | None
    kind: str             # START (starts a case), EVENT_START (an event subprocess, any time), CATCH, BOUNDARY


@dataclass(frozen=True)
class Element:
    process_id: str
    element_id: str
    name: str | None
    unit: str | None
    properties: dict = field(default_factory=dict)  # camunda:properties as the parser kept them


@dataclass(frozen=True)
class SpecIndex:
    elements: dict[str, Element]   # by element id; the main process's first when a called one repeats an id
    catches: list[MessageCatch]
    start_element: str | None      # the main process's start event (a plain one before a message start)


def index_spec(spec_json: str) -> SpecIndex:
    stored = json.loads(spec_json)
    registry = SERIALIZER.registry
    main = registry.restore(stored["spec"])
    specs = {main.name: main, **{name: registry.restore(sub) for name, sub in stored["subprocess_specs"].items()}}
    # an event subprocess is a task spec its process's start task triggers (SpiffWorkflow's trigger_specs)
    holders = {process.task_specs[name].spec: process.task_specs[name] for process in specs.values()
               for name in getattr(process.start, "trigger_specs", []) if name in process.task_specs}
    elements: dict[str, Element] = {}
    catches: list[MessageCatch] = []
    for process_id, process in specs.items():
        holder = holders.get(process_id)
        for spec in sorted(process.task_specs.values(), key=lambda s: s.bpmn_id or s.name):
            if spec.bpmn_id and spec.bpmn_id not in elements:
                elements[spec.bpmn_id] = Element(process_id, spec.bpmn_id, getattr(spec, "bpmn_name", None),
                                                 _lane(spec, holder), dict(getattr(spec, "extensions", None) or {}))
        for spec, definition in sorted(_catching(process), key=lambda pair: pair[0].bpmn_id or pair[0].name):
            if not isinstance(definition, MessageEventDefinition):
                continue
            if isinstance(spec, StartEvent):
                kind = EVENT_START if holder is not None else START
            else:
                kind = BOUNDARY if isinstance(spec, BoundaryEvent) else CATCH
            catches.append(MessageCatch(process_id, spec.bpmn_id, getattr(spec, "bpmn_name", None), definition.name,
                                        _lane(spec, holder), (spec.extensions or {}).get(EVENT_FORM_KEY), kind))
    order = {name: i for i, name in enumerate(specs)}
    catches.sort(key=lambda c: (order[c.process_id], c.element_id))
    starts = sorted((s for s in main.task_specs.values() if isinstance(s, StartEvent)),
                    key=lambda s: (isinstance(getattr(s, "event_definition", None), MessageEventDefinition),
                                   s.bpmn_id or ""))
    return SpecIndex(elements, catches, starts[0].bpmn_id if starts else None)


def message_catches(spec_json: str) -> list[MessageCatch]:
    return index_spec(spec_json).catches


def _lane(spec: TaskSpec, holder: TaskSpec | None) -> str | None:
    return spec.lane or (holder.lane if holder is not None else None)


def _catching(process: BpmnProcessSpec) -> Iterator[tuple[TaskSpec, EventDefinition]]:
    """(catch event spec, its definition); after an event-based gateway the parser keeps the definitions on
    the gateway, in the order of its outputs (as engine.bpmn.workflow_tasks.catching reads a waiting task)."""
    for spec in process.task_specs.values():
        definition = getattr(spec, "event_definition", None)
        if isinstance(definition, MultipleEventDefinition) and not isinstance(spec, StartEvent):
            if len(spec.outputs) == len(definition.event_definitions):
                yield from zip(spec.outputs, definition.event_definitions, strict=True)
        elif isinstance(spec, CatchingEvent) and definition is not None:
            yield spec, definition
