"""The only module that drives SpiffWorkflow: start, complete, correlate, fire, cancel.

Every change of a case follows one path inside the caller's transaction:
lock the case row (engine.locking) → load the workflow → change it → run
engine steps → project tasks, waits and audit events → save the state →
deliver the messages the run threw to the cases waiting for them
(engine.message_delivery, in the same transaction).
Functions here only flush; the edge (route, CLI, worker item) commits, and
on any error rolls back, so a failed run leaves the case as it was. The edge
then calls `record_failure` in a fresh transaction so the failure is audited.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import deepcopy
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import or_, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from . import (
    attachments,
    audit,
    case_attributes,
    case_numbers,
    clock,
    form_rules,
    message_delivery,
    message_forms,
    strict_json,
)
from . import cpr as cpr_rules
from .access import UNIT_MEMBERS, check_can_send_message, check_task_workable
from .accounts import UserView
from .bpmn.camunda7_specs import initiator_fields
from .bpmn.catches import START
from .bpmn.interrupt import interrupt_if_needed
from .bpmn.messages import message_definition, message_event
from .bpmn.reminders import close_done_reminders
from .bpmn.serializer import new_workflow, state_to_json, use_script_context, workflow_from_json
from .bpmn.workflow_tasks import completed_ids, due_timers, element_id, end_element
from .bundles import start_form, task_form
from .case_rules import CaseRules
from .catalog import get_definition
from .db import is_postgres
from .errors import Conflict, FormRejected, Invalid, NotFound, ProcessError, TaskNotOpen, UnstorableData
from .forms import validate_data
from .json_data import to_plain_json
from .locking import lock_case
from .models import AuditEvent, Case, Citizen, HumanTask, ProcessDefinition, Wait, new_id
from .projections import record_path, sync_human_tasks, sync_waits
from .scripting import ScriptStopped
from .service_rows import sync_service_tasks
from .statuses import OPEN_TASK_STATES, CaseStatus, TaskStatus, WaitKind
from .storable import NotJson, plain_data
from .task_archive import find_task, reload_task

TIMER_ACTOR = "system:timer"
# What the engine does after someone's action (gateways, the next task, a message to another case) is
# the system's; the audit event names the person whose action caused it as details.cause.
SYSTEM_ACTOR = "system:engine"
T = TypeVar("T")

_SPEC_CACHE: dict[str, str] = {}


def _definition_spec(session: Session, definition_id: str) -> str:
    """Definitions are immutable, so their spec JSON is cached by id for the process's life."""
    spec = _SPEC_CACHE.get(definition_id)
    if spec is None:
        spec = session.get_one(ProcessDefinition, definition_id).spec_json
        if len(_SPEC_CACHE) > 512:
            _SPEC_CACHE.clear()
        _SPEC_CACHE[definition_id] = spec
    return spec


def _wrap(exc: Exception, case_id: str | None, actor: str | None = None) -> ProcessError:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None) or getattr(exc, "task_spec", None)
    element = (getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)) if spec is not None else None
    line = getattr(exc, "line_number", None) or None
    message = str(exc).split("\n")[0] or type(exc).__name__
    cause = getattr(exc, "exception", None) or exc.__cause__
    if cause is not None and type(cause).__name__ not in message:
        message = f"{message} ({type(cause).__name__})"
    reason = exc.__context__  # SpiffWorkflow wraps an expression's error without its message
    if isinstance(reason, (ScriptStopped, NotJson)) and str(reason) not in message:
        message = f"{message.rstrip('. ')}: {reason}"
    detail = {"element": element, "line": line, "message": message}
    unstorable = next((e for e in (reason, cause) if isinstance(e, NotJson) and e.field), None)
    if unstorable is not None:  # the same detail as UnstorableData: the field the value sits in
        detail["field"] = unstorable.field
    error = ProcessError(f"the process failed at {element or 'an element'}: {message}", detail)
    error.case_id, error.actor = case_id, actor
    return error


def _guarded(action: Callable[[], T], case_id: str | None = None, actor: str | None = None) -> T:
    """Run a SpiffWorkflow call; any exception becomes a ProcessError naming the element."""
    try:
        return action()
    except ProcessError as exc:
        if exc.case_id is None:
            exc.case_id, exc.actor = case_id, actor
        raise
    except (SpiffWorkflowException, Exception) as exc:  # noqa: BLE001 - diagram code may raise anything
        raise _wrap(exc, case_id, actor) from exc


