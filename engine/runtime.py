"""The only module that drives SpiffWorkflow: start, complete, correlate, fire, cancel.

Every change of a case follows one path inside the caller's transaction:
lock the case row (engine.locking) → load the workflow → change it → run
engine steps → project tasks, waits and audit events → save the state.
Functions here only flush; the edge (route, CLI, worker item) commits, and
on any error rolls back, so a failed run leaves the case as it was.
"""
from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import TaskState

from . import audit, clock
from . import cpr as cpr_rules
from .access import check_can_send_message, check_task_workable
from .accounts import UserView
from .catalog import get_definition
from .errors import Conflict, Invalid, NotFound, ProcessError, TaskNotOpen
from .forms import load_form, validate_data
from .locking import lock_case
from .models import Case, Citizen, HumanTask, ProcessDefinition, Wait
from .projections import OPEN_STATES, completed_ids, element_id, record_path, sync_human_tasks, sync_waits
from .serialization import new_workflow, state_to_json, to_plain_json, workflow_from_json

TIMER_ACTOR = "system:timer"


_SPEC_CACHE: dict[str, str] = {}


def _definition_spec(session: Session, definition_id: str) -> str:
    """Definitions are immutable, so their spec JSON is cached by id for the process's life."""
    spec = _SPEC_CACHE.get(definition_id)
    if spec is None:
        spec = session.get(ProcessDefinition, definition_id).spec_json
        if len(_SPEC_CACHE) > 512:
            _SPEC_CACHE.clear()
        _SPEC_CACHE[definition_id] = spec
    return spec


def _wrap(exc: Exception) -> ProcessError:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None) or getattr(exc, "task_spec", None)
    element = (getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)) if spec is not None else None
    line = getattr(exc, "line_number", None) or None
    message = str(exc).split("\n")[0] or type(exc).__name__
    detail = {"element": element, "line": line, "message": message}
    return ProcessError(f"the process failed at {element or 'an element'}: {message}", detail)


def _guarded(action):
    """Run a SpiffWorkflow call; any exception becomes a ProcessError naming the element."""
    try:
        return action()
    except ProcessError:
        raise
    except (SpiffWorkflowException, Exception) as exc:  # noqa: BLE001 - diagram code may raise anything
        raise _wrap(exc) from exc


class CaseRun:
    """One locked run of a case: load, change, step, project, save."""

    def __init__(self, session: Session, case: Case, *, actor: str | None, workflow=None):
        self.session = session
        self.case = case
        self.actor = actor
        self.workflow = workflow or _guarded(
            lambda: workflow_from_json(case.state_json, _definition_spec(session, case.definition_id)))
        self.before = completed_ids(self.workflow)
        self.skip: set = set()

    def step(self) -> None:
        _guarded(self.workflow.do_engine_steps)

    def save(self) -> None:
        session, case, workflow = self.session, self.case, self.workflow
        record_path(session, case, workflow, self.before, actor=self.actor, skip=self.skip)
        if case.status == "running" and workflow.completed:
            case.status = "completed"
            case.completed_at = clock.now()
        sync_human_tasks(session, case, workflow, actor=self.actor)
        if case.status == "completed" and case.completed_at is not None and "completed_logged" not in self.skip:
            audit.record(session, case, "case_completed", actor=self.actor,
                         element_id=_end_element(workflow), details={})
        sync_waits(session, case, workflow)
        case.state_json = state_to_json(workflow)
        case.data = to_plain_json(_current_data(workflow))
        case.updated_at = clock.now()
        session.flush()


def _current_data(workflow) -> dict:
    last = workflow.last_task
    if last is not None:
        return deepcopy(last.data)
    ready = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
    return deepcopy(ready[0].data) if ready else {}


def _end_element(workflow) -> str | None:
    """The BPMN end event the case finished at (the library's own 'End' is internal)."""
    ends = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if isinstance(t.task_spec, EndEvent)]
    return element_id(max(ends, key=lambda t: t.last_state_change)) if ends else None


def _citizen(session: Session, digits: str) -> Citizen:
    citizen = session.scalar(select(Citizen).where(Citizen.cpr == digits))
    if citizen is not None:
        return citizen
    try:
        with session.begin_nested():
            citizen = Citizen(cpr=digits)
            session.add(citizen)
    except IntegrityError:  # another transaction added the same citizen just now
        citizen = session.scalar(select(Citizen).where(Citizen.cpr == digits))
    return citizen


def start_case(session: Session, *, process_key: str, cpr: object, data: object, actor: UserView | None,
               forms_dir: Path, version: int | None = None) -> Case:
    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object")
    try:
        digits = cpr_rules.normalize(cpr)
    except cpr_rules.InvalidCpr as exc:
        raise Invalid(str(exc), [{"field": "cpr", "message": str(exc)}]) from None
    definition = get_definition(session, process_key, version)
    if definition.start_form_key:
        data = validate_data(load_form(forms_dir, definition.start_form_key), data)
    actor_name = actor.username if actor else None
    workflow = _guarded(lambda: new_workflow(_definition_spec(session, definition.id)))
    workflow.get_tasks(state=TaskState.READY)[0].data.update(deepcopy(data))
    now = clock.now()
    case = Case(definition_id=definition.id, process_key=definition.key, version=definition.version,
                citizen_id=_citizen(session, digits).id, status="running", state_json="{}", data=data,
                lock_version=0, audit_seq=0, created_at=now, updated_at=now, started_by=actor_name)
    session.add(case)
    session.flush()
    audit.record(session, case, "case_started", actor=actor_name,
                 details={"process_key": case.process_key, "version": case.version, "data": data})
    run = CaseRun(session, case, actor=actor_name, workflow=workflow)
    run.step()
    run.save()
    return case


