"""What a run changed, projected into rows: human tasks, waits, audit events.

Called by engine.runtime after every run, inside the locked transaction;
it only adds and updates rows through the session given.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin, BoundaryEventSplit, SimpleBpmnTask, _EndJoin
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.specs.StartTask import StartTask
from SpiffWorkflow.task import TaskState

from . import audit, clock
from .models import Case, HumanTask, Wait

OPEN_STATES = ("open", "claimed")
_GATEWAYS = (ExclusiveGateway, InclusiveGateway, ParallelGateway, EventBasedGateway)
_INTERNAL = (BoundaryEventSplit, BoundaryEventJoin, SimpleBpmnTask, _EndJoin, StartTask)


def completed_ids(workflow) -> set:
    return {t.id for t in workflow.get_tasks(state=TaskState.COMPLETED)}


def is_human(task) -> bool:
    return bool(getattr(task.task_spec, "manual", False))


def element_id(task) -> str:
    spec = task.task_spec
    if isinstance(spec, (BoundaryEventSplit, BoundaryEventJoin)):
        return spec.name.rsplit(".", 1)[0]  # the activity the boundary events sit on
    return getattr(spec, "bpmn_id", None) or spec.name


def element_name(task) -> str:
    return getattr(task.task_spec, "bpmn_name", None) or element_id(task)


def sync_human_tasks(session: Session, case: Case, workflow, *, actor: str | None) -> None:
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY) if is_human(t)}
    rows = {r.id: r for r in session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status.in_(OPEN_STATES)))}
    for task_id, row in rows.items():
        if task_id not in ready:
            row.status = "cancelled"
            row.completed_at = clock.now()
            audit.record(session, case, "task_cancelled", actor=actor, element_id=row.element_id, task_id=row.id)
    for task_id, task in ready.items():
        if task_id in rows or session.get(HumanTask, task_id) is not None:
            continue
        form = getattr(task.task_spec, "form", None)
        row = HumanTask(
            id=task_id, case_id=case.id, process_key=case.process_key, process_version=case.version,
            element_id=element_id(task), name=element_name(task), unit=task.task_spec.lane,
            status="open", created_at=clock.now(), due_at=None,
            form_key=(form.key if form is not None and form.key else None),
        )
        session.add(row)
        audit.record(session, case, "task_created", actor=actor, element_id=row.element_id, task_id=task_id,
                     details={"name": row.name, "unit": row.unit, "due_at": row.due_at})


def sync_waits(session: Session, case: Case, workflow) -> None:
    session.execute(delete(Wait).where(Wait.case_id == case.id))
    if case.status != "running":
        return
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(task.task_spec, CatchingEvent) or definition is None:
            continue
        kind, message, due = _wait_kind(task, definition)
        if kind is None:
            continue
        session.add(Wait(case_id=case.id, spiff_task_id=str(task.id), element_id=element_id(task),
                         name=getattr(task.task_spec, "bpmn_name", None), kind=kind, message=message,
                         unit=task.task_spec.lane, due_at=due))


def _wait_kind(task, definition):
    if isinstance(definition, TimerEventDefinition):
        return "timer", None, timer_due(task)
    if isinstance(definition, MessageEventDefinition):
        return "message", definition.name, None
    return None, None, None


def timer_due(task) -> datetime | None:
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


def record_path(session: Session, case: Case, workflow, before: set, *, actor: str | None,
                skip: set = frozenset()) -> None:
    """One audit event per BPMN element the run passed (gateways with the path they took)."""
    passed = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.id not in before and t.id not in skip]
    passed.sort(key=lambda t: t.last_state_change)
    for task in passed:
        spec = task.task_spec
        if isinstance(spec, _INTERNAL) or not isinstance(spec, BpmnTaskSpec) or is_human(task):
            continue
        details = {"name": getattr(spec, "bpmn_name", None), "kind": type(spec).__name__}
        if isinstance(spec, _GATEWAYS):
            taken = [element_id(c) for c in task.children if c.state not in (TaskState.CANCELLED,)
                     and not c.has_state(TaskState.PREDICTED_MASK)]
            details["taken"] = taken
            type_ = "gateway_taken"
        elif isinstance(spec, CatchingEvent) and isinstance(getattr(spec, "event_definition", None), TimerEventDefinition):
            type_ = "timer_fired"
        elif isinstance(spec, CatchingEvent) and isinstance(getattr(spec, "event_definition", None), MessageEventDefinition):
            type_ = "message_caught"
        else:
            type_ = "element_passed"
        audit.record(session, case, type_, actor=actor, element_id=element_id(task), details=details)