class CaseRun:
    """One locked run of a case: load, change, step, project, save, deliver thrown messages."""

    def __init__(self, session: Session, case: Case, *, actor: str | None, rules: CaseRules,
                 workflow: BpmnWorkflow | None = None, hops: int = 0, cause: str | None = None):
        rules = rules.for_rule_set(case.rule_set)  # named deadlines resolve through the case's rule set
        self.session, self.case, self.actor, self.rules, self.hops = session, case, actor, rules, hops
        # `actor` made the change (a failure names them); the steps the engine runs after it are the
        # system's, caused by them. A timer's steps are the timer's.
        self.step_actor: str
        self.cause: str | None
        if actor is None or actor.startswith("system:"):
            self.step_actor, self.cause = actor or SYSTEM_ACTOR, cause
        else:
            self.step_actor, self.cause = SYSTEM_ACTOR, actor
        self.workflow = workflow or _guarded(lambda: workflow_from_json(
            case.state_json, _definition_spec(session, case.definition_id), rules.script_context()), case.id)
        self.before = completed_ids(self.workflow)
        self.skip: set = set()

    def guarded(self, action: Callable[[], T]) -> T:
        return _guarded(action, self.case.id, self.actor)

    def follow_rule_set(self) -> None:
        """The case's rule set changed during this run: what is created from now on gets its figures."""
        self.rules = self.rules.for_rule_set(self.case.rule_set)
        use_script_context(self.workflow, self.rules.script_context())

    def step(self) -> None:
        self.guarded(lambda: self.workflow.do_engine_steps(did_complete_task=_after_task))

    def save(self) -> None:
        """Project and store the run; data strict JSON cannot hold (a script's NaN) stores nothing."""
        try:
            self._save()
        except strict_json.NotStrictJson as exc:
            raise self._unstorable(exc) from None
        except StatementError as exc:  # a JSON column refused it while flushing (engine.db)
            if isinstance(exc.orig, strict_json.NotStrictJson):
                raise self._unstorable(exc.orig) from None
            raise

    def _unstorable(self, exc: strict_json.NotStrictJson) -> UnstorableData:
        """Name the element whose data holds the value (the first task holding it, in creation order)."""
        element, field, reason = None, exc.field(), exc.reason
        for task in _all_tasks(self.workflow):
            found = strict_json.problem(task.data)
            if found is not None:
                element, field, reason = element_id(task), found.field(), found.reason
                break
        message = f"{field} {reason}; nothing was saved"
        error = UnstorableData(f"the process failed at {element or 'an element'}: {message}",
                               {"element": element, "line": None, "field": field, "message": message})
        error.case_id, error.actor = self.case.id, self.actor
        return error

    def _save(self) -> None:
        session, case, workflow = self.session, self.case, self.workflow
        actor, cause = self.step_actor, self.cause
        closed = close_done_reminders(workflow)  # a reminder of a task that is done is done too
        for reminder in closed:
            audit.record(session, case, "reminder_closed", actor=actor, cause=cause, element_id=reminder.element_id,
                         task_id=reminder.task_id, details={"reminded_element_id": reminder.reminded_element_id,
                                                            "reminded_task_id": reminder.reminded_task_id})
        if closed:
            self.step()  # the end the closed branch held up (engine.bpmn.reminders), if it did
        record_path(session, case, workflow, self.before, actor=actor, cause=cause, skip=self.skip)
        finished_now = case.status == CaseStatus.RUNNING and workflow.completed
        if finished_now:
            case.status, case.completed_at = CaseStatus.COMPLETED, clock.now()
        sync_human_tasks(session, case, workflow, actor=actor, cause=cause, rules=self.rules)
        if finished_now:
            audit.record(session, case, "case_completed", actor=actor, cause=cause, element_id=end_element(workflow))
        sync_waits(session, case, workflow)
        sync_service_tasks(session, case, workflow, actor=actor, cause=cause)
        thrown = message_delivery.thrown_with_payloads(workflow)
        case.state_json = state_to_json(workflow)
        case.data = to_plain_json(_current_data(workflow))
        case.updated_at = clock.now()
        session.flush()
        message_delivery.deliver(session, case, thrown, rules=self.rules, hops=self.hops + 1, cause=cause)


