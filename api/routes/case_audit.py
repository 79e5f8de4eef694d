"""Auditing a case: who read it (the access log) and whether its audit trail is the one written.

The access log is for auditors and admins; the chain check for whoever may
read the case's audit trail. Both reads are themselves logged, so they commit.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from engine import audit, audit_chain
from engine.access import READ_ALL, require_role
from engine.cases import get_case

from ..deps import CurrentUser, SessionDep
from ..responses import errors
from .common import Limit, Offset

router = APIRouter(tags=["cases"])


class AccessEntry(BaseModel):
    at: str
    username: str
    what: str


class ChainVerdict(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None
    reason: str | None = None


@router.get("/cases/{case_id}/access-log", response_model=list[AccessEntry], responses=errors(401, 403, 404, 422))
def access_log(case_id: str, user: CurrentUser, session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> list[dict[str, Any]]:
    """Who read this citizen's case, when and what (`view`, `audit`, `search_by_cpr`, ...), oldest first."""
    require_role(user, READ_ALL, "read who looked at a case (auditors and admins may)")
    case = get_case(session, case_id, user, action="access_log")
    entries = [audit.access_view(e) for e in audit.access_log(session, case.id, limit=limit, offset=offset)]
    session.commit()
    return entries


@router.get("/cases/{case_id}/audit/verify", response_model=ChainVerdict, responses=errors(401, 403, 404))
def verify(case_id: str, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """Whether the case's audit events still form their hash chain; `first_bad_seq` is where it breaks."""
    case = get_case(session, case_id, user, action="audit_verify")
    check = audit_chain.verify_case(session, case)
    session.commit()
    return {**check.as_dict(), "reason": check.reason}
