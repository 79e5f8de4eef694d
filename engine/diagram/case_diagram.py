"""A case's diagram: its definition's BPMN drawn as SVG, with the steps taken and where it is now.

`case_diagram(session, case_id=, user=)` returns
`{"svg": "<svg …>", "completed": [element ids], "current": [element ids]}`;
`case_diagram_svg(...)` only the SVG (for embedding in a page; works
without JavaScript). Reading a diagram is reading the case: the same access
rule as engine.cases.get_case, and the read is logged ("diagram").

Where the marks come from: the case's stored workflow state (the same state
engine.runtime projects into human_tasks and waits). Completed = every BPMN
element of this process that has run to completion (start event included;
a gateway once it chose its path). Current = the user tasks ready for
someone (the case's open human_tasks), the catch events and receive tasks it
waits at (its timer and message waits, not the boundary timers on a task that
is itself current), and subprocesses still running. Taken = each sequence
flow whose source completed and whose target completed or is current; in a
loop that is an over-estimate (the flow may have been passed only once).

Elements inside a call activity belong to another process (another
definition, another picture), so they are never marked here: the call
activity itself is marked, current while the called process runs and
completed after. Elements of an embedded subprocess belong to this process
and are marked where they are drawn (inside it, or on its drill-down plane).

The reminder branches (a timer on a task, a reminder for the team lead, an
end) are left out of a case's picture: beside every task they doubled every
box; the timer on the task still shows, and the reminders are in the case's
task list and history.

Read-only apart from the access log; the route commits.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts import UserView
from ..bpmn.compaction import done_elements
from ..bpmn.serializer import workflow_from_json
from ..bpmn.workflow_tasks import is_human
from ..cases import get_case
from ..errors import NotFound
from ..models import Case, ProcessDefinition, Unit
from .marks import Marks
from .svg import parse, render
from .text import BPMN_NS


def case_diagram(session: Session, *, case_id: str, user: UserView) -> dict:
    case = get_case(session, case_id, user, action="diagram")
    definition = session.get_one(ProcessDefinition, case.definition_id)
    marks = case_marks(case, definition)
    try:
        units = {u.key: u.name for u in session.scalars(select(Unit))}
        svg = render(definition.bpmn_xml.encode("utf-8"), marks, hide_reminders=True, lane_names=units)
    except ValueError:
        raise NotFound(f"process '{definition.key}' version {definition.version} has no diagram layout (BPMNDI); "
                       "lay it out with `make diagrams` and deploy it again") from None
    return {"svg": svg, "completed": sorted(marks.completed), "current": sorted(marks.current)}


def case_diagram_svg(session: Session, *, case_id: str, user: UserView) -> str:
    return case_diagram(session, case_id=case_id, user=user)["svg"]


def case_marks(case: Case, definition: ProcessDefinition) -> Marks:
    workflow = workflow_from_json(case.state_json, definition.spec_json)
    completed, current = set(done_elements(workflow)), set()  # done_elements: dropped from the stored tree
    for flow in own_workflows(workflow):
        for task in flow.tasks.values():
            spec = task.task_spec
            bpmn_id = getattr(spec, "bpmn_id", None)
            if not isinstance(spec, BpmnTaskSpec) or not bpmn_id:
                continue  # the library's internal tasks (joins, splits, the root)
            if task.state == TaskState.COMPLETED:
                completed.add(bpmn_id)
            elif case.status == "running" and _is_current(task):
                current.add(bpmn_id)
    return Marks(frozenset(completed), frozenset(current), frozenset(_taken(definition.bpmn_xml, completed, current)))


def _is_current(task: Task) -> bool:
    spec = task.task_spec
    if task.state == TaskState.READY and is_human(task):
        return True
    if task.state == TaskState.WAITING and isinstance(spec, CatchingEvent) and not isinstance(spec, BoundaryEvent):
        return True
    return bool(task.state & (TaskState.STARTED | TaskState.WAITING)) and isinstance(spec, SubWorkflowTask)


def own_workflows(workflow: BpmnWorkflow) -> list[BpmnWorkflow]:
    """The top workflow and its embedded subprocesses, without what runs inside call activities."""
    own, pending = [workflow], dict(workflow.subprocesses)
    found = True
    while found:
        found = False
        for sub_id, sub in list(pending.items()):
            parent = next((w.tasks[sub_id] for w in own if sub_id in w.tasks), None)
            if parent is None:
                continue  # its parent is not (yet) known to be ours
            del pending[sub_id]
            found = True
            if not isinstance(parent.task_spec, CallActivity):
                own.append(sub)
    return own


def _taken(bpmn_xml: str, completed: set, current: set) -> set[str]:
    root = parse(bpmn_xml.encode("utf-8"))
    reached = completed | current
    return {flow.get("id") for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow")
            if flow.get("sourceRef") in completed and flow.get("targetRef") in reached}