def _all_tasks(workflow: BpmnWorkflow) -> Iterator[Task]:
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def _after_task(task: Task) -> None:
    interrupt_if_needed(task)
    # What a DMN cell or another expression put in the data must be storable: dates become ISO strings,
    # a set (or any other value without a JSON form) fails the step naming the element, before any save.
    # The children copied the data when the task completed, so they get the same conversion.
    for holder in (task, *task.children):
        try:
            plain = plain_data(holder.data)
        except NotJson as exc:
            raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc
        if plain is not holder.data:
            holder.data = plain


def _current_data(workflow: BpmnWorkflow) -> dict:
    last = workflow.last_task
    if last is not None:
        return deepcopy(last.data)
    ready = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
    return deepcopy(ready[0].data) if ready else {}


def _citizen(session: Session, digits: str) -> Citizen:
    citizen = session.scalar(select(Citizen).where(Citizen.cpr == digits))
    if citizen is not None:
        return citizen
    if not is_postgres(session):
        # pysqlite starts no transaction before the first write, so a SAVEPOINT here would be the
        # outermost transaction and its RELEASE would commit the citizen even if the start then
        # fails. SQLite has one writer at a time: the insert waits for the other writer, and one that
        # added the same citizen meanwhile makes it a no-op; the row is then read as committed.
        session.execute(sqlite_insert(Citizen).values(id=new_id(), cpr=digits).on_conflict_do_nothing())
        return session.scalars(select(Citizen).where(Citizen.cpr == digits)).one()
    try:
        with session.begin_nested():
            citizen = Citizen(cpr=digits)
            session.add(citizen)
    except IntegrityError:  # another transaction added the same citizen just now
        citizen = session.scalars(select(Citizen).where(Citizen.cpr == digits)).one()
    return citizen


def start_case(session: Session, *, process_key: str, cpr: object, data: object, actor: UserView | None,
               rules: CaseRules, version: int | None = None, rule_set: object = None,
               rule_set_reason: object = None) -> Case:
    """`rule_set`: the rule set the case runs under (engine.rule_sets; None: the ordinary rules)."""
    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object")
    strict_json.check_input(data)
    problems: list[dict] = []  # a bad CPR, rule set and the start form's messages are said together
    chosen = case_attributes.rule_set_problem(rules, rule_set) if rule_set not in (None, "") else None
    if chosen is not None:
        problems.append({"field": "rule_set", "message": chosen})
    if rule_set_reason is not None and not isinstance(rule_set_reason, str):
        problems.append({"field": "rule_set_reason", "message": "rule_set_reason must be text"})
    try:
        digits = cpr_rules.normalize(cpr)
    except cpr_rules.InvalidCpr as exc:
        problems.append({"field": "cpr", "message": str(exc)})
    definition = get_definition(session, process_key, version)
    try:
        if definition.start_form_key:  # the version's own copy of the form: engine.bundles
            data = validate_data(start_form(session, definition, forms_dir=rules.forms_dir), data)
    except FormRejected as exc:
        problems += exc.detail if isinstance(exc.detail, list) else [{"field": None, "message": exc.message}]
    if problems:
        raise FormRejected(problems[0]["message"] if len(problems) == 1 else "the case cannot start", problems)
    citizen, username = _citizen(session, digits), actor.username if actor else None
    begins_with = message_forms.start_message(session, definition)
    if begins_with is not None:
        # The start form is the message's form (an employer's report typed in by hand): the case begins
        # with that message, as if it had come in, and does not then wait for it.
        event = message_event(MessageEventDefinition(begins_with.message), data)
        return new_case(session, definition, citizen, {}, username, rules, message=event,
                        from_unit=_sender_unit(actor, begins_with.unit), rule_set=rule_set or None,
                        rule_set_reason=rule_set_reason)
    return new_case(session, definition, citizen, data, username, rules, rule_set=rule_set or None,
                    rule_set_reason=rule_set_reason)


def _sender_unit(user: UserView | None, unit: str | None) -> str | None:
    """Who a message from outside came through: the unit whose member registered it (None: a system)."""
    if user is not None and user.role in UNIT_MEMBERS and unit in user.units:
        return unit
    return None


