"""Find a case, running or closed, at `/sager`: by status and journey (GET), or by CPR number (POST).

Which cases a user finds is engine.cases.list_case_views' rule (auditors and
admins every case, unit members their units' cases, starters the status of
what they started). The CPR number travels only in the POST body, never in a
URL; a search by it is logged per case found (engine.cases), so the page
commits.
"""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request

from engine.cases import CASE_STATUSES, list_case_views
from engine.errors import Invalid

from ..deps import SessionDep
from . import queries
from .render import page
from .session import check_csrf, current_user

router = APIRouter()
PAGE_SIZE = 25
STATUS_NAMES = {"running": "I gang", "completed": "Afsluttet", "cancelled": "Annulleret"}


def _context(session, user, rows, *, status: str, forloeb: str, side: int, cpr_searched: bool, error=None) -> dict:
    def link(**change) -> str:
        params = {"status": status, "forloeb": forloeb, "side": side, **change}
        return "/sager?" + urlencode({k: v for k, v in params.items() if v not in ("", None, 1)})

    return {"rows": rows, "status": status, "forloeb": forloeb, "side": side, "link": link,
            "journeys": queries.journey_names(session), "statuses": STATUS_NAMES, "cpr_searched": cpr_searched,
            "error": error, "more": len(rows) > PAGE_SIZE}


@router.get("/sager")
def search(request: Request, session: SessionDep, status: str = "", forloeb: str = "", side: int = 1):
    user = current_user(request, session)
    status = status if status in CASE_STATUSES else ""
    side = max(1, min(side, 100000))
    rows = list_case_views(session, user, status=status or None, process_key=forloeb or None,
                           limit=PAGE_SIZE + 1, offset=(side - 1) * PAGE_SIZE)
    context = _context(session, user, rows, status=status, forloeb=forloeb, side=side, cpr_searched=False)
    return page(request, "cases.html", {**context, "rows": rows[:PAGE_SIZE]}, user=user)


@router.post("/sager")
async def search_by_cpr(request: Request, session: SessionDep):
    posted = await request.form()
    check_csrf(request, posted)
    user = current_user(request, session)
    cpr = str(posted.get("cpr") or "")[:20]
    try:
        rows = list_case_views(session, user, cpr=cpr, limit=500)
    except Invalid:
        session.rollback()
        context = _context(session, user, [], status="", forloeb="", side=1, cpr_searched=True,
                           error="CPR-nummeret er ikke gyldigt: skriv 10 cifre, fx 010190-1234.")
        return page(request, "cases.html", context, status=422, user=user)
    session.commit()  # the access log: each case found by the number
    return page(request, "cases.html", _context(session, user, rows, status="", forloeb="", side=1,
                                                 cpr_searched=True), user=user)
