"""Service tasks, worked external-task style: fetch and lock with a lease, complete, or fail.

A case that reaches a service task waits there (engine.service_spec) with a
`service_tasks` row (engine.service_rows). A worker — the Tovholder worker's
own topic handlers (workers/handlers.py), or another system over HTTP —
takes rows of its topics with `fetch_and_lock`: each row is leased to that
worker id until `lease_until`. A lease that runs out makes the task
available again. `complete_service_task` resumes the case through the one
mutation path (lock → load → run → project → save, engine.runtime.CaseRun);
only the worker holding an unexpired lease may complete or fail, everyone
else gets 409. `fail_service_task` counts down the task's retries (back on
offer after a pause) and at zero opens an incident; an admin's retry of that
incident puts it on offer again.

Transaction rule: functions only flush; the route or worker item commits.
Completing and failing lock the case (they change it or write its audit);
fetching only locks the service-task rows (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so concurrent fetches never hand one task to two workers).
"""
from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from SpiffWorkflow.task import TaskState
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from . import audit, clock, incidents, strict_json
from .case_rules import CaseRules
from .errors import Conflict, Invalid, NotFound
from .json_data import to_plain_json
from .locking import lock_case
from .models import Incident, ServiceTask
from .runtime import CaseRun
from .service_rows import DEFAULT_RETRIES

MAX_TASKS, MAX_LEASE_SECONDS, MAX_RETRIES = 100, 86_400, 100
DEFAULT_RETRY_PAUSE = timedelta(seconds=30)
_WORKER_ID = re.compile(r"[A-Za-z0-9_.:@\-]{1,200}")


@dataclass(frozen=True)
class ServiceTaskView:
    id: str
    case_id: str
    element_id: str
    name: str | None
    topic: str
    variables: dict
    status: str
    lock_owner: str | None
    lease_until: datetime | None
    attempts: int
    retries_left: int
    error: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: ServiceTask) -> "ServiceTaskView":
        return cls(row.id, row.case_id, row.element_id, row.name, row.topic, dict(row.variables or {}), row.status,
                   row.lock_owner, clock.as_utc(row.lease_until), row.attempts or 0, row.retries_left, row.error,
                   clock.as_utc(row.created_at))

    def as_dict(self) -> dict:
        return {"id": self.id, "case_id": self.case_id, "element_id": self.element_id, "name": self.name,
                "topic": self.topic, "variables": self.variables, "status": self.status, "worker_id": self.lock_owner,
                "lease_until": self.lease_until.isoformat() if self.lease_until else None,
                "attempts": self.attempts, "retries_left": self.retries_left, "error": self.error,
                "created_at": self.created_at.isoformat()}


def _worker_id(value: object) -> str:
    if not isinstance(value, str) or not _WORKER_ID.fullmatch(value):
        raise Invalid("worker_id must be 1-200 letters, digits or . _ : @ -")
    return value


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}")
    return value


def _topics(value: object) -> list[str]:
    if (not isinstance(value, list) or not value or len(value) > 100
            or not all(isinstance(t, str) and 0 < len(t) <= 200 for t in value)):
        raise Invalid("topics must be a non-empty list of topic names")
    return sorted(set(value))


def fetch_and_lock(session: Session, *, worker_id: object, topics: object, max_tasks: object = 1,
                   lease_seconds: object = 300, now: datetime | None = None) -> list[ServiceTaskView]:
    """Lease up to `max_tasks` open tasks of these topics (oldest first) to this worker."""
    worker, wanted = _worker_id(worker_id), _topics(topics)
    limit = _whole(max_tasks, "max_tasks", 1, MAX_TASKS)
    lease = timedelta(seconds=_whole(lease_seconds, "lease_seconds", 1, MAX_LEASE_SECONDS))
    now = clock.as_utc(now or clock.now())
    available = or_(and_(ServiceTask.status == "open",
                         or_(ServiceTask.available_at.is_(None), ServiceTask.available_at <= now)),
                    and_(ServiceTask.status == "locked", ServiceTask.lease_until < now))  # a lease ran out
    rows = list(session.scalars(select(ServiceTask).where(ServiceTask.topic.in_(wanted), available)
                                .order_by(ServiceTask.created_at, ServiceTask.id).limit(limit)
                                .with_for_update(skip_locked=True)))
    for row in rows:
        row.status, row.lock_owner, row.lease_until = "locked", worker, now + lease
    session.flush()
    return [ServiceTaskView.of(r) for r in rows]


def get_service_task(session: Session, service_task_id: object) -> ServiceTaskView:
    return ServiceTaskView.of(_row(session, service_task_id))