def new_case(session: Session, definition: ProcessDefinition, citizen: Citizen, data: dict, actor: str | None,
             rules: CaseRules, *, message: BpmnEvent | None = None, hops: int = 0, cause: str | None = None,
             arrival: dict | None = None, from_unit: str | None = None, rule_set: object = None,
             rule_set_reason: object = None, sender: Case | None = None) -> Case:
    """Create a case of this version for this citizen and run it to its first wait (started by a message:
    the case catches it first). The one start path: start_case, messages from outside and between cases.

    `from_unit`: the unit a message came from or through; `arrival`: from another case, which case and
    where there each value it carries was recorded (engine.handover); `rule_set`: a checked rule set name
    other than the ordinary rules, audited with its reason; `sender`: the case whose message started this
    one, whose rule set and coordinator it takes (engine.case_attributes.inherit)."""
    if sender is not None and not rule_set and sender.rule_set != case_attributes.ORDINARY:
        rule_set = sender.rule_set
    rules = rules.for_rule_set(str(rule_set) if rule_set else None)
    workflow = _guarded(lambda: new_workflow(_definition_spec(session, definition.id), rules.script_context()))
    start = workflow.get_tasks(state=TaskState.READY)[0]
    start.data.update(deepcopy(data))
    for field in initiator_fields(workflow):  # Camunda 7's camunda:initiator: who started the case
        start.data[field] = actor
    now = clock.now()
    case = Case(definition_id=definition.id, process_key=definition.key, version=definition.version,
                citizen_id=citizen.id, status=CaseStatus.RUNNING, state_json="{}", data=data,
                lock_version=0, audit_seq=0, created_at=now, updated_at=now, started_by=actor,
                number=case_numbers.assign(session, now), rule_set=case_attributes.ORDINARY)
    session.add(case)
    session.flush()
    details = {"process_key": case.process_key, "version": case.version, "number": case.number, "data": data,
               **_start_element(session, definition, message)}
    if message is not None:  # what the message brought is what the case starts with: audited as such
        details["message"] = message.event_definition.name
        details["message_data"] = to_plain_json(message.payload or {})
        details["from_unit"] = from_unit
        details.update(arrival or {})
    audit.record(session, case, "case_started", actor=actor, cause=cause, details=details)
    if sender is not None:
        case_attributes.inherit(session, case, sender, actor=actor, cause=cause, rules=rules)
    elif rule_set:
        case_attributes.choose_rule_set(session, case, str(rule_set), actor=actor, reason=rule_set_reason,
                                        rules=rules)
    run = CaseRun(session, case, actor=actor, rules=rules, workflow=workflow, hops=hops, cause=cause)
    run.step()
    if message is not None:
        run.guarded(lambda: workflow.catch(message))
        run.step()
    run.save()
    return case


def _start_element(session: Session, definition: ProcessDefinition, message: BpmnEvent | None) -> dict:
    """The start event a case begins at and the unit of its lane (where its start data arrives)."""
    index = message_forms.version_index(session, definition.id)
    if message is not None:
        catch = message_forms.catch_for(session, definition.id, name=message.event_definition.name, kinds=(START,))
        if catch is not None:
            return {"element_id": catch.element_id, "unit": catch.unit}
    element = index.elements.get(index.start_element or "")
    return {"element_id": element.element_id, "unit": element.unit} if element is not None else {}


def _task_row(session: Session, task_id: str) -> HumanTask:
    row = find_task(session, task_id)
    if row is None:
        raise NotFound(f"task {task_id} not found")
    return row


