"""Moving a running case to another version of its process (CONTRACT.md: "Versions, changes and running cases").

A plan (`make_plan`) names the process, the two versions and the mapping of
element ids; it is checked once against both versions (422 naming the field).
`migrate_case` moves one case through the runtime's one mutation path, inside
the caller's transaction: lock the case (engine.locking) → load it
(runtime.CaseRun) → move the workflow onto the new spec (engine.bpmn.migration,
the SpiffWorkflow side) → make the human-task and service-task rows follow the
new elements (same ids, same assignees, created and due times) → audit
`case_migrated` → project and save (CaseRun.save). It only flushes.

A case that cannot move safely raises MigrationRefused with the reasons. All
checks run before the first row is written (except the lock's own version
bump), and the edge rolls the transaction back on a refusal, so a refused case
is left exactly as it was. engine.migration_batch is the edge for batches.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock
from .accounts import find_user
from .bpmn.migration import MoveRefused, MoveResult, move
from .bpmn.service_task import topic_of
from .bpmn.workflow_tasks import element_id, element_name, unit_of
from .bundles import swapped_form_key
from .case_rules import CaseRules
from .catalog import get_definition
from .deadlines import DeadlineError, due_at, parse_rule
from .errors import Conflict, Invalid, ProcessError
from .locking import lock_case
from .models import LIVE_TASK, Case, HumanTask, ProcessDefinition, ServiceTask, TaskDeadlineNotice
from .runtime import CaseRun, _definition_spec
from .statuses import OPEN_TASK_STATES as OPEN_STATES

MAX_MAPPING = 1000


class MigrationRefused(Conflict):
    """This case cannot move safely; `reasons` say why. Nothing of the case was changed."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons), reasons)
        self.reasons = reasons


@dataclass(frozen=True)
class MigrationPlan:
    process_key: str
    from_version: int
    to_version: int
    mapping: dict[str, str]
    source_id: str
    target_id: str

    def as_dict(self) -> dict:
        return {"process_key": self.process_key, "from": self.from_version, "to": self.to_version,
                "mapping": dict(self.mapping)}


@dataclass
class MigrationOutcome:
    case_id: str
    tasks: list[dict] = field(default_factory=list)
    timers: list[dict] = field(default_factory=list)


def element_ids(spec_json: str) -> set[str]:
    """The BPMN element ids of a stored version: its process and every process and subprocess it runs."""
    specs = json.loads(spec_json)
    found: set[str] = set()
    for spec in [specs["spec"], *specs["subprocess_specs"].values()]:
        found.update(ts["bpmn_id"] for ts in spec["task_specs"].values() if ts.get("bpmn_id"))
    return found


def make_plan(session: Session, *, process_key: object, from_version: object, to_version: object,
              mapping: object = None) -> MigrationPlan:
    problems = []
    if not isinstance(process_key, str) or not process_key.strip():
        problems.append({"field": "process_key", "message": "the key of a deployed process"})
    for name, value in (("from_version", from_version), ("to_version", to_version)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append({"field": name, "message": "a version number (1, 2, ...)"})
    mapping = {} if mapping is None else mapping
    if not isinstance(mapping, dict) or len(mapping) > MAX_MAPPING or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in mapping.items()):
        problems.append({"field": "mapping", "message": f"an object of at most {MAX_MAPPING} "
                                                        "old element id → new element id strings"})
    if problems:
        raise Invalid(problems[0]["message"] if len(problems) == 1 else "the migration plan is invalid", problems)
    # each was checked above
    assert isinstance(process_key, str) and isinstance(from_version, int) and isinstance(to_version, int)
    assert isinstance(mapping, dict)
    if from_version == to_version:
        raise Invalid("from_version and to_version are the same version",
                      [{"field": "to_version", "message": "must differ from from_version"}])
    source = get_definition(session, process_key, from_version)
    target = get_definition(session, process_key, to_version)
    old_ids, new_ids = element_ids(source.spec_json), element_ids(target.spec_json)
    for old, new in mapping.items():
        if old not in old_ids:
            problems.append({"field": f"mapping.{old}", "message": f"'{old}' is not an element of version {from_version}"})
        if new not in new_ids:
            problems.append({"field": f"mapping.{old}", "message": f"'{new}' is not an element of version {to_version}"})
    if problems:
        raise Invalid(problems[0]["message"] if len(problems) == 1 else "the mapping names unknown elements",
                      problems)
    return MigrationPlan(process_key, from_version, to_version, dict(mapping), source.id, target.id)


