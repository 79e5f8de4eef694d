"""The case page's audit parts: whether the trail verifies (everyone who reads the case) and who read it
(auditors and admins).

Read-only; the page's own read is logged by engine.cases.get_case, committed by the page.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit, audit_chain
from engine.access import READ_ALL
from engine.accounts import UserView
from engine.models import Case, CaseAccess

SHOWN = 200  # the newest reads on the page; GET /api/cases/{id}/access-log pages through all of them
WHAT = {
    "view": "Åbnede sagen", "status": "Så sagens status", "audit": "Læste revisionssporet",
    "audit_verify": "Kontrollerede revisionssporet", "access_log": "Læste adgangsloggen",
    "search_by_cpr": "Fandt sagen ved CPR-søgning", "cancel": "Annullerede sagen", "diagram": "Så procesdiagrammet",
    "attachments": "Så bilagene", "attachment_download": "Hentede et bilag", "task_view": "Åbnede en opgave",
}


def chain(session: Session, case: Case) -> audit_chain.ChainCheck:
    return audit_chain.verify_case(session, case)


def access_log(session: Session, case: Case, user: UserView) -> dict[str, Any] | None:
    """The newest reads with Danish labels, and how many there are in all; None for who may not see it."""
    if user.role not in READ_ALL:
        return None
    total = session.scalar(select(func.count()).select_from(CaseAccess).where(CaseAccess.case_id == case.id))
    entries = [{"at": e.at, "username": e.actor, "what": WHAT.get(e.action, e.action)}
               for e in audit.access_log(session, case.id, limit=SHOWN, newest_first=True)]
    return {"entries": entries, "total": total}