def complete_task(session: Session, *, task_id: str, data: object, user: UserView,
                  rules: CaseRules) -> tuple[HumanTask, Case]:
    strict_json.check_input(data)
    row = _task_row(session, task_id)
    check_task_workable(user, row)
    case = lock_case(session, row.case_id)
    reload_task(session, row)
    if row.status not in OPEN_TASK_STATES:
        raise TaskNotOpen(f"task {task_id} is {row.status}")
    if row.status == TaskStatus.CLAIMED and row.assignee != user.username:
        raise Conflict(f"task {task_id} is claimed by {row.assignee}")
    form = task_form(session, row, forms_dir=rules.forms_dir, case=case)  # as the case's version has it
    run = CaseRun(session, case, actor=user.username, rules=rules)
    task = run.workflow.get_task_from_id(UUID(row.id))
    if task is None or task.state != TaskState.READY:
        raise TaskNotOpen(f"task {task_id} is no longer waiting for completion")
    # a form's date rules may refer to what the task already holds (a date an earlier step recorded)
    checked = validate_data(form, data, case_data={**(case.data or {}), **task.data},
                            task_created=form_rules.danish_day(row.created_at))
    case_attributes.check_form_fields(session, form, checked, run.rules)  # staff and rule set fields
    cleaned = attachments.check_form_files(session, case_id=case.id, form=form, data=checked)
    task.data.update(deepcopy(cleaned))
    run.guarded(task.run)
    run.skip.add(task.id)
    row.status, row.completed_at, row.completed_by = TaskStatus.COMPLETED, clock.now(), user.username
    row.assignee = row.assignee or user.username
    audit.record(session, case, "task_completed", actor=user.username, element_id=row.element_id,
                 task_id=row.id, details={"data": cleaned})
    if case_attributes.apply_form_fields(session, case, form, cleaned, actor=user.username,
                                         element_id=row.element_id, task_id=row.id, rules=run.rules):
        run.follow_rule_set()  # the tasks this completion leads to get the chosen rule set's figures
    run.step()
    run.save()
    return row, case


# -- messages ------------------------------------------------------------------------------------


def catch_message(session: Session, case: Case, wait: Wait, name: str, data: dict, *, actor: str,
                  rules: CaseRules, hops: int = 0, cause: str | None = None, from_unit: str | None = None,
                  arrival: dict | None = None) -> bool:
    """Run the locked case on the message its wait row listens for; False when it no longer listens.

    The audit event keeps where it arrived (the wait's unit and element) and where it came from
    (`from_unit`; from another case, `arrival`: which case, and the provenance of each value)."""
    run = CaseRun(session, case, actor=actor, rules=rules, hops=hops, cause=cause)
    task = run.workflow.get_task_from_id(UUID(wait.spiff_task_id))
    if task is not None and task is run.workflow.task_tree:
        definition = MessageEventDefinition(name)  # starts an event subprocess (see projections)
    elif task is not None and task.state == TaskState.WAITING:
        definition = message_definition(task, name)
    else:
        definition = None
    if definition is None:
        return False
    audit.record(session, case, "message_received", actor=actor, cause=cause, element_id=wait.element_id,
                 details={"name": name, "data": data, "element_name": wait.name, "unit": wait.unit,
                          "from_unit": from_unit, **(arrival or {})})
    event = message_event(definition, deepcopy(data))
    run.guarded(lambda: run.workflow.catch(event))
    run.step()
    run.save()
    return True


def correlate_message(session: Session, *, name: object, correlation_key: object, data: object,
                      user: UserView, rules: CaseRules, element_id: str | None = None) -> Case:
    """Deliver a message from outside to the case waiting for it, or start a case that begins with it.

    The data must fill the form of the event that catches it (engine.message_forms), checked with the
    case's own version before anything changes. `element_id` picks one of a case's waits for the name
    (a unit registering it on the case page).
    """
    if not isinstance(name, str) or not name.strip():
        raise Invalid("name must be the message's name")
    if not isinstance(correlation_key, str) or not correlation_key.strip():
        raise Invalid("correlation_key must be a case id, a CPR number or a key the process names")
    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object")
    strict_json.check_input(data)
    key = correlation_key.strip()
    waits = [w for w in _waiting_for(session, name, key) if element_id is None or w.element_id == element_id]
    case_ids = {w.case_id for w in waits}
    if len(case_ids) > 1:
        raise Conflict(f"{len(case_ids)} cases wait for message '{name}' with that key; use the case id")
    if not case_ids:
        return _start_by_message(session, name, key, data, user, rules)
    wait = waits[0]
    check_can_send_message(user, wait.unit)
    definition_id = session.scalars(select(Case.definition_id).where(Case.id == wait.case_id)).one()
    data = message_forms.check_message(session, definition_id, element_id=wait.element_id, name=name, data=data,
                                       forms_dir=rules.forms_dir)
    case = lock_case(session, wait.case_id)
    if not catch_message(session, case, wait, name, data, actor=user.username, rules=rules,
                         from_unit=_sender_unit(user, wait.unit)):
        raise NotFound(f"the case no longer waits for message '{name}'")
    return case


