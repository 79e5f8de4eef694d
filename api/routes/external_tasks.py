"""External tasks over HTTP: other systems work service-task topics (role integration, or admin).

POST /api/external-tasks/fetch-and-lock, /{id}/complete, /{id}/failure — the
Camunda external-task style; engine.service_tasks does the work (leases,
409 for a stale lease, retries, incidents). Each route commits its own
transaction.
"""
from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from engine import service_tasks
from engine.access import require_role

from ..deps import CurrentUser, RulesDep, SessionDep
from ..responses import BODY, ErrorMessage, ProcessFailed, RequestInvalid, errors
from .common import JsonObject, Text

router = APIRouter(tags=["external tasks"])
WORKERS = ("integration", "admin")
WorkerId = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:@\-]+$")


class FetchAndLock(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    worker_id: str = WorkerId
    topics: list[Text] = Field(min_length=1, max_length=100)
    max_tasks: int = Field(1, ge=1, le=service_tasks.MAX_TASKS)
    lease_seconds: int = Field(300, ge=1, le=service_tasks.MAX_LEASE_SECONDS)


class Complete(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    worker_id: str = WorkerId
    data: JsonObject = Field(default_factory=dict)


class Failure(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    worker_id: str = WorkerId
    message: Text = Field(min_length=1, max_length=2000)
    retries: int | None = Field(None, ge=0, le=service_tasks.MAX_RETRIES,
                                description="retries left from now on; left out: one fewer than before")
    retry_timeout_seconds: int = Field(30, ge=0, le=86_400, description="pause before the task is offered again")


@router.post("/external-tasks/fetch-and-lock", response_model=None, responses=errors(
    *BODY, 401, 403, 422, unprocessable=(RequestInvalid, ErrorMessage)))
def fetch_and_lock(body: FetchAndLock, user: CurrentUser, session: SessionDep) -> list[dict]:
    require_role(user, WORKERS, "work external tasks")
    leased = service_tasks.fetch_and_lock(session, worker_id=body.worker_id, topics=body.topics,
                                          max_tasks=body.max_tasks, lease_seconds=body.lease_seconds)
    session.commit()
    return [t.as_dict() for t in leased]


@router.post("/external-tasks/{task_id}/complete", response_model=None, responses=errors(
    *BODY, 401, 403, 404, 409, 422, unprocessable=(RequestInvalid, ProcessFailed, ErrorMessage)))
def complete(task_id: str, body: Complete, user: CurrentUser, session: SessionDep, rules: RulesDep) -> dict:
    require_role(user, WORKERS, "work external tasks")
    view = service_tasks.complete_service_task(session, service_task_id=task_id, data=body.data,
                                               worker_id=body.worker_id, rules=rules)
    session.commit()
    return view.as_dict()


@router.post("/external-tasks/{task_id}/failure", response_model=None, responses=errors(
    *BODY, 401, 403, 404, 409, 422, unprocessable=(RequestInvalid, ErrorMessage)))
def failure(task_id: str, body: Failure, user: CurrentUser, session: SessionDep) -> dict:
    require_role(user, WORKERS, "work external tasks")
    view = service_tasks.fail_service_task(session, service_task_id=task_id, worker_id=body.worker_id,
                                           message=body.message, retries=body.retries,
                                           retry_in=timedelta(seconds=body.retry_timeout_seconds))
    session.commit()
    return view.as_dict()
