"""GET /api/incidents (admin, auditor) and POST /api/incidents/{id}/retry (admin).

Each route commits its own transaction; the engine (engine.incidents) checks roles.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from engine import incidents

from ..deps import CurrentUser, SessionDep
from ..responses import ErrorMessage, ProcessFailed, RequestInvalid, errors
from .common import Limit, Offset

router = APIRouter(tags=["incidents"])

Status = Annotated[str, Query(description="open (default), resolved or all")]


@router.get("/incidents", response_model=None, responses=errors(
    401, 403, 422, unprocessable=(RequestInvalid, ErrorMessage)))
def list_incidents(user: CurrentUser, session: SessionDep, status: Status = "open", limit: Limit = 50,
                   offset: Offset = 0) -> list[dict]:
    rows = incidents.list_incidents(session, user=user, status=status, limit=limit, offset=offset)
    return [r.as_dict() for r in rows]


@router.post("/incidents/{incident_id}/retry", response_model=None, responses=errors(
    401, 403, 404, 409, 422, unprocessable=(ProcessFailed, ErrorMessage)))
def retry(incident_id: str, user: CurrentUser, session: SessionDep) -> dict:
    view = incidents.retry_incident(session, incident_id=incident_id, user=user)
    session.commit()
    return view.as_dict()