def migrate_case(session: Session, *, plan: MigrationPlan, case_id: str, actor: str,
                 rules: CaseRules) -> MigrationOutcome:
    """Move one case to the plan's target version; MigrationRefused when it cannot move safely."""
    case = lock_case(session, case_id)
    _check_case(case, plan)
    rows = {r.id: r for r in session.scalars(select(HumanTask).where(
        HumanTask.case_id == case.id, LIVE_TASK, HumanTask.status.in_(OPEN_STATES)))}
    try:
        run = CaseRun(session, case, actor=actor, rules=rules)
        moved = move(run.workflow, _definition_spec(session, plan.target_id), plan.mapping,
                     task_created=lambda task_id: rows[task_id].created_at if task_id in rows else None,
                     source_key=plan.source_id)
    except MoveRefused as exc:
        raise MigrationRefused(exc.reasons) from None
    except ProcessError as exc:
        raise MigrationRefused([f"the case does not load: {exc.message}"]) from None
    target = session.get_one(ProcessDefinition, plan.target_id)  # make_plan found it
    outcome = MigrationOutcome(case.id, timers=moved.timers)
    updates = [_follow_human_task(session, row, moved, target, run.rules) for row in rows.values()]  # its rule set
    services = _follow_service_tasks(session, case, moved)
    for row, changes in updates:  # every check passed: now write
        for name, value in changes.items():
            setattr(row, name, value)
        if "due_at" in changes:
            _forget_overdue_notice(session, row)
        outcome.tasks.append({"task_id": row.id, "element_id": row.element_id, **_jsonable(changes)})
    for service, changes in services:
        for name, value in changes.items():
            setattr(service, name, value)
    case.definition_id, case.version = target.id, target.version
    audit.record(session, case, "case_migrated", actor=actor, details={
        "from": plan.from_version, "to": plan.to_version, "mapping": moved.mapping_used, "by": actor,
        "plan_mapping": plan.mapping, "tasks": outcome.tasks, "timers": moved.timers})
    run.save()
    return outcome


def _check_case(case: Case, plan: MigrationPlan) -> None:
    if case.process_key != plan.process_key:
        raise MigrationRefused([f"the case runs '{case.process_key}', not '{plan.process_key}'"])
    if case.status != "running":
        raise MigrationRefused([f"the case is {case.status}"])
    if case.definition_id != plan.source_id:
        raise MigrationRefused([f"the case is on version {case.version}, not {plan.from_version}"])


def _follow_human_task(session: Session, row: HumanTask, moved: MoveResult, target: ProcessDefinition,
                       rules: CaseRules) -> tuple[HumanTask, dict]:
    """What the open task's row becomes on the new element; refuses when its assignee could not keep it."""
    move_ = moved.tasks.get(row.id)
    if move_ is None or move_.state != "ready":
        raise MigrationRefused([f"the open task '{row.element_id}' is not waiting for work in the moved case"])
    task = move_.task
    spec = task.task_spec
    extensions = getattr(spec, "extensions", None) or {}
    form = getattr(spec, "form", None)
    changes = {"element_id": element_id(task), "name": element_name(task), "unit": unit_of(task),
               # the case's rule set may swap the new element's form, as for a task created there (engine.projections)
               "form_key": swapped_form_key(session, target.id, form.key if form is not None and form.key else None,
                                            rules),
               "audience": extensions.get("audience") or None, "process_version": target.version}
    if row.assignee and changes["unit"] != row.unit:
        user = find_user(session, row.assignee)
        if user is None or changes["unit"] not in user.units:
            raise MigrationRefused([f"'{row.element_id}' is claimed by {row.assignee}, who is not a member of "
                                    f"unit '{changes['unit']}' that the new version gives it"])
    rule = extensions.get("deadline")
    if rule != row.deadline_rule:  # the new rule counts from when the task was created: the clock does not restart
        changes["deadline_rule"] = rule
        changes["due_at"] = _due_from_creation(row, rule, task.data, rules) if rule else None
    return row, {k: v for k, v in changes.items() if getattr(row, k) != v}


def _due_from_creation(row: HumanTask, rule_text: str, data: dict, rules: CaseRules) -> datetime:
    try:
        rule = parse_rule(rule_text, rules.named_deadlines())
        return clock.as_utc(due_at(rule, data, clock.as_utc(row.created_at), rules.calendar))
    except DeadlineError as exc:
        raise MigrationRefused([f"the new deadline of '{row.element_id}' cannot be applied: {exc}"]) from None


def _forget_overdue_notice(session: Session, row: HumanTask) -> None:
    """An overdue flag set for the old due time (engine.escalations) must not escalate on the new one.

    Not yet escalated, it is dropped: the worker flags the task again if it is overdue by
    its new due time (a reminder already queued for the same person is not queued twice).
    """
    notice = session.get(TaskDeadlineNotice, row.id)
    if notice is not None and notice.escalated_at is None:
        session.delete(notice)


def _follow_service_tasks(session: Session, case: Case, moved: MoveResult) -> list[tuple[ServiceTask, dict]]:
    rows = session.scalars(select(ServiceTask).where(ServiceTask.case_id == case.id,
                                                     ServiceTask.status.in_(("open", "locked"))))
    result = []
    for row in rows:
        move_ = moved.tasks.get(row.id)
        if move_ is None or move_.state != "started":
            raise MigrationRefused([f"the service task '{row.element_id}' is not waiting in the moved case"])
        changes: dict[str, str | None] = {"element_id": element_id(move_.task), "name": element_name(move_.task)}
        topic = topic_of(move_.task.task_spec)
        if topic != row.topic:
            if row.status == "locked":
                raise MigrationRefused([f"the service task '{row.element_id}' is being worked on its topic "
                                        f"'{row.topic}', which the new version changes to '{topic}'"])
            changes["topic"] = topic
        result.append((row, {k: v for k, v in changes.items() if getattr(row, k) != v}))
    return result


def _jsonable(changes: dict) -> dict:
    return {k: (clock.as_utc(v).isoformat() if hasattr(v, "isoformat") else v) for k, v in changes.items()}
