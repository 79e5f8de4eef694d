"""Cases: start, read, list, cancel, audit trail; the rule set and the coordinator a case carries."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from engine import audit, case_attributes, handover, runtime
from engine.access import READ_ALL, STARTERS, check_can_cancel, require_role
from engine.cases import case_for, get_case, list_case_views, view_for
from engine.rule_sets import known

from ..deps import CurrentUser, RulesDep, SessionDep
from ..responses import BODY, ErrorMessage, FieldsRejected, ProcessFailed, RequestInvalid, errors
from .common import MAX_OFFSET, JsonObject, Limit, Offset, Text

router = APIRouter(tags=["cases"])


class StartCase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as sent: no "1" or true for 1
    process_key: Text = Field(min_length=1, max_length=200)
    version: int | None = Field(None, ge=1)
    cpr: Text = Field(max_length=20)
    data: JsonObject = Field(default_factory=dict)
    # the rule set the case runs under (config/deadlines.toml [rule_sets.*]); null: the ordinary rules
    rule_set: Text | None = Field(None, max_length=64)
    rule_set_reason: Text | None = Field(None, max_length=2000)


class ChooseRuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    rule_set: Text = Field(min_length=1, max_length=64)
    reason: Text | None = Field(None, max_length=2000)


class ChooseCoordinator(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    username: Text = Field(min_length=1, max_length=100)


class CancelCase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as sent: no "1" or true for 1
    reason: Text = Field(min_length=1, max_length=2000)


class CaseSearch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as sent: no "1" or true for 1
    cpr: Text | None = Field(None, max_length=20)
    status: Text | None = None
    process_key: Text | None = None
    number: Text | None = Field(None, max_length=30)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.post("/cases", response_model=None, status_code=201, responses=errors(
    *BODY, 401, 403, 404, 409, 422, unprocessable=(RequestInvalid, FieldsRejected, ProcessFailed, ErrorMessage)))
def start(body: StartCase, user: CurrentUser, session: SessionDep, rules: RulesDep) -> dict:
    require_role(user, STARTERS, "start cases")
    case = runtime.start_case(session, process_key=body.process_key, version=body.version, cpr=body.cpr,
                              data=body.data, actor=user, rules=rules, rule_set=body.rule_set,
                              rule_set_reason=body.rule_set_reason)
    view = view_for(session, user, case)  # a starter who takes no part gets the status view
    session.commit()
    return view


@router.get("/cases", response_model=None, responses=errors(
    401, 403, 422, unprocessable=(RequestInvalid, ErrorMessage)))
def search(user: CurrentUser, session: SessionDep, cpr: str | None = None, status: str | None = None,
           process_key: str | None = None, limit: Limit = 50, offset: Offset = 0,
           number: str | None = None) -> list[dict]:
    """`number`: the case number (`2026-000123`, also typed as `2026-123`)."""
    views = list_case_views(session, user, cpr=cpr, status=status, process_key=process_key, number=number or None,
                            limit=limit, offset=offset)
    session.commit()  # the access log
    return views


@router.post("/cases/search", response_model=None, responses=errors(
    *BODY, 401, 403, 422, unprocessable=(RequestInvalid, ErrorMessage)))
def search_by_body(body: CaseSearch, user: CurrentUser, session: SessionDep) -> list[dict]:
    """Like GET /api/cases, but keeps the CPR number out of the URL (and so out of logs and history)."""
    return search(user, session, body.cpr, body.status, body.process_key, body.limit, body.offset, body.number)


@router.get("/cases/{case_id}", response_model=None, responses=errors(401, 403, 404))
def show(case_id: str, user: CurrentUser, session: SessionDep) -> dict:
    view = case_for(session, case_id, user)  # full, or the status view for a starter who takes no part
    session.commit()
    return view


@router.post("/cases/{case_id}/cancel", response_model=None, responses=errors(
    *BODY, 401, 403, 404, 409, 422, unprocessable=(RequestInvalid, ProcessFailed, ErrorMessage)))
def cancel(case_id: str, body: CancelCase, user: CurrentUser, session: SessionDep, rules: RulesDep) -> dict:
    check_can_cancel(session, user, get_case(session, case_id, user, action="cancel"))
    case = runtime.cancel_case(session, case_id=case_id, reason=body.reason, actor=user.username, rules=rules)
    view = view_for(session, user, case)
    session.commit()
    return view


@router.get("/cases/{case_id}/audit", response_model=None, responses=errors(401, 403, 404, 422))
def audit_trail(case_id: str, user: CurrentUser, session: SessionDep, limit: Limit | None = None,
                offset: Offset = 0) -> dict:
    """The whole trail unless `limit` is given: an auditor must never get a silently cut history."""
    case = get_case(session, case_id, user, action="audit")
    rows = audit.events(session, case.id, limit=limit, offset=offset)
    events = [audit.event_view(e) for e in rows]
    if user.role not in READ_ALL:  # a unit's member: only the values that reach their units
        details = handover.unit_event_details(session, case, user.units)
        events = [{**view, "details": details(row)} for view, row in zip(events, rows, strict=True)]
    session.commit()
    return {"case_id": case.id, "total": case.audit_seq, "events": events}


@router.post("/cases/{case_id}/rule-set", response_model=None, responses=errors(
    *BODY, 401, 403, 404, 409, 422, unprocessable=(RequestInvalid, FieldsRejected, ErrorMessage)))
def choose_rule_set(case_id: str, body: ChooseRuleSet, user: CurrentUser, session: SessionDep,
                    rules: RulesDep) -> dict:
    """A team lead or an admin switches the case's rule set; tasks created from then on get its figures."""
    case = case_attributes.change_rule_set(session, case_id=case_id, rule_set=body.rule_set, reason=body.reason,
                                           user=user, rules=rules)
    view = view_for(session, user, case)
    session.commit()
    return view


@router.post("/cases/{case_id}/coordinator", response_model=None, responses=errors(
    *BODY, 401, 403, 404, 409, 422, unprocessable=(RequestInvalid, FieldsRejected, ErrorMessage)))
def choose_coordinator(case_id: str, body: ChooseCoordinator, user: CurrentUser, session: SessionDep) -> dict:
    """A jobcenter team lead or an admin names the koordinerende sagsbehandler (a jobcenter member)."""
    case = case_attributes.change_coordinator(session, case_id=case_id, username=body.username, user=user)
    view = view_for(session, user, case)
    session.commit()
    return view


@router.get("/rule-sets", response_model=None, responses=errors(401))
def rule_sets(user: CurrentUser, rules: RulesDep) -> list[dict]:
    """The rule sets a case may run under, the deadlines each replaces, the switches it turns on and the forms
    it swaps (config/deadlines.toml)."""
    declared = rules.switches()
    return [{"name": s.name, "label": s.label, "source": s.source,
             "deadlines": {name: {"rule": rule.describe(), "source": rule.source}
                           for name, rule in sorted(s.overrides.items())},
             "switches": {name: {"on": on, "label": declared[name].label, "source": s.switch_sources.get(name)}
                          for name, on in sorted(s.switch_values(declared).items())},
             "forms": dict(sorted(s.forms.items()))}
            for s in known(rules.rule_sets())]
