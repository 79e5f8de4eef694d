"""Reading an in-memory workflow: its tasks, the BPMN elements they stand for, what they wait for.

Everything that reads SpiffWorkflow's task objects beyond their public
attributes (flat task maps, internal data, library-internal task specs) is
here, so engine.projections and engine.runtime stay in Tovholder's terms.
Pure: no database.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin, BoundaryEventSplit, SimpleBpmnTask, _EndJoin
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.specs.StartTask import StartTask
from SpiffWorkflow.task import Task, TaskState

from .. import clock
from .parser import FLOW_NAMES, INTERRUPTING

READY, WAITING, COMPLETED = TaskState.READY, TaskState.WAITING, TaskState.COMPLETED
_GATEWAYS = (ExclusiveGateway, InclusiveGateway, ParallelGateway, EventBasedGateway)
_INTERNAL = (BoundaryEventSplit, BoundaryEventJoin, SimpleBpmnTask, _EndJoin, StartTask)


def tasks_in(workflow: BpmnWorkflow, state: int) -> list[Task]:
    """Tasks of the workflow and all its subprocesses in `state`.

    Reads the library's flat task maps instead of walking the task tree with
    get_tasks(): a projection needs several such lists per save, and on a case
    with a long history the walks were a sixth of a completion's cost.
    """
    found = [t for t in workflow.tasks.values() if t.state & state]
    for subprocess in workflow.subprocesses.values():
        found.extend(t for t in subprocess.tasks.values() if t.state & state)
    return found


def completed_ids(workflow: BpmnWorkflow) -> set[UUID]:
    return {t.id for t in tasks_in(workflow, TaskState.COMPLETED)}


def is_human(task: Task) -> bool:
    return bool(getattr(task.task_spec, "manual", False))


def element_id(task: Task) -> str:
    spec = task.task_spec
    if isinstance(spec, (BoundaryEventSplit, BoundaryEventJoin)):
        return spec.name.rsplit(".", 1)[0]  # the activity the boundary events sit on
    return getattr(spec, "bpmn_id", None) or spec.name


def element_name(task: Task) -> str:
    return getattr(task.task_spec, "bpmn_name", None) or element_id(task)

def event_subprocess_starts(workflow: BpmnWorkflow) -> Iterator[tuple[TaskSpec, TaskSpec]]:
    """Message start events of event subprocesses: SpiffWorkflow creates the subprocess only when one is caught.

    None once an interrupting event subprocess has started: the process is ending and takes no further events.
    """
    triggers = [(workflow.subprocess_specs.get(name), workflow.spec.task_specs.get(name))
                for name in getattr(workflow.spec.start, "trigger_specs", [])]
    started = {task.task_spec.name for task in workflow.tasks.values()}
    if any(subprocess.name in started and _interrupting(sub_spec) for sub_spec, subprocess in triggers):
        return
    for sub_spec, subprocess in triggers:
        for start in getattr(sub_spec, "bpmn_start_events", []):
            if isinstance(start.event_definition, MessageEventDefinition):
                yield start, subprocess


def _interrupting(sub_spec: BpmnProcessSpec | None) -> bool:
    return any((getattr(start, "extensions", None) or {}).get(INTERRUPTING)
               for start in getattr(sub_spec, "bpmn_start_events", []))


def waiting_catch_events(workflow: BpmnWorkflow) -> list[Task]:
    """Waiting tasks that catch an event (timer, message, or several behind an event-based gateway)."""
    return [t for t in tasks_in(workflow, WAITING) if isinstance(t.task_spec, CatchingEvent)]


def unit_of(task: Task | None) -> str | None:
    """The lane of the task, or of the (embedded) subprocess it runs in."""
    while task is not None:
        if task.task_spec.lane:
            return task.task_spec.lane
        parent_id = getattr(task.workflow, "parent_task_id", None)
        task = task.workflow.top_workflow.get_task_from_id(parent_id) if parent_id else None
    return None

def catching(task: Task) -> list[tuple[TaskSpec, EventDefinition]]:
    """(spec, event definition) pairs a waiting task listens for; an event-based gateway has several."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        # The parser moves the events after an event-based gateway into the gateway, in flow order.
        outputs = task.task_spec.outputs
        if len(outputs) == len(definition.event_definitions):
            return list(zip(outputs, definition.event_definitions, strict=True))
        return [(task.task_spec, inner) for inner in definition.event_definitions]
    return [(task.task_spec, definition)] if definition is not None else []


