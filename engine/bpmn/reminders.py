"""Reminder tasks that close when the task they remind of is done.

A reminder is drawn as a non-interrupting timer on a task (`Frist
overskredet`) leading to a human task (`Påmindelse til teamleder: …`) and
straight on to an end event. SpiffWorkflow leaves that side branch open when
the main task completes, so the team lead would keep a reminder of work that
is already done. `close_done_reminders` cancels such reminder tasks whose
main task has finished; engine.runtime's CaseRun calls it before it
projects a run, in the run's transaction, and audits each one it closed
(the projection then marks the task row cancelled). In-memory workflow only.
"""
from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit, _EndJoin
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .workflow_tasks import element_id, is_human, tasks_in


@dataclass(frozen=True)
class ClosedReminder:
    task_id: str
    element_id: str
    reminded_task_id: str
    reminded_element_id: str


def _is_reminder_spec(task: Task) -> bool:
    spec = task.task_spec
    outputs = list(getattr(spec, "outputs", []))
    return is_human(task) and len(outputs) == 1 and isinstance(outputs[0], EndEvent)


def reminded_task(task: Task) -> Task | None:
    """The task this human task reminds of (the activity its non-interrupting timer sits on), or None."""
    if not _is_reminder_spec(task):
        return None
    boundary = task.parent
    if boundary is None or not isinstance(boundary.task_spec, BoundaryEvent):
        return None
    if boundary.task_spec.cancel_activity or not isinstance(boundary.task_spec.event_definition,
                                                             TimerEventDefinition):
        return None
    split = boundary.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return None
    mains = [c for c in split.children if not isinstance(c.task_spec, BoundaryEvent)]
    return mains[0] if len(mains) == 1 else None


def close_done_reminders(workflow: BpmnWorkflow) -> list[ClosedReminder]:
    """Cancel every open reminder task whose reminded task has completed; what was closed."""
    closed = []
    for task in tasks_in(workflow, TaskState.READY):
        main = reminded_task(task)
        if main is None or not main.has_state(TaskState.COMPLETED):
            continue
        task.cancel()
        closed.append(ClosedReminder(str(task.id), element_id(task), str(main.id), element_id(main)))
    if closed:
        # The process's end join may have been waiting for nothing but the branch just closed (the main
        # task went straight on to an end event): let it look again, or the case never completes.
        for waiting in tasks_in(workflow, TaskState.WAITING):
            if isinstance(waiting.task_spec, _EndJoin):
                waiting.task_spec._update(waiting)
    return closed
