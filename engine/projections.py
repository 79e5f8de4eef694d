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
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.specs.StartTask import StartTask
from SpiffWorkflow.task import TaskState

from . import audit, clock
from .config import CaseRules
from .deadlines import DeadlineError, due_at, parse_rule
from .models import Case, HumanTask, Wait
from .spiff import INTERRUPTING

OPEN_STATES = ("open", "claimed")
_GATEWAYS = (ExclusiveGateway, InclusiveGateway, ParallelGateway, EventBasedGateway)
_INTERNAL = (BoundaryEventSplit, BoundaryEventJoin, SimpleBpmnTask, _EndJoin, StartTask)


def tasks_in(workflow, state: int) -> list:
    """Tasks of the workflow and all its subprocesses in `state`.

    Reads the library's flat task maps instead of walking the task tree with
    get_tasks(): a projection needs several such lists per save, and on a case
    with a long history the walks were a sixth of a completion's cost.
    """
    found = [t for t in workflow.tasks.values() if t.state & state]
    for subprocess in workflow.subprocesses.values():
        found.extend(t for t in subprocess.tasks.values() if t.state & state)
    return found


def completed_ids(workflow) -> set:
    return {t.id for t in tasks_in(workflow, TaskState.COMPLETED)}


def is_human(task) -> bool:
    return bool(getattr(task.task_spec, "manual", False))


def element_id(task) -> str:
    spec = task.task_spec
    if isinstance(spec, (BoundaryEventSplit, BoundaryEventJoin)):
        return spec.name.rsplit(".", 1)[0]  # the activity the boundary events sit on
    return getattr(spec, "bpmn_id", None) or spec.name


def element_name(task) -> str:
    return getattr(task.task_spec, "bpmn_name", None) or element_id(task)


def sync_human_tasks(session: Session, case: Case, workflow, *, actor: str | None, rules: CaseRules) -> None:
    ready = {str(t.id): t for t in tasks_in(workflow, TaskState.READY) if is_human(t)}
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
        extensions = getattr(task.task_spec, "extensions", None) or {}
        rule_text = extensions.get("deadline")
        row = HumanTask(
            id=task_id, case_id=case.id, process_key=case.process_key, process_version=case.version,
            element_id=element_id(task), name=element_name(task), unit=unit_of(task),
            status="open", created_at=clock.now(), due_at=None, deadline_rule=rule_text,
            form_key=(form.key if form is not None and form.key else None),
            audience=extensions.get("audience") or None,
        )
        if rule_text:
            row.due_at = _due(session, case, task, row, rule_text, rules, actor)
        session.add(row)
        audit.record(session, case, "task_created", actor=actor, element_id=row.element_id, task_id=task_id,
                     details={"name": row.name, "unit": row.unit, "due_at": row.due_at, "deadline": rule_text,
                              **({"audience": row.audience} if row.audience else {})})


def _due(session, case, task, row, rule_text, rules: CaseRules, actor) -> datetime | None:
    """The task's due time; a rule that cannot be applied is recorded, never silently dropped."""
    try:
        rule = parse_rule(rule_text, rules.named_deadlines())
        return clock.as_utc(due_at(rule, task.data, clock.now(), rules.calendar))
    except DeadlineError as exc:
        audit.record(session, case, "deadline_error", actor=actor, element_id=row.element_id, task_id=row.id,
                     details={"deadline": rule_text, "message": str(exc)})
        return None


def sync_waits(session: Session, case: Case, workflow) -> None:
    session.execute(delete(Wait).where(Wait.case_id == case.id))
    if case.status != "running":
        return
    for task in tasks_in(workflow, TaskState.WAITING):
        if not isinstance(task.task_spec, CatchingEvent):
            continue
        for spec, definition in _catching(task):
            kind, message, due = _wait_kind(task, definition)
            if kind is None:
                continue
            field = (getattr(spec, "extensions", None) or {}).get("correlation_key")
            value = task.data.get(field) if field else None
            session.add(Wait(case_id=case.id, spiff_task_id=str(task.id), element_id=spec.bpmn_id or spec.name,
                             name=getattr(spec, "bpmn_name", None), kind=kind, message=message,
                             unit=spec.lane or unit_of(task), due_at=due,
                             correlation=str(value)[:200] if value not in (None, "") else None))
    for spec, subprocess in _event_subprocess_starts(workflow):
        session.add(Wait(case_id=case.id, spiff_task_id=str(workflow.task_tree.id), element_id=spec.bpmn_id,
                         name=getattr(spec, "bpmn_name", None), kind="message", message=spec.event_definition.name,
                         unit=subprocess.lane))


def _event_subprocess_starts(workflow):
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


def _interrupting(sub_spec) -> bool:
    return any((getattr(start, "extensions", None) or {}).get(INTERRUPTING)
               for start in getattr(sub_spec, "bpmn_start_events", []))


def unit_of(task) -> str | None:
    """The lane of the task, or of the (embedded) subprocess it runs in."""
    while task is not None:
        if task.task_spec.lane:
            return task.task_spec.lane
        parent_id = getattr(task.workflow, "parent_task_id", None)
        task = task.workflow.top_workflow.get_task_from_id(parent_id) if parent_id else None
    return None


def _catching(task):
    """(spec, event definition) pairs a waiting task listens for; an event-based gateway has several."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        # The parser moves the events after an event-based gateway into the gateway, in flow order.
        outputs = task.task_spec.outputs
        if len(outputs) == len(definition.event_definitions):
            return list(zip(outputs, definition.event_definitions))
        return [(task.task_spec, inner) for inner in definition.event_definitions]
    return [(task.task_spec, definition)] if definition is not None else []


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


def _event_definition(task):
    """What a catch event waited for; after an event-based gateway the parser keeps it on the gateway."""
    spec = task.task_spec
    if not isinstance(spec, CatchingEvent):
        return None
    parent = task.parent
    gateway_definition = getattr(parent.task_spec, "event_definition", None) if parent is not None else None
    if isinstance(gateway_definition, MultipleEventDefinition):
        for output, inner in _catching(parent):
            if output is spec:
                return inner
    return getattr(spec, "event_definition", None)


def record_path(session: Session, case: Case, workflow, before: set, *, actor: str | None,
                skip: set = frozenset()) -> None:
    """One audit event per BPMN element the run passed (gateways with the path they took)."""
    passed = [t for t in tasks_in(workflow, TaskState.COMPLETED) if t.id not in before and t.id not in skip]
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
        elif isinstance(_event_definition(task), TimerEventDefinition):
            type_ = "timer_fired"
        elif isinstance(_event_definition(task), MessageEventDefinition):
            type_ = "message_caught"
        else:
            type_ = "element_passed"
        audit.record(session, case, type_, actor=actor, element_id=element_id(task), details=details)
