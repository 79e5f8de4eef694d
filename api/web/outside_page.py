"""Registering a step from outside on a case: the message's form, filled in by the waiting unit.

Registering goes through engine.runtime.correlate_message, as POST
/api/messages does (the same check against the message's form, the same
audit, with the user as actor); a refused form, or data the diagram cannot
go on with, comes back with what was typed and a Danish message (per field
where one is named). The route commits once, at the end.
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from engine import outside_steps, runtime
from engine.access import FULL, case_access
from engine.accounts import UserView
from engine.case_rules import CaseRules
from engine.cases import get_case
from engine.errors import Invalid, ProcessError
from engine.settings import Settings
from engine.views import case_view

from ..deps import RulesDep, SessionDep, SettingsDep
from . import formdata, queries
from .render import page, redirect
from .session import check_csrf, current_user

router = APIRouter()
log = logging.getLogger("tovholder.web")


def _context(session: Session, settings: Settings, user: UserView, case_id: str, element_id: str) -> dict:
    case = get_case(session, case_id, user, action="register_view")
    step = outside_steps.case_step(session, user, case, element_id)
    return {"case": case_view(session, case), "step": step,
            "form": outside_steps.step_form(session, step, forms_dir=settings.forms_dir),
            "journey": queries.journey_names(session).get(case.process_key, case.process_key),
            "units": queries.unit_names(session)}


@router.get("/sager/{case_id}/registrer/{element_id}")
def show(request: Request, case_id: str, element_id: str, session: SessionDep, settings: SettingsDep,
         tilbage: str = "") -> Response:
    user = current_user(request, session)
    context = _context(session, settings, user, case_id, element_id)
    session.commit()  # the access log
    return page(request, "register.html", {**context, "values": {}, "errors": {}, "general": [],
                                           "back": "indbakke" if tilbage == "indbakke" else ""}, user=user)


@router.post("/sager/{case_id}/registrer/{element_id}")
async def register(request: Request, case_id: str, element_id: str, session: SessionDep, settings: SettingsDep,
                   rules: RulesDep) -> Response:
    posted = await request.form()
    check_csrf(request, posted)
    return await run_in_threadpool(_register, request, case_id, element_id, posted, session, settings, rules)


def _register(request: Request, case_id: str, element_id: str, posted: FormData, session: Session,
              settings: Settings, rules: CaseRules) -> Response:
    user = current_user(request, session)
    context = _context(session, settings, user, case_id, element_id)
    step, form = context["step"], context["form"]
    back = "indbakke" if posted.get("tilbage") == "indbakke" else ""
    raw = formdata.raw_values(form, posted)
    try:
        case = runtime.correlate_message(session, name=step.message, correlation_key=step.case_id,
                                         data=formdata.to_data(form, raw), user=user, rules=rules,
                                         element_id=step.element_id)
    except (Invalid, ProcessError) as exc:  # the form or the diagram refused it: the page comes back, all kept
        session.rollback()
        if isinstance(exc, ProcessError):  # said on the form, not written into the case (nothing happened to it)
            log.warning("step %s of case %s refused by the diagram at %s", element_id, case_id,
                        exc.detail.get("element") if isinstance(exc.detail, dict) else None)
            errors, general = formdata.process_error(exc, form)
        else:
            errors, general = formdata.field_errors(exc.detail)
        context = _context(session, settings, user, case_id, element_id)
        session.commit()
        return page(request, "register.html", {**context, "values": raw, "errors": errors, "general": general,
                                               "back": back}, status=422, user=user)
    full = case_access(session, user, case) == FULL
    session.commit()
    flash = f"»{step.name}« er registreret."
    return redirect(request, "/" if back or not full else f"/sager/{case.id}", flash=flash)
