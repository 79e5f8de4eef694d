"""What SpiffWorkflow 3.2.0's migrate_workflow drops from a moved workflow, put back (engine.bpmn.migration uses it).

`migrate_workflow` resets every READY and WAITING branch with `Task.reset_branch`,
which empties the task's internal data (a timer's computed due time lives there),
replaces its data with a copy of its parent's and sets a new state-change time; it
never touches the path ahead of running call activities and subprocesses, and it
always forgets the workflow's last task. Here: a snapshot before, and after the
move the data, internal data, state and state-change time restored, a changed
timer computed again from when its wait began, the path ahead predicted again,
and a last check that the saved state will load. No database; nothing is committed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task, TaskState

from .. import clock
from .serializer import SERIALIZER
from .workflow_tasks import element_id, timer_due

if TYPE_CHECKING:  # migration builds on this module
    from .migration import MoveResult, _Part

TaskCreated = Callable[[str], datetime | None]  # when the human task of a Spiff task id was created (its row)

AHEAD = TaskState.FUTURE | TaskState.LIKELY | TaskState.MAYBE   # not reached yet: predicted again after a move
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
RESET = TaskState.READY | TaskState.WAITING                      # what migrate_workflow resets


def definition(spec: TaskSpec | None) -> EventDefinition | None:
    return getattr(spec, "event_definition", None)


def timers_of(definition_: EventDefinition | None) -> list[TimerEventDefinition]:
    if isinstance(definition_, MultipleEventDefinition):
        return [d for d in definition_.event_definitions if isinstance(d, TimerEventDefinition)]
    return [definition_] if isinstance(definition_, TimerEventDefinition) else []


@dataclass
class Saved:
    data: dict = field(default_factory=dict)
    internal: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    old_specs: dict = field(default_factory=dict)
    elements: dict = field(default_factory=dict)
    changed_at: dict = field(default_factory=dict)  # Task.last_state_change: when it became READY or WAITING


def all_tasks(workflow: BpmnWorkflow) -> Iterator[Task]:
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def snapshot(workflow: BpmnWorkflow) -> Saved:
    saved = Saved()
    for task in all_tasks(workflow):
        if task.has_state(AHEAD):
            continue
        saved.states[task.id] = task.state
        saved.elements[task.id] = element_id(task)
        if task.has_state(RESET):
            saved.data[task.id] = deepcopy(task.data)
            saved.internal[task.id] = deepcopy(task.internal_data)
            saved.old_specs[task.id] = task.task_spec
            saved.changed_at[task.id] = task.last_state_change
    return saved


def prune_cancelled(part: _Part) -> None:
    """Cancelled branches of removed elements (an unused boundary timer) would not load with the new spec."""
    for task in list(part.workflow.tasks.values()):
        if (task.id in part.workflow.tasks and task.has_state(TaskState.CANCELLED)
                and part.spec_diff.alignment.get(task.task_spec) is None):
            part.workflow._remove_task(task.id)


def reconnect_triggered(workflow: BpmnBaseWorkflow) -> None:
    """An event subprocess the case has started is linked to the start task in the spec (see serialization)."""
    start = workflow.spec.start
    for task in workflow.task_tree.children:
        spec = task.task_spec
        if task.triggered and spec.name in getattr(start, "trigger_specs", []) and start not in spec.inputs:
            start.connect(spec)
            spec.connect(workflow.spec.end)


def predict_ahead(workflow: BpmnWorkflow) -> list[str]:
    """migrate_workflow predicts again below READY and WAITING tasks; do the same below running subprocesses."""
    reasons = []
    for task in list(all_tasks(workflow)):
        if not task.has_state(TaskState.STARTED):
            continue
        if isinstance(task.task_spec, LoopTask):
            continue  # its children are its instances; a changed multi-instance was refused
        for child in list(task.children):
            if child.has_state(AHEAD):
                task.workflow._remove_task(child.id)
            else:
                reasons.append(f"'{element_id(task)}' has work after it although it is still running")
        task.task_spec._predict_hook(task)
        for child in task.children:
            child.task_spec._predict(child, mask=AHEAD)
    return reasons


def restore(workflow: BpmnWorkflow, saved: Saved, result: MoveResult, task_created: TaskCreated) -> list[str]:
    """Put back what reset_branch dropped; compute again the timers whose definition changed."""
    reasons = []
    for task in all_tasks(workflow):
        if task.id not in saved.states:
            continue
        before = saved.states[task.id]
        if task.id in saved.data:
            task.data = saved.data[task.id]
            task.internal_data = saved.internal[task.id]
            old_spec = saved.old_specs[task.id]
            if before == TaskState.WAITING and timers_of(definition(task.task_spec)) and _changed(old_spec, task):
                result.timers.append(_recompute_timer(task, saved, task_created))
        if task.state != before:
            if before not in (TaskState.READY, TaskState.WAITING):
                reasons.append(f"'{element_id(task)}' would change from {TaskState.get_name(before)} "
                               f"to {TaskState.get_name(task.state)}")
                continue
            task._set_state(before)
        if task.id in saved.changed_at:
            task.last_state_change = saved.changed_at[task.id]
        if task.state == TaskState.WAITING and isinstance(task.task_spec, CatchingEvent):
            task.workflow.top_workflow.event_manager.add_task(task)
    return reasons


def _changed(old_spec: TaskSpec, task: Task) -> bool:
    convert = SERIALIZER.registry.convert
    return convert(definition(old_spec)) != convert(definition(task.task_spec))


def _recompute_timer(task: Task, saved: Saved, task_created: TaskCreated) -> dict:
    old_due = timer_due(task)
    for key in ("event_value", "event_fired", "seen_events"):
        task.internal_data.pop(key, None)
    base = _wait_began(task, saved.changed_at[task.id], task_created)
    with clock.at(base):
        task.task_spec.event_definition.has_fired(task)  # computes and stores the due time at `base`
    return {"element_id": element_id(task), "old_due_at": old_due, "new_due_at": timer_due(task),
            "from": base}


def _wait_began(task: Task, changed_at: float, task_created: TaskCreated) -> datetime:
    """When the case began to wait here: for a boundary timer, when its activity's task was created."""
    parent = task.parent
    if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
        for sibling in parent.children:
            if sibling is not task and not isinstance(sibling.task_spec, CatchingEvent):
                created = task_created(str(sibling.id))
                if created is not None:
                    return clock.as_utc(created)
    # SpiffWorkflow's own record of the moment the task began to wait (wall time)
    return datetime.fromtimestamp(changed_at, timezone.utc)