def _start_by_message(session: Session, name: str, key: str, data: dict, user: UserView, rules: CaseRules) -> Case:
    starts = message_delivery.message_start_definitions(session, name)
    try:
        digits = cpr_rules.normalize(key)
    except cpr_rules.InvalidCpr:
        digits = None
    if not starts or digits is None:
        raise NotFound(f"no case waits for message '{name}' with that correlation key")
    if len(starts) > 1:
        raise Conflict(f"message '{name}' starts {len(starts)} processes; it must start exactly one")
    if user.role not in ("admin", "integration"):
        check_can_send_message(user, None)
    definition = starts[0]
    catch = message_forms.catch_for(session, definition.id, name=name, kinds=(START,))
    data = message_forms.check_message(session, definition.id, element_id=catch.element_id if catch else None,
                                       name=name, data=data, forms_dir=rules.forms_dir)
    event = _message_event(session, definition, name, data)
    return new_case(session, definition, _citizen(session, digits), {}, user.username, rules, message=event,
                    from_unit=_sender_unit(user, catch.unit if catch else None))


def _message_event(session: Session, definition: ProcessDefinition, name: str, data: dict) -> BpmnEvent:
    return message_event(MessageEventDefinition(name), deepcopy(data))


def _waiting_for(session: Session, name: str, key: str) -> list[Wait]:
    conditions = [Wait.case_id == key, Wait.correlation == key]
    try:
        digits = cpr_rules.normalize(key)
        citizen_cases = select(Case.id).join(Citizen, Citizen.id == Case.citizen_id).where(Citizen.cpr == digits)
        conditions.append(Wait.case_id.in_(citizen_cases))
    except cpr_rules.InvalidCpr:
        pass
    query = select(Wait).where(Wait.kind == WaitKind.MESSAGE, Wait.message == name, or_(*conditions))
    return list(session.scalars(query.order_by(Wait.case_id)))


# -- cancel, timers, failures ----------------------------------------------------------------------


def cancel_case(session: Session, *, case_id: str, reason: object, actor: str, rules: CaseRules) -> Case:
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("a reason is required to cancel a case")
    case = lock_case(session, case_id)
    if case.status != CaseStatus.RUNNING:
        raise Conflict(f"case {case_id} is {case.status}")
    run = CaseRun(session, case, actor=actor, rules=rules)
    run.guarded(run.workflow.cancel)
    case.status, case.cancel_reason, case.completed_at = CaseStatus.CANCELLED, reason.strip(), clock.now()
    audit.record(session, case, "case_cancelled", actor=actor, details={"reason": reason.strip()})
    run.save()
    return case


def fire_timers(session: Session, *, case_id: str, rules: CaseRules, now: datetime | None = None) -> int:
    """Fire every timer of this case that is due at `now` (default: the clock); returns how many fired."""
    case = lock_case(session, case_id)
    if case.status != CaseStatus.RUNNING:
        return 0
    moment = clock.as_utc(now or clock.now())
    with clock.at(moment):
        run = CaseRun(session, case, actor=TIMER_ACTOR, rules=rules)
        # SpiffWorkflow fires a timer only once its due moment has passed (strictly after)
        due = due_timers(run.workflow, moment)
        run.guarded(run.workflow.refresh_timers)
        run.step()
        for task, when in due:
            if task.state == TaskState.WAITING:  # a cycle fires and keeps waiting for its next turn
                audit.record(session, case, "timer_fired", actor=TIMER_ACTOR, element_id=element_id(task),
                             details={"due_at": when, "cycle": True})
        run.save()
    return len(due)


def record_failure(session: Session, *, case_id: str, error: ProcessError, actor: str | None) -> None:
    """Audit a failed run in a fresh transaction after the failed one was rolled back."""
    case = lock_case(session, case_id)
    last = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq.desc())
                          .limit(1))
    if last is not None and last.type == "process_error" and last.details == to_plain_json(error.detail):
        return  # the same failure again (a retried timer): one event is enough
    audit.record(session, case, "process_error", actor=actor, element_id=error.detail.get("element"),
                 details=error.detail)
    session.flush()
