"""Start a case (reception), the case page (the tovholder view), a team lead's cancel, attachment downloads.

Starting goes through engine.runtime.start_case, as POST /api/cases does; the
CPR number travels only in the POST body and is never logged or put in a URL.
Cancelling goes through engine.runtime.cancel_case, as POST
/api/cases/{id}/cancel does: one transaction, audited with the reason.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from engine import case_attributes, filetypes, outside_steps, runtime
from engine.access import FULL, STARTERS, case_access, check_can_cancel, require_role
from engine.accounts import UserView
from engine.bundles import start_form as version_start_form
from engine.case_rules import CaseRules, rules_from_settings
from engine.cases import get_case
from engine.catalog import get_definition
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Case
from engine.settings import Settings
from engine.statuses import CaseStatus
from engine.views import case_view

from ..deps import RulesDep, SessionDep, SettingsDep
from ..routes.attachments import content_disposition
from . import case_audit, case_extras, formdata, queries, timeline
from .render import page, redirect
from .session import check_csrf, current_user

router = APIRouter()
CPR_FORMAT = "CPR-nummeret er ikke gyldigt: skriv 10 cifre, fx 010190-1234."
CPR_IMPOSSIBLE_DATE = ("CPR-nummeret er ikke gyldigt: de første 6 cifre skal være en dato, der findes (ddmmåå),"
                       " fx 010190-1234. Tjek dag og måned.")


def _start_context(session: Session, settings: Settings, process_key: str) -> dict:
    journeys = queries.startable_journeys(session)
    form = None
    if process_key in journeys:
        definition = get_definition(session, process_key)
        form = version_start_form(session, definition, forms_dir=settings.forms_dir)
        form = case_attributes.with_choices(session, form, rules_from_settings(settings))
    return {"journeys": journeys, "process_key": process_key if process_key in journeys else "", "form": form,
            # the ordinary rules and the configured trials (config/deadlines.toml [rule_sets.*])
            "rule_sets": case_attributes.rule_set_choices(rules_from_settings(settings))}


@router.get("/sager/ny")
def start_form(request: Request, session: SessionDep, settings: SettingsDep, forloeb: str = "") -> Response:
    user = current_user(request, session)
    require_role(user, STARTERS, "start cases")
    context = _start_context(session, settings, forloeb)
    return page(request, "start.html", {**context, "values": {}, "errors": {}, "general": [], "cpr": "",
                                        "rule_set": "", "rule_set_reason": ""}, user=user)


@router.post("/sager/ny")
async def start(request: Request, session: SessionDep, settings: SettingsDep, rules: RulesDep) -> Response:
    posted = await request.form()
    check_csrf(request, posted)
    return await run_in_threadpool(_start, request, posted, session, settings, rules)


def _start(request: Request, posted: FormData, session: Session, settings: Settings, rules: CaseRules) -> Response:
    user = current_user(request, session)
    require_role(user, STARTERS, "start cases")
    process_key = str(posted.get("forloeb") or "")
    context = _start_context(session, settings, process_key)
    cpr = str(posted.get("cpr") or "")[:20]
    raw = formdata.raw_values(context["form"], posted)
    rule_set = str(posted.get("regelsaet") or "").strip()[:64]
    reason = str(posted.get("regelsaet_begrundelse") or "").strip()[:2000]
    try:
        if not context["process_key"]:
            raise Invalid("no journey", [{"field": "forloeb", "message": "Vælg et forløb."}])
        case = runtime.start_case(session, process_key=process_key, cpr=cpr,
                                  data=formdata.to_data(context["form"], raw), actor=user, rules=rules,
                                  rule_set=rule_set or None, rule_set_reason=reason or None)
    except Invalid as exc:  # CPR, rule set, start form (FormRejected) or journey: the page comes back, all kept
        session.rollback()
        errors, general = formdata.field_errors(exc.detail)
        if "cpr" in errors:
            errors["cpr"] = CPR_IMPOSSIBLE_DATE if "valid date" in errors["cpr"] else CPR_FORMAT
        if "rule_set" in errors:
            errors["regelsaet"] = f"Regelsæt: {errors.pop('rule_set')}"
        return page(request, "start.html", {**context, "values": raw, "errors": errors, "general": general,
                                            "cpr": cpr, "rule_set": rule_set, "rule_set_reason": reason},
                    status=422, user=user)
    full = case_access(session, user, case) == FULL
    session.commit()
    if not full:  # another unit's journey: starting it gives no read of what that unit adds
        return redirect(request, "/", flash=f"Sagen er oprettet (sagsnummer {case.number}). Den behandles af "
                                            "en anden enhed, så du kan ikke åbne den.")
    return redirect(request, f"/sager/{case.id}", flash="Sagen er oprettet.")


def _may_cancel(session: Session, user: UserView, case: Case) -> bool:
    if case.status != CaseStatus.RUNNING:
        return False
    try:
        check_can_cancel(session, user, case)
    except Forbidden:
        return False
    return True


def _case_context(session: Session, settings: Settings, user: UserView, case: Case) -> dict:
    rules = rules_from_settings(settings)
    return {
        "case": case_view(session, case), "steps": timeline.build(session, case, settings.forms_dir, viewer=user,
                                                                  rules=rules),
        "register": {s.element_id: s for s in outside_steps.case_steps(session, user, case)},
        "journey": queries.journey_names(session).get(case.process_key, case.process_key),
        "units": queries.unit_names(session), "attachments": case_extras.attachments(session, case.id, user),
        "diagram": case_extras.diagram_svg(session, case.id, user),
        "chain": case_audit.chain(session, case), "access_log": case_audit.access_log(session, case, user),
        "may_cancel": _may_cancel(session, user, case), "cancel_error": None, "cancel_reason": "",
        "rule_set_label": case_attributes.rule_set_label(rules, case.rule_set),
        "rule_set_exemptions": case_attributes.rule_set_exemptions(rules, case.rule_set),
        "may_coordinate": _may_coordinate(user, case), "coordinator_error": None, "coordinator_value": None,
        "coordinator_choices": case_attributes.staff_of(session, case_attributes.COORDINATOR_UNIT)
        if _may_coordinate(user, case) else [],
    }


def _may_coordinate(user: UserView, case: Case) -> bool:
    """A team lead of the coordinating unit (or an admin) names the koordinerende sagsbehandler."""
    if case.status != CaseStatus.RUNNING:
        return False
    return user.role == "admin" or (user.role == "teamlead" and case_attributes.COORDINATOR_UNIT in user.units)


@router.get("/sager/{case_id}")
def show(request: Request, case_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    user = current_user(request, session)
    case = get_case(session, case_id, user)
    context = _case_context(session, settings, user, case)
    session.commit()  # the access log
    return page(request, "case.html", context, user=user)


@router.post("/sager/{case_id}/annuller")
async def cancel(request: Request, case_id: str, session: SessionDep, settings: SettingsDep,
                 rules: RulesDep) -> Response:
    posted = await request.form()
    check_csrf(request, posted)
    return await run_in_threadpool(_cancel, request, case_id, posted, session, settings, rules)


def _cancel(request: Request, case_id: str, posted: FormData, session: Session, settings: Settings,
            rules: CaseRules) -> Response:
    user = current_user(request, session)
    case = get_case(session, case_id, user, action="cancel")
    check_can_cancel(session, user, case)  # 403 page for a caseworker
    reason = str(posted.get("begrundelse") or "").strip()[:2000]
    error = None
    if not reason:
        error = "Skriv en begrundelse for at annullere sagen."
    elif case.status != CaseStatus.RUNNING:
        error = "Sagen er allerede afsluttet eller annulleret."
    if error is None:
        try:
            runtime.cancel_case(session, case_id=case.id, reason=reason, actor=user.username, rules=rules)
        except Conflict:
            session.rollback()
            error = "Sagen er allerede afsluttet eller annulleret."
    if error is not None:
        session.rollback()
        case = get_case(session, case_id, user)
        context = {**_case_context(session, settings, user, case), "cancel_error": error, "cancel_reason": reason}
        session.commit()
        return page(request, "case.html", context, status=422 if not reason else 409, user=user)
    session.commit()
    return redirect(request, f"/sager/{case.id}", flash="Sagen er annulleret.")


@router.post("/sager/{case_id}/koordinator")
async def coordinator(request: Request, case_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    posted = await request.form()
    check_csrf(request, posted)
    return await run_in_threadpool(_coordinator, request, case_id, posted, session, settings)


def _coordinator(request: Request, case_id: str, posted: FormData, session: Session,
                 settings: Settings) -> Response:
    """The same engine call as POST /api/cases/{id}/coordinator; a refusal comes back at the field."""
    user = current_user(request, session)
    username = str(posted.get("koordinator") or "").strip()[:100]
    try:
        case_attributes.change_coordinator(session, case_id=case_id, username=username, user=user)
    except (Invalid, Conflict) as exc:
        session.rollback()
        error = exc.message if isinstance(exc, Invalid) else "Sagen er afsluttet eller annulleret."
        case = get_case(session, case_id, user)
        context = {**_case_context(session, settings, user, case), "coordinator_error": error,
                   "coordinator_value": username}
        session.commit()
        return page(request, "case.html", context, status=409 if isinstance(exc, Conflict) else 422, user=user)
    session.commit()
    return redirect(request, f"/sager/{case_id}", flash=f"Koordinerende sagsbehandler er nu {username}.")


@router.get("/sager/{case_id}/bilag/{attachment_id}")
def download(request: Request, case_id: str, attachment_id: str, session: SessionDep) -> Response:
    user = current_user(request, session)
    view, data = case_extras.open_file(session, attachment_id, user)  # checks access, logs the read
    if view.case_id != case_id:
        raise NotFound(f"attachment {attachment_id} not found on case {case_id}")
    session.commit()
    media_type = view.content_type
    if media_type == filetypes.TEXT:
        media_type += f"; charset={filetypes.text_charset(data) or 'utf-8'}"
    return Response(content=data, media_type=media_type, headers={
        "Content-Disposition": content_disposition(view.filename), "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "private, no-store"})
