"""Tasks: the inbox list, one task with its form and handover context, claim, release, assign, complete."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from engine import inbox as tasks
from engine import runtime
from engine.cases import view_for
from engine.task_read import read_task
from engine.views import task_view

from ..deps import CurrentUser, RulesDep, SessionDep, SettingsDep
from ..responses import BODY, ErrorMessage, FieldsRejected, ProcessFailed, RequestInvalid, errors
from .common import JsonObject, Limit, Offset, OptionalFlag, Text

router = APIRouter(tags=["tasks"])


class Assign(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as sent: no "1" or true for 1
    username: Text = Field(min_length=1, max_length=100)


class Complete(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as sent: no "1" or true for 1
    data: JsonObject = Field(default_factory=dict)


@router.get("/tasks", response_model=None, responses=errors(
    401, 403, 422, unprocessable=(RequestInvalid, ErrorMessage)))
def inbox(user: CurrentUser, session: SessionDep, unit: str | None = None, assignee: str | None = None,
          status: str | None = None, overdue: OptionalFlag = None, case_id: str | None = None,
          audience: str | None = None, limit: Limit = 50, offset: Offset = 0) -> list[dict]:
    """Tasks of every status unless `status` is given (`status=open` for the unassigned ones); a filter
    given empty (`?assignee=`) filters nothing, as if it were left out."""
    rows = tasks.list_tasks(session, user, unit=unit or None, assignee=assignee or None, status=status or None,
                            overdue=overdue, case_id=case_id or None, audience=audience or None, limit=limit,
                            offset=offset)
    return [task_view(r) for r in rows]


@router.get("/tasks/{task_id}", response_model=None, responses=errors(
    401, 403, 404, 422, unprocessable=(ErrorMessage,)))
def show(task_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep, rules: RulesDep) -> dict:
    # the one read the task page uses too: the case's own version's form, what was handed over to it
    view = read_task(session, task_id, user, forms_dir=settings.forms_dir, rules=rules).as_dict()
    session.commit()  # the access log
    return view


@router.post("/tasks/{task_id}/claim", response_model=None, responses=errors(401, 403, 404, 409))
def claim(task_id: str, user: CurrentUser, session: SessionDep) -> dict:
    view = task_view(tasks.claim(session, task_id=task_id, user=user))
    session.commit()
    return view


@router.post("/tasks/{task_id}/release", response_model=None, responses=errors(401, 403, 404, 409))
def release(task_id: str, user: CurrentUser, session: SessionDep) -> dict:
    view = task_view(tasks.release(session, task_id=task_id, user=user))
    session.commit()
    return view


@router.post("/tasks/{task_id}/assign", response_model=None, responses=errors(
    *BODY, 401, 403, 404, 409, 422, unprocessable=(RequestInvalid, FieldsRejected, ErrorMessage)))
def assign(task_id: str, body: Assign, user: CurrentUser, session: SessionDep) -> dict:
    view = task_view(tasks.assign(session, task_id=task_id, username=body.username, user=user))
    session.commit()
    return view


@router.post("/tasks/{task_id}/complete", response_model=None, responses=errors(
    *BODY, 401, 403, 404, 409, 422, unprocessable=(RequestInvalid, FieldsRejected, ProcessFailed, ErrorMessage)))
def complete(task_id: str, body: Complete, user: CurrentUser, session: SessionDep, rules: RulesDep) -> dict:
    row, case = runtime.complete_task(session, task_id=task_id, data=body.data, user=user, rules=rules)
    result = {"task": task_view(row), "case": view_for(session, user, case, worked=row)}  # a unit's share of the data
    session.commit()
    return result