def wait_kind(task: Task, definition: EventDefinition) -> tuple[str | None, str | None, datetime | None]:
    if isinstance(definition, TimerEventDefinition):
        return "timer", None, timer_due(task)
    if isinstance(definition, MessageEventDefinition):
        return "message", definition.name, None
    return None, None, None


def timer_due(task: Task) -> datetime | None:
    """The moment a waiting timer fires, as SpiffWorkflow computed it."""
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(value, dict):  # a cycle: {"cycles", "next", "duration"}
        if value.get("cycles") == 0:
            return None
        value = value.get("next")
    try:
        return clock.as_utc(datetime.fromisoformat(value))
    except (ValueError, TypeError):
        return None


def event_definition(task: Task) -> EventDefinition | None:
    """What a catch event waited for; after an event-based gateway the parser keeps it on the gateway."""
    spec = task.task_spec
    if not isinstance(spec, CatchingEvent):
        return None
    parent = task.parent
    gateway_definition = getattr(parent.task_spec, "event_definition", None) if parent is not None else None
    if isinstance(gateway_definition, MultipleEventDefinition):
        for output, inner in catching(parent):
            if output is spec:
                return inner
    return getattr(spec, "event_definition", None)


def passed_event_type(task: Task) -> str | None:
    """The audit event type for a completed task the run passed; None for the library's internal tasks."""
    spec = task.task_spec
    if isinstance(spec, _INTERNAL) or not isinstance(spec, BpmnTaskSpec) or is_human(task):
        return None
    if isinstance(spec, _GATEWAYS):
        return "gateway_taken"
    definition = event_definition(task)
    if isinstance(definition, TimerEventDefinition):
        return "timer_fired"
    if isinstance(definition, MessageEventDefinition):
        return "message_caught"
    return "element_passed"


def gateway_paths(task: Task) -> list[str]:
    """The elements a gateway's completed task went on to (predicted and cancelled branches left out)."""
    return [element_id(c) for c in task.children if c.state not in (TaskState.CANCELLED,)
            and not c.has_state(TaskState.PREDICTED_MASK)]


def gateway_path_names(task: Task) -> list[str]:
    """Which way a gateway went, in words: the name of each flow taken, else the name of where it leads."""
    names = (getattr(task.task_spec, "extensions", None) or {}).get(FLOW_NAMES) or {}
    result = []
    for child in task.children:
        if child.state == TaskState.CANCELLED or child.has_state(TaskState.PREDICTED_MASK):
            continue
        target = element_id(child)
        result.append(names.get(target) or getattr(child.task_spec, "bpmn_name", None) or "")
    return result


def end_element(workflow: BpmnWorkflow) -> str | None:
    """The BPMN end event the case finished at (the library's own 'End' is internal)."""
    ends = [t for t in tasks_in(workflow, TaskState.COMPLETED) if isinstance(t.task_spec, EndEvent)]
    return element_id(max(ends, key=lambda t: t.last_state_change)) if ends else None


def due_timers(workflow: BpmnWorkflow, moment: datetime) -> list[tuple[Task, datetime]]:
    """Waiting timers due at `moment`; SpiffWorkflow fires a timer only strictly after its due moment."""
    return [(t, when) for t in tasks_in(workflow, TaskState.WAITING)
            if (when := timer_due(t)) is not None and when < moment]
