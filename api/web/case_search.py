"""Find a case, running or closed, at `/sager`: by case number, status and journey (GET), or by CPR (POST).

Which cases a user finds is engine.cases.list_case_views' rule (auditors and
admins every case, unit members their units' cases, starters the status of
what they started). The CPR number travels only in the POST body, never in a
URL; a search by it is logged per case found (engine.cases), so the page
commits.
"""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from engine import case_numbers
from engine.accounts import UserView
from engine.cases import CASE_STATUSES, list_case_views
from engine.errors import Invalid

from ..deps import SessionDep
from . import queries
from .render import page
from .session import check_csrf, current_user

router = APIRouter()
PAGE_SIZE = 25
STATUS_NAMES = {"running": "I gang", "completed": "Afsluttet", "cancelled": "Annulleret"}


def _context(session: Session, user: UserView, rows: list[dict], *, status: str, forloeb: str, side: int,
             cpr_searched: bool, error: str | None = None, sagsnr: str = "", number_error: str | None = None) -> dict:
    def link(**change: object) -> str:
        params = {"status": status, "forloeb": forloeb, "sagsnr": sagsnr, "side": side, **change}
        return "/sager?" + urlencode({k: v for k, v in params.items() if v not in ("", None, 1)})

    return {"rows": rows, "status": status, "forloeb": forloeb, "side": side, "link": link,
            "journeys": queries.journey_names(session), "statuses": STATUS_NAMES, "cpr_searched": cpr_searched,
            "error": error, "more": len(rows) > PAGE_SIZE, "sagsnr": sagsnr, "number_error": number_error}


@router.get("/sager")
def search(request: Request, session: SessionDep, status: str = "", forloeb: str = "", side: int = 1,
           sagsnr: str = "") -> Response:
    user = current_user(request, session)
    status = status if status in CASE_STATUSES else ""
    side = max(1, min(side, 100000))
    sagsnr = sagsnr.strip()[:30]
    if sagsnr and case_numbers.parse(sagsnr) is None:
        context = _context(session, user, [], status=status, forloeb=forloeb, side=1, cpr_searched=False,
                           sagsnr=sagsnr, number_error="Sagsnummeret er ikke gyldigt: skriv år og løbenummer, "
                                                       "fx 2026-000123.")
        return page(request, "cases.html", context, status=422, user=user)
    rows = list_case_views(session, user, status=status or None, process_key=forloeb or None,
                           number=sagsnr or None, limit=PAGE_SIZE + 1, offset=(side - 1) * PAGE_SIZE)
    context = _context(session, user, rows, status=status, forloeb=forloeb, side=side, cpr_searched=False,
                       sagsnr=sagsnr)
    return page(request, "cases.html", {**context, "rows": rows[:PAGE_SIZE]}, user=user)


@router.post("/sager")
async def search_by_cpr(request: Request, session: SessionDep) -> Response:
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
