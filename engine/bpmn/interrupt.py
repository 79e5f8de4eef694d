"""Interrupting event subprocesses, which SpiffWorkflow 3.2.0 starts but never lets interrupt.

The parser (engine.bpmn.parser) marks an interrupting start event of an
event subprocess; engine.runtime's CaseRun passes `interrupt_if_needed` as
`did_complete_task` to every `do_engine_steps`, so the rest of the process is
cancelled the moment the event is caught. Works on the in-memory workflow
only; the caller saves it in its transaction.
"""
from __future__ import annotations

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .parser import INTERRUPTING


def interrupt_if_needed(task: Task) -> None:
    """After `task` ran: if it is an interrupting event subprocess's start event, cancel the rest.

    Everything unfinished in the workflow that holds the event subprocess is
    cancelled (a cancelled call activity or subprocess cancels its own
    workflow), except the event subprocess itself, which then runs to its end
    and so ends the process.
    """
    if not (getattr(task.task_spec, "extensions", None) or {}).get(INTERRUPTING):
        return
    inner = task.workflow
    owner = inner.top_workflow.get_task_from_id(getattr(inner, "parent_task_id", None))
    if owner is None:
        return
    outer = owner.workflow
    for other in list(outer.tasks.values()):
        if (other.id in outer.tasks and not other.has_state(TaskState.FINISHED_MASK)
                and not _is_within(other, owner)):
            other.cancel()
    # The library adds a triggered event subprocess without predicting its path to the process end,
    # so on its own it would finish with nothing after it and the process would never complete.
    if not owner.children:
        owner.task_spec._predict(owner, mask=TaskState.NOT_FINISHED_MASK)


def _is_within(task: Task | None, ancestor: Task) -> bool:
    while task is not None:
        if task is ancestor:
            return True
        task = task.parent
    return False