def _row(session: Session, service_task_id: object, case_id: str | None = None) -> ServiceTask:
    row = (session.get(ServiceTask, service_task_id)
           if isinstance(service_task_id, str) and len(service_task_id) <= 36 else None)
    if row is None or (case_id is not None and row.case_id != case_id):
        raise NotFound(f"service task {service_task_id} not found")
    return row


def _holds_lease(row: ServiceTask, worker: str, lease: datetime | None, now: datetime) -> None:
    """Only the worker with an unexpired lease may finish the task (else 409: the lease is stale)."""
    if row.status != "locked":
        raise Conflict(f"service task {row.id} is {row.status}, not locked by {worker}")
    if row.lock_owner != worker:
        raise Conflict(f"service task {row.id} is locked by another worker")
    assert row.lease_until is not None  # a locked row always carries its lease (fetch_and_lock)
    if clock.as_utc(row.lease_until) < now:
        raise Conflict(f"the lease on service task {row.id} ran out at {clock.as_utc(row.lease_until).isoformat()}")
    if lease is not None and clock.as_utc(lease) != clock.as_utc(row.lease_until):
        raise Conflict(f"service task {row.id} was locked again since; this lease is stale")


def complete_service_task(session: Session, *, service_task_id: object, data: object, worker_id: object,
                          rules: CaseRules, case_id: str | None = None, lease: datetime | None = None,
                          now: datetime | None = None) -> ServiceTaskView:
    """Merge `data` into the task, complete it, and run the case on to its next wait."""
    worker = _worker_id(worker_id)
    if not isinstance(data, dict):
        raise Invalid("data must be a JSON object")
    strict_json.check_input(data)
    row = _row(session, service_task_id, case_id)
    case = lock_case(session, row.case_id)
    session.refresh(row)
    _holds_lease(row, worker, lease, clock.as_utc(now or clock.now()))
    actor = f"worker:{worker}"
    run = CaseRun(session, case, actor=actor, rules=rules)
    task = run.workflow.get_task_from_id(UUID(row.id))
    if task is None or task.state != TaskState.STARTED:
        raise Conflict(f"the case no longer waits at service task {row.id}")
    cleaned = to_plain_json(data)
    task.data.update(deepcopy(cleaned))
    run.guarded(task.complete)
    run.skip.add(task.id)
    row.status, row.completed_at, row.lock_owner, row.lease_until = "done", clock.now(), None, None
    audit.record(session, case, "service_task_completed", actor=actor, element_id=row.element_id, task_id=row.id,
                 details={"topic": row.topic, "data": cleaned})
    if row.attempts:
        incidents.resolve_open(session, case_id=case.id, kind="service_task", by=actor)
    run.step()
    run.save()
    return ServiceTaskView.of(row)


def fail_service_task(session: Session, *, service_task_id: object, worker_id: object, message: object,
                      retries: object = None, retry_in: timedelta = DEFAULT_RETRY_PAUSE, case_id: str | None = None,
                      lease: datetime | None = None, now: datetime | None = None) -> ServiceTaskView:
    """Count a failed attempt: back on offer after `retry_in` while retries are left, else an incident."""
    worker = _worker_id(worker_id)
    if not isinstance(message, str) or not message.strip():
        raise Invalid("message must say what went wrong")
    left = None if retries is None else _whole(retries, "retries", 0, MAX_RETRIES)
    row = _row(session, service_task_id, case_id)
    case = lock_case(session, row.case_id)  # the failure is written to the case's audit trail
    session.refresh(row)
    now = clock.as_utc(now or clock.now())
    _holds_lease(row, worker, lease, now)
    row.attempts = (row.attempts or 0) + 1
    row.error = incidents.clean_message(message)
    row.retries_left = left if left is not None else max(row.retries_left - 1, 0)
    row.lock_owner, row.lease_until = None, None
    audit.record(session, case, "service_task_failed", actor=f"worker:{worker}", element_id=row.element_id,
                 task_id=row.id, details={"topic": row.topic, "message": row.error, "attempts": row.attempts,
                                          "retries_left": row.retries_left})
    if row.retries_left > 0:
        row.status, row.available_at = "open", now + retry_in
    else:
        row.status = "failed"
        incidents.record_incident(session, case_id=row.case_id, kind="service_task", element_id=row.element_id,
                                  message=f"{row.topic}: {row.error}", attempts=row.attempts, ref=row.id)
    session.flush()
    return ServiceTaskView.of(row)


@incidents.retry_handler("service_task")
def _retry_service_task(session: Session, incident: Incident) -> None:
    """An admin's retry puts the failed task on offer again with a fresh set of retries."""
    row = session.get(ServiceTask, incident.ref) if incident.ref else None
    if row is not None and row.status == "failed":
        row.status, row.available_at, row.retries_left = "open", None, DEFAULT_RETRIES
