"""The worker's own service-task runner: fetch and lock a task of a handled topic, run its handler, complete.

Transaction rule: the lease is taken and committed in one short transaction;
the handler and the completion (engine.service_tasks.complete_service_task,
through the case's one mutation path) share a second one, so a letter is
queued if and only if the task completes. A handler that fails rolls that
back; a third transaction counts the failure (retry after backoff, then an
incident). A worker that dies mid-task leaves a lease that runs out, and the
task is offered again.
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.case_rules import CaseRules
from engine.errors import Conflict, EngineError
from engine.logs import mask_cpr
from engine.retry_policy import RetryPolicy
from engine.service_tasks import ServiceTaskView, complete_service_task, fail_service_task, fetch_and_lock
from engine.settings import Settings

from .handlers import HANDLERS, Handler, HandlerFailed

log = logging.getLogger("tovholder.worker")
WORKER_ID = f"tovholder-worker@{socket.gethostname()}:{os.getpid()}"[:200]


@dataclass
class ServiceRun:
    completed: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.completed + len(self.failed)


def work_service_tasks(session_factory: sessionmaker[Session], *, settings: Settings, rules: CaseRules,
                       batch: int = 50, now: datetime | None = None, handlers: dict[str, Handler] | None = None,
                       worker_id: str = WORKER_ID, should_stop: Callable[[], bool] = lambda: False) -> ServiceRun:
    handlers = HANDLERS if handlers is None else handlers
    result = ServiceRun()
    policy = RetryPolicy(backoff_seconds=settings.worker_backoff_seconds)
    while handlers and result.handled < batch and not should_stop():
        moment = clock.as_utc(now or clock.now())
        with session_factory() as session:
            leased = fetch_and_lock(session, worker_id=worker_id, topics=list(handlers), max_tasks=1,
                                    lease_seconds=settings.service_task_lease_seconds, now=moment)
            session.commit()
        if not leased:
            break
        _work_one(session_factory, leased[0], handlers[leased[0].topic], worker_id=worker_id, rules=rules,
                  now=moment, policy=policy, result=result)
    return result


def _work_one(session_factory, task: ServiceTaskView, handler: Handler, *, worker_id: str, rules: CaseRules,
              now: datetime, policy: RetryPolicy, result: ServiceRun) -> None:
    with session_factory() as session:
        try:
            data = handler(session, task) or {}
            complete_service_task(session, service_task_id=task.id, data=data, worker_id=worker_id, rules=rules,
                                  lease=task.lease_until, now=now)
            session.commit()
            result.completed += 1
            return
        except Exception as exc:  # noqa: BLE001 - a handler may raise anything; one task never stops the pass
            session.rollback()
            message = _error_text(exc)
        result.failed.append(task.id)
        try:
            view = fail_service_task(session, service_task_id=task.id, worker_id=worker_id, message=message,
                                     retry_in=policy.delay(task.attempts + 1), lease=task.lease_until, now=now)
            session.commit()
        except Conflict:
            session.rollback()  # the lease is gone (or the case busy): the task comes round again
            return
    level = logging.ERROR if view.status == "failed" else logging.WARNING
    log.log(level, "service task %s (%s) on case %s failed: %s; %d retries left", task.id, task.topic,
            task.case_id, message, view.retries_left,
            extra={"event": "service_task_failed", "case_id": task.case_id, "topic": task.topic})


def _error_text(exc: Exception) -> str:
    if isinstance(exc, HandlerFailed):
        return mask_cpr(str(exc))[:500]
    if isinstance(exc, EngineError):
        return mask_cpr(exc.message)[:500]
    return f"unexpected {type(exc).__name__}"  # its text could carry personal data
