"""What a run changed, projected into rows: human tasks, waits, audit events.

Called by engine.runtime after every run, inside the locked transaction;
it only adds and updates rows through the session given.
"""
from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import audit, clock
from .accounts import find_user
from .bpmn.camunda7_specs import TaskAttributes, task_attributes
from .bpmn.workflow_tasks import (
    COMPLETED,
    READY,
    catching,
    element_id,
    element_name,
    event_subprocess_starts,
    gateway_path_names,
    gateway_paths,
    is_human,
    passed_event_type,
    tasks_in,
    unit_of,
    wait_kind,
    waiting_catch_events,
)
from .bundles import swapped_form_key
from .case_rules import CaseRules
from .deadlines import DeadlineError, due_at, parse_rule
from .models import LIVE_TASK, Case, HumanTask, Wait
from .statuses import OPEN_TASK_STATES, CaseStatus, TaskStatus
from .task_archive import find_task


def sync_human_tasks(session: Session, case: Case, workflow: BpmnWorkflow, *, actor: str | None,
                     rules: CaseRules, cause: str | None = None) -> None:
    ready = {str(t.id): t for t in tasks_in(workflow, READY) if is_human(t)}
    rows = {r.id: r for r in session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id, LIVE_TASK, HumanTask.status.in_(OPEN_TASK_STATES)))}
    for task_id, row in rows.items():
        if task_id not in ready:
            row.status = TaskStatus.CANCELLED
            row.completed_at = clock.now()
            audit.record(session, case, "task_cancelled", actor=actor, cause=cause, element_id=row.element_id,
                         task_id=row.id)
    for task_id, task in ready.items():
        # a running case's tasks are all live (engine.task_archive): the live partition is where an id would be
        if task_id in rows or find_task(session, task_id, live_only=True) is not None:
            continue
        form = getattr(task.task_spec, "form", None)
        extensions = getattr(task.task_spec, "extensions", None) or {}
        rule_text = extensions.get("deadline")
        named = form.key if form is not None and form.key else None
        # the case's rule set may swap the form (engine.rule_sets): the row keeps the one the task gets, so its
        # page, GET /api/tasks/{id} and the completion's checks all read the same form
        form_key = swapped_form_key(session, case.definition_id, named, rules)
        row = HumanTask(
            id=task_id, case_id=case.id, process_key=case.process_key, process_version=case.version,
            element_id=element_id(task), name=element_name(task), unit=unit_of(task),
            status=TaskStatus.OPEN, created_at=clock.now(), due_at=None, deadline_rule=rule_text,
            form_key=form_key, audience=extensions.get("audience") or None,
        )
        if rule_text:
            row.due_at = _due(session, case, task, row, rule_text, rules, actor, cause)
        camunda = task_attributes(task, clock.now())  # Camunda 7's assignee, dueDate, … (none: nothing changes)
        if camunda.due_at is not None and not rule_text:
            row.due_at = clock.as_utc(camunda.due_at)
        session.add(row)
        audit.record(session, case, "task_created", actor=actor, cause=cause, element_id=row.element_id,
                     task_id=task_id,
                     details={"name": row.name, "unit": row.unit, "due_at": row.due_at, "deadline": rule_text,
                              **({"audience": row.audience} if row.audience else {}), **_camunda_details(camunda),
                              **({"form_key": form_key, "form_swapped_from": named, "rule_set": case.rule_set}
                                 if form_key != named else {})})
        if camunda.any:
            _apply_camunda(session, case, row, camunda, actor, cause)


def _camunda_details(camunda: TaskAttributes) -> dict:
    """What a Camunda 7 task says beyond Tovholder's columns, kept (and shown) on its task_created event."""
    details: dict = {}
    if camunda.follow_up_at is not None:
        details["follow_up_at"] = clock.as_utc(camunda.follow_up_at)
    if camunda.priority is not None:
        details["priority"] = camunda.priority
    if camunda.candidate_users:
        details["candidate_users"] = camunda.candidate_users
    return details


