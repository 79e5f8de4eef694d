"""Tasks: the inbox list, one task with its form, claim, release, assign, complete."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from engine import runtime, tasks
from engine.forms import load_form
from engine.views import case_view, task_view

from ..deps import CurrentUser, RulesDep, SessionDep, SettingsDep
from .common import JsonObject, Limit, Offset, Text

router = APIRouter(tags=["tasks"])


class Assign(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as sent: no "1" or true for 1
    username: Text = Field(min_length=1, max_length=100)


class Complete(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as sent: no "1" or true for 1
    data: JsonObject = Field(default_factory=dict)


@router.get("/tasks")
def inbox(user: CurrentUser, session: SessionDep, unit: str | None = None, assignee: str | None = None,
          status: str | None = None, overdue: bool | None = None, case_id: str | None = None,
          audience: str | None = None, limit: Limit = 50, offset: Offset = 0):
    rows = tasks.list_tasks(session, user, unit=unit, assignee=assignee, status=status, overdue=overdue,
                            case_id=case_id, audience=audience, limit=limit, offset=offset)
    return [task_view(r) for r in rows]


@router.get("/tasks/{task_id}")
def show(task_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep):
    row = tasks.get_task(session, task_id, user)
    form = load_form(settings.forms_dir, row.form_key).as_dict() if row.form_key else None
    return {**task_view(row), "form": form}


@router.post("/tasks/{task_id}/claim")
def claim(task_id: str, user: CurrentUser, session: SessionDep):
    view = task_view(tasks.claim(session, task_id=task_id, user=user))
    session.commit()
    return view


@router.post("/tasks/{task_id}/release")
def release(task_id: str, user: CurrentUser, session: SessionDep):
    view = task_view(tasks.release(session, task_id=task_id, user=user))
    session.commit()
    return view


@router.post("/tasks/{task_id}/assign")
def assign(task_id: str, body: Assign, user: CurrentUser, session: SessionDep):
    view = task_view(tasks.assign(session, task_id=task_id, username=body.username, user=user))
    session.commit()
    return view


@router.post("/tasks/{task_id}/complete")
def complete(task_id: str, body: Complete, user: CurrentUser, session: SessionDep, rules: RulesDep):
    row, case = runtime.complete_task(session, task_id=task_id, data=body.data, user=user, rules=rules)
    result = {"task": task_view(row), "case": case_view(session, case)}
    session.commit()
    return result