def unresolved(workflow: BpmnWorkflow, new_subs: dict[str, BpmnProcessSpec]) -> list[str]:
    """What loading the saved state will look up by name must be there: each task's spec in its
    workflow's spec, and each subprocess's spec where its owning task's spec says (BpmnSubWorkflowConverter)."""
    reasons = []
    for wf in [workflow, *workflow.subprocesses.values()]:
        known = {id(spec) for spec in wf.spec.task_specs.values()}
        for task in wf.tasks.values():
            if id(task.task_spec) not in known:
                reasons.append(f"'{element_id(task)}' could not be placed in the new version")
    for sp_id, sub in workflow.subprocesses.items():
        owner = workflow.get_task_from_id(sp_id)
        called = getattr(owner.task_spec, "spec", None)  # the process a call activity or subprocess runs
        if called is None or new_subs.get(called) is not sub.spec:
            reasons.append(f"'{element_id(owner)}' could not be given its process in the new version")
    return reasons


# -- boundary events removed from a step that stays ---------------------------------------------------
#
# The library wraps a task with boundary events in a split and a join named after the task
# (`visitation.BoundaryEventSplit`, `visitation.BoundaryEventJoin`). A new version that drops the
# last boundary event of a task drops both, although the task itself stays: a case that passed or
# stands on it would otherwise be refused as if the task were gone. The split and the join are
# dissolved (their children hang from their parents) and a boundary event that is armed but has not
# fired (a reminder timer still waiting) is dropped with its event. One that fired is history the
# new version cannot hold: that case stays refused, naming the event.

SPLIT, JOIN = ".BoundaryEventSplit", ".BoundaryEventJoin"


def _attached_stays(task: Task, alignment: dict) -> bool:
    """A split or join the new version lacks, for a task the new version keeps."""
    name = task.task_spec.name
    if alignment.get(task.task_spec) is not None or not name.endswith((SPLIT, JOIN)):
        return False
    attached = task.workflow.spec.task_specs.get(name.rsplit(".", 1)[0])
    return attached is not None and alignment.get(attached) is not None


def _armed_and_removed(task: Task, alignment: dict) -> bool:
    """A boundary event the new version drops, still waiting on its task: nothing happened on it yet."""
    parent = task.parent
    return (parent is not None and isinstance(parent.task_spec, BoundaryEventSplit)
            and alignment.get(task.task_spec) is None and task.has_state(TaskState.WAITING)
            and all(d.has_state(AHEAD) for d in descendants(task)))


def dissolvable(task: Task, alignment: dict) -> bool:
    """True for a task the move dissolves (see above) instead of asking for a mapping."""
    return _attached_stays(task, alignment) or _armed_and_removed(task, alignment)


def dissolve_boundaries(part: _Part) -> None:
    """Drop the armed removed boundary events, then splice out the splits and joins the new version lacks."""
    workflow, alignment = part.workflow, part.spec_diff.alignment
    for task in list(workflow.tasks.values()):
        if task.id in workflow.tasks and _armed_and_removed(task, alignment):
            workflow._remove_task(task.id)
    for task in list(workflow.tasks.values()):
        if task.id in workflow.tasks and _attached_stays(task, alignment):
            _splice(workflow, task)


def _splice(workflow: BpmnBaseWorkflow, task: Task) -> None:
    """Hang the task's children from its parent, in its place, and forget the task."""
    parent = task.parent
    children = task.children
    at = parent._children.index(task.id)
    parent._children[at:at + 1] = [child.id for child in children]
    for child in children:
        child.parent = parent
    task._children = []
    workflow.tasks.pop(task.id)
    if workflow.last_task is task:
        workflow.last_task = parent


def descendants(task: Task) -> Iterator[Task]:
    """Every task below `task`, depth first."""
    stack = list(task.children)
    while stack:
        child = stack.pop()
        yield child
        stack.extend(child.children)