def _apply_camunda(session: Session, case: Case, row: HumanTask, camunda: TaskAttributes, actor: str | None,
                   cause: str | None = None) -> None:
    """camunda:assignee assigns the task when that user may take it; what could not be applied is audited."""
    for found in camunda.problems:
        audit.record(session, case, "task_attribute_error", actor=actor, cause=cause, element_id=row.element_id,
                     task_id=row.id, details=found)
    if not camunda.assignee:
        return
    user = find_user(session, camunda.assignee)
    reason = None
    if user is None or user.role not in ("caseworker", "teamlead"):
        reason = f"there is no active caseworker or team lead '{camunda.assignee}'"
    elif row.unit not in user.units:
        reason = f"'{camunda.assignee}' is not a member of unit '{row.unit}'"
    elif row.audience == "teamlead" and user.role != "teamlead":
        reason = f"'{camunda.assignee}' is not a team lead"
    if reason is not None:
        audit.record(session, case, "assignee_not_applied", actor=actor, cause=cause, element_id=row.element_id,
                     task_id=row.id, details={"assignee": camunda.assignee, "reason": reason})
        return
    row.status, row.assignee = TaskStatus.CLAIMED, camunda.assignee
    audit.record(session, case, "task_assigned", actor=actor, cause=cause, element_id=row.element_id, task_id=row.id,
                 details={"assignee": camunda.assignee, "previous_assignee": None, "by": "camunda:assignee"})


def _due(session: Session, case: Case, task: Task, row: HumanTask, rule_text: str, rules: CaseRules,
         actor: str | None, cause: str | None) -> datetime | None:
    """The task's due time; a rule that cannot be applied is recorded, never silently dropped."""
    try:
        rule = parse_rule(rule_text, rules.named_deadlines())
        return clock.as_utc(due_at(rule, task.data, clock.now(), rules.calendar))
    except DeadlineError as exc:
        audit.record(session, case, "deadline_error", actor=actor, cause=cause, element_id=row.element_id,
                     task_id=row.id,
                     details={"deadline": rule_text, "message": str(exc)})
        return None


def sync_waits(session: Session, case: Case, workflow: BpmnWorkflow) -> None:
    session.execute(delete(Wait).where(Wait.case_id == case.id))
    if case.status != CaseStatus.RUNNING:
        return
    for task in waiting_catch_events(workflow):
        for spec, definition in catching(task):
            kind, message, due = wait_kind(task, definition)
            if kind is None:
                continue
            field = (getattr(spec, "extensions", None) or {}).get("correlation_key")
            value = task.data.get(field) if field else None
            session.add(Wait(case_id=case.id, spiff_task_id=str(task.id), element_id=spec.bpmn_id or spec.name,
                             name=getattr(spec, "bpmn_name", None), kind=kind, message=message,
                             unit=spec.lane or unit_of(task), due_at=due,
                             correlation=str(value)[:200] if value not in (None, "") else None))
    for spec, subprocess in event_subprocess_starts(workflow):
        session.add(Wait(case_id=case.id, spiff_task_id=str(workflow.task_tree.id), element_id=spec.bpmn_id,
                         name=getattr(spec, "bpmn_name", None), kind="message", message=spec.event_definition.name,
                         unit=spec.lane or subprocess.lane))


def record_path(session: Session, case: Case, workflow: BpmnWorkflow, before: set, *, actor: str | None,
                skip: frozenset | set = frozenset(), cause: str | None = None) -> None:
    """One audit event per BPMN element the run passed (gateways with the path they took, in words too)."""
    passed = [t for t in tasks_in(workflow, COMPLETED) if t.id not in before and t.id not in skip]
    passed.sort(key=lambda t: t.last_state_change)
    for task in passed:
        type_ = passed_event_type(task)
        if type_ is None:
            continue
        details = {"name": getattr(task.task_spec, "bpmn_name", None), "kind": type(task.task_spec).__name__}
        if type_ == "gateway_taken":
            details["taken"] = gateway_paths(task)
            details["taken_names"] = gateway_path_names(task)
        audit.record(session, case, type_, actor=actor, cause=cause, element_id=element_id(task), details=details)
