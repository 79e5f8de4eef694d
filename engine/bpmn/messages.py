"""Messages in and out of a workflow: what a thrown message carries, and how to catch one.

Pure functions over in-memory workflows; engine.runtime stores the result.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task


class Thrower(NamedTuple):
    element_id: str | None
    name: str | None
    unit: str | None  # the lane it is drawn in


def _throwing_spec(workflow: BpmnWorkflow, event: BpmnEvent) -> TaskSpec | None:
    return next((s for s in _all_task_specs(workflow)
                 if getattr(s, "event_definition", None) is event.event_definition), None)


def thrower(workflow: BpmnWorkflow, event: BpmnEvent) -> Thrower:
    """The element that threw a message: where, to the receiving case, what it carries comes from."""
    spec = _throwing_spec(workflow, event)
    if spec is None:
        return Thrower(None, None, None)
    return Thrower(spec.bpmn_id, getattr(spec, "bpmn_name", None), spec.lane)


def message_payload(workflow: BpmnWorkflow, event: BpmnEvent) -> dict:
    """What a thrown message carries: the thrower's data, or only the fields its `payload` property names.

    A message goes to another unit's case (SOF, Ydelsesservice), so a process
    owner lists what it needs to know (`payload` = "kategori, problemomraader");
    fields the case does not hold are left out. Without the property the
    whole task data goes, as SpiffWorkflow sends it.
    """
    data = event.payload or {}
    spec = _throwing_spec(workflow, event)
    fields = (getattr(spec, "extensions", None) or {}).get("payload")
    if fields is None:
        return data
    return {name: data[name] for name in payload_fields(fields) if name in data}


def payload_fields(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _all_task_specs(workflow: BpmnWorkflow) -> Iterator[TaskSpec]:
    yield from workflow.spec.task_specs.values()
    for sub in workflow.subprocess_specs.values():
        yield from sub.task_specs.values()


def message_definition(task: Task, name: str) -> MessageEventDefinition | None:
    """The definition of message `name` a waiting task listens for (one of several after an event gateway)."""
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            if isinstance(inner, MessageEventDefinition) and inner.name == name:
                return inner
        return None
    return definition if isinstance(definition, MessageEventDefinition) and definition.name == name else None


def message_event(definition: MessageEventDefinition, payload: dict) -> BpmnEvent:
    """An event the waiting task will take: it must be of the waiting definition's own class."""
    return BpmnEvent(type(definition)(definition.name), payload=payload)


def thrown_messages(workflow: BpmnWorkflow) -> list[BpmnEvent]:
    return [e for e in workflow.get_events() if isinstance(e.event_definition, MessageEventDefinition)]
