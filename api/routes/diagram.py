"""The case diagram: the BPMN picture with the steps taken and the current position marked."""
from __future__ import annotations

from fastapi import APIRouter

from engine.diagram import case_diagram

from ..deps import CurrentUser, SessionDep
from ..responses import errors

router = APIRouter(tags=["cases"])


@router.get("/cases/{case_id}/diagram", response_model=None, responses=errors(401, 403, 404))
def show(case_id: str, user: CurrentUser, session: SessionDep) -> dict:
    """`{"svg": "<svg ...>", "completed": [element ids], "current": [element ids]}`."""
    result = case_diagram(session, case_id=case_id, user=user)
    session.commit()  # the access log
    return result
