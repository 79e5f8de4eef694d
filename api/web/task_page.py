"""The task page: case context, the task's form, claim / release / assign, complete.

Completing goes through engine.runtime.complete_task, as POST
/api/tasks/{id}/complete does; a form `file` field's upload is stored with
engine.attachments.add_attachment in the same transaction, so a refused
form leaves no file behind. The route commits once, at the end. Data the
diagram itself cannot go on with (engine.errors.ProcessError) comes back on
the form in Danish with the input kept; it is logged, not written into the
case's history: nothing happened to the case.
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from engine import inbox as tasks
from engine import runtime
from engine.case_rules import CaseRules
from engine.errors import FormRejected, Invalid, ProcessError
from engine.forms import validate_data
from engine.settings import Settings

from ..deps import RulesDep, SessionDep, SettingsDep
from . import formdata, task_context
from .render import page, redirect
from .session import check_csrf, current_user

router = APIRouter()
log = logging.getLogger("tovholder.web")


@router.get("/opgaver/{task_id}")
def show(request: Request, task_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    user = current_user(request, session)
    context = task_context.build(session, user, tasks.get_task(session, task_id, user), settings)
    session.commit()  # the access log
    return page(request, "task.html", {**context, "values": context["prefill"], "errors": {}, "general": []},
                user=user)


@router.post("/opgaver/{task_id}")
async def complete(request: Request, task_id: str, session: SessionDep, settings: SettingsDep,
                   rules: RulesDep) -> Response:
    posted = await request.form()
    check_csrf(request, posted)
    return await run_in_threadpool(_complete, request, task_id, posted, session, settings, rules)


def _complete(request: Request, task_id: str, posted: FormData, session: Session, settings: Settings,
              rules: CaseRules) -> Response:
    user = current_user(request, session)
    row = tasks.get_task(session, task_id, user)
    form = task_context.task_form(session, settings, row)
    raw = formdata.raw_values(form, posted)
    data = formdata.to_data(form, raw)
    errors, status, uploaded = task_context.store_uploads(session, user, row, form, posted, data, settings)
    try:
        if errors:
            validate_data(form, data)  # collect the other fields' messages too; nothing is completed
            raise FormRejected("upload refused", [])
        runtime.complete_task(session, task_id=task_id, data=data, user=user, rules=rules)
    except (FormRejected, ProcessError) as exc:
        session.rollback()  # also drops files stored above: nothing half-done
        if isinstance(exc, ProcessError):  # the diagram could not go on with this data: said on the form,
            log.warning("task %s refused by the diagram at %s", task_id, exc.detail.get("element"))  # not audited
            per_field, general = formdata.process_error(exc, form)
        else:
            per_field, general = formdata.field_errors(exc.detail)
        errors = {**per_field, **errors}
        for name in uploaded:
            errors.setdefault(name, "Filen er ikke gemt, fordi formularen havde fejl. Vælg den igen.")
        row = tasks.get_task(session, task_id, user)
        context = task_context.build(session, user, row, settings)
        session.commit()
        return page(request, "task.html", {**context, "values": raw, "errors": errors, "general": general},
                    status=status or 422, user=user)
    session.commit()
    return redirect(request, "/", flash=f"Opgaven »{row.name}« er udført.")


@router.post("/opgaver/{task_id}/overtag")
async def claim(request: Request, task_id: str, session: SessionDep) -> Response:
    return await _action(request, task_id, session, "claim")


@router.post("/opgaver/{task_id}/frigiv")
async def release(request: Request, task_id: str, session: SessionDep) -> Response:
    return await _action(request, task_id, session, "release")


@router.post("/opgaver/{task_id}/tildel")
async def assign(request: Request, task_id: str, session: SessionDep) -> Response:
    return await _action(request, task_id, session, "assign")


async def _action(request: Request, task_id: str, session: Session, action: str) -> Response:
    posted = await request.form()
    check_csrf(request, posted)
    return await run_in_threadpool(_run_action, request, task_id, session, action, posted)


def _run_action(request: Request, task_id: str, session: Session, action: str, posted: FormData) -> Response:
    user = current_user(request, session)
    back = posted.get("tilbage") if posted.get("tilbage") in ("indbakke",) else None
    target = "/" if back else f"/opgaver/{task_id}"
    if action == "claim":
        row = tasks.claim(session, task_id=task_id, user=user)
        message = f"Du har overtaget opgaven »{row.name}«."
    elif action == "release":
        row = tasks.release(session, task_id=task_id, user=user)
        message = f"Opgaven »{row.name}« er frigivet til enheden."
    else:
        try:
            row = tasks.assign(session, task_id=task_id, username=str(posted.get("username") or ""), user=user)
        except Invalid as exc:
            session.rollback()
            per_field, general = formdata.field_errors(exc.detail)
            reasons = list(per_field.values()) + general or [exc.message]
            return redirect(request, target, flash="Opgaven blev ikke tildelt: " + "; ".join(reasons))
        message = f"Opgaven »{row.name}« er tildelt {row.assignee}."
    session.commit()
    return redirect(request, target, flash=message)

