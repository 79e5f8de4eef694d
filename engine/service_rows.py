"""Service-task rows projected from a run: one `service_tasks` row per service task the case waits at.

Called by engine.runtime's CaseRun.save inside the locked transaction, next to
the human-task and wait projections; it only adds and updates rows.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock
from .bpmn.service_task import topic_of
from .bpmn.workflow_tasks import element_id, element_name, tasks_in
from .json_data import to_plain_json
from .models import Case, ServiceTask
from .statuses import OPEN_SERVICE_TASK_STATES, CaseStatus, ServiceTaskStatus

DEFAULT_RETRIES = 3  # failures before an incident, unless the diagram sets a `retries` property


def waiting_service_tasks(workflow: BpmnWorkflow) -> dict[str, Task]:
    return {str(t.id): t for t in tasks_in(workflow, TaskState.STARTED) if topic_of(t.task_spec)}


def sync_service_tasks(session: Session, case: Case, workflow: BpmnWorkflow, *, actor: str | None,
                       cause: str | None = None) -> None:
    waiting = waiting_service_tasks(workflow) if case.status == CaseStatus.RUNNING else {}
    rows = {r.id: r for r in session.scalars(
        select(ServiceTask).where(ServiceTask.case_id == case.id, ServiceTask.status.in_(OPEN_SERVICE_TASK_STATES)))}
    for task_id, row in rows.items():
        if task_id not in waiting:  # a boundary event or a cancellation took it away
            row.status, row.completed_at, row.lock_owner, row.lease_until = (
                ServiceTaskStatus.CANCELLED, clock.now(), None, None)
            audit.record(session, case, "service_task_cancelled", actor=actor, cause=cause, element_id=row.element_id,
                         task_id=row.id, details={"topic": row.topic})
    for task_id, task in waiting.items():
        if task_id in rows or session.get(ServiceTask, task_id) is not None:
            continue
        extensions = task.task_spec.extensions or {}
        retries = int(extensions.get("retries") or DEFAULT_RETRIES)
        row = ServiceTask(id=task_id, case_id=case.id, element_id=element_id(task), name=element_name(task),
                          topic=topic_of(task.task_spec), variables=to_plain_json(dict(task.data)), status=ServiceTaskStatus.OPEN,
                          attempts=0, retries_left=retries, created_at=clock.now())
        session.add(row)
        audit.record(session, case, "service_task_created", actor=actor, cause=cause, element_id=row.element_id,
                     task_id=task_id, details={"topic": row.topic, "name": row.name})