def _task_row(session: Session, task_id: str) -> HumanTask:
    row = session.get(HumanTask, task_id) if isinstance(task_id, str) and len(task_id) <= 36 else None
    if row is None:
        raise NotFound(f"task {task_id} not found")
    return row


def complete_task(session: Session, *, task_id: str, data: object, user: UserView,
                  forms_dir: Path) -> tuple[HumanTask, Case]:
    row = _task_row(session, task_id)
    check_task_workable(user, row)
    case = lock_case(session, row.case_id)
    session.refresh(row)
    if row.status not in OPEN_STATES:
        raise TaskNotOpen(f"task {task_id} is {row.status}")
    if row.status == "claimed" and row.assignee != user.username:
        raise Conflict(f"task {task_id} is claimed by {row.assignee}")
    form = load_form(forms_dir, row.form_key) if row.form_key else None
    cleaned = validate_data(form, data)
    run = CaseRun(session, case, actor=user.username)
    task = run.workflow.get_task_from_id(UUID(row.id))
    if task is None or task.state != TaskState.READY:
        raise TaskNotOpen(f"task {task_id} is no longer waiting for completion")
    task.data.update(deepcopy(cleaned))
    _guarded(task.run)
    run.skip.add(task.id)
    row.status, row.completed_at, row.completed_by = "completed", clock.now(), user.username
    row.assignee = row.assignee or user.username
    audit.record(session, case, "task_completed", actor=user.username, element_id=row.element_id,
                 task_id=row.id, details={"data": cleaned})
    run.step()
    run.save()
    return row, case


def correlate_message(session: Session, *, name: object, correlation_key: object, data: object,
                      user: UserView) -> Case:
    if not isinstance(name, str) or not name.strip():
        raise Invalid("name must be the message's name")
    if not isinstance(correlation_key, str) or not correlation_key.strip():
        raise Invalid("correlation_key must be a case id or a CPR number")
    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object")
    waits = _waiting_for(session, name, correlation_key.strip())
    case_ids = {w.case_id for w in waits}
    if not case_ids:
        raise NotFound(f"no case waits for message '{name}' with that correlation key")
    if len(case_ids) > 1:
        raise Conflict(f"{len(case_ids)} cases wait for message '{name}' with that key; use the case id")
    wait = waits[0]
    check_can_send_message(user, wait.unit)
    case = lock_case(session, wait.case_id)
    run = CaseRun(session, case, actor=user.username)
    task = run.workflow.get_task_from_id(UUID(wait.spiff_task_id))
    if task is None or task.state != TaskState.WAITING:
        raise NotFound(f"the case no longer waits for message '{name}'")
    definition = task.task_spec.event_definition
    audit.record(session, case, "message_received", actor=user.username, element_id=wait.element_id,
                 details={"name": name, "data": data})
    event = BpmnEvent(type(definition)(definition.name), payload=deepcopy(data))
    _guarded(lambda: run.workflow.catch(event))
    run.step()
    run.save()
    return case


def _waiting_for(session: Session, name: str, key: str) -> list[Wait]:
    conditions = [Wait.case_id == key]
    try:
        digits = cpr_rules.normalize(key)
        citizen_cases = select(Case.id).join(Citizen, Citizen.id == Case.citizen_id).where(Citizen.cpr == digits)
        conditions.append(Wait.case_id.in_(citizen_cases))
    except cpr_rules.InvalidCpr:
        pass
    return list(session.scalars(select(Wait).where(Wait.kind == "message", Wait.message == name, or_(*conditions))
                                .order_by(Wait.case_id)))


def cancel_case(session: Session, *, case_id: str, reason: object, actor: str) -> Case:
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("a reason is required to cancel a case")
    case = lock_case(session, case_id)
    if case.status != "running":
        raise Conflict(f"case {case_id} is {case.status}")
    run = CaseRun(session, case, actor=actor)
    _guarded(run.workflow.cancel)
    case.status, case.cancel_reason, case.completed_at = "cancelled", reason.strip(), clock.now()
    audit.record(session, case, "case_cancelled", actor=actor, details={"reason": reason.strip()})
    run.skip.add("completed_logged")
    run.save()
    return case


def due_timer_case_ids(session: Session, *, now, limit: int = 100) -> list[str]:
    rows = session.scalars(select(Wait.case_id).distinct().where(Wait.kind == "timer", Wait.due_at <= now)
                           .limit(limit))
    return list(rows)


def fire_timers(session: Session, *, case_id: str) -> int:
    """Fire every timer of this case that is due now; returns how many fired."""
    case = lock_case(session, case_id)
    if case.status != "running":
        return 0
    run = CaseRun(session, case, actor=TIMER_ACTOR)
    _guarded(run.workflow.refresh_timers)
    run.step()
    fired = sum(1 for t in run.workflow.get_tasks(state=TaskState.COMPLETED)
                if t.id not in run.before and t.task_spec.__class__.__name__.endswith("Event")
                and "Timer" in type(getattr(t.task_spec, "event_definition", None)).__name__)
    run.save()
    return fired
