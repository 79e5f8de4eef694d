"""Case queries for the API and UI; read-only apart from the access log (flushed by the caller's commit).

Access is engine.access's one rule: `get_case` is the full read (pages, audit
trail, attachments); `case_for` and `list_case_views` answer each case in the
view the user may have (full, or the starter's status view).
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import audit, case_numbers
from . import cpr as cpr_rules
from .access import FULL, READ_ALL, STARTERS, UNIT_MEMBERS, case_access, case_read_filters, check_case_visible
from .accounts import UserView
from .errors import Forbidden, Invalid
from .locking import read_case
from .models import Case, Citizen, HumanTask
from .views import case_status_view, case_view

CASE_STATUSES = ("running", "completed", "cancelled")


def get_case(session: Session, case_id: str, user: UserView, *, action: str = "view") -> Case:
    case = read_case(session, case_id)
    check_case_visible(session, user, case)
    audit.log_access(session, case.id, user.username, action)
    return case


def case_for(session: Session, case_id: str, user: UserView) -> dict:
    """The case as this user may see it: the full view, or the status view of a case they only started."""
    case = read_case(session, case_id)
    level = case_access(session, user, case)
    audit.log_access(session, case.id, user.username, "view" if level == FULL else "status")
    return _full_view(session, user, case) if level == FULL else case_status_view(session, case)


def _full_view(session: Session, user: UserView, case: Case) -> dict:
    """Auditors and admins read all the data; a unit's member what engine.handover lets reach the units."""
    if user.role in READ_ALL:
        return case_view(session, case)
    from . import handover  # here: handover reads forms, and forms (attachments) import this module
    return case_view(session, case, data=handover.unit_data(session, case, user.units))


def view_for(session: Session, user: UserView, case: Case, *, worked: HumanTask | None = None) -> dict:
    """A case the user just started or changed, in the view they may have (no access-log entry).

    `worked`: a task of the case the user just worked. A unit member's task in their unit is what
    engine.access.case_access asks the database for (their unit takes part), so it is not asked again."""
    takes_part = (worked is not None and worked.case_id == case.id and user.role in UNIT_MEMBERS
                  and worked.unit in user.units)
    full = takes_part or case_access(session, user, case) == FULL
    return _full_view(session, user, case) if full else case_status_view(session, case)


def list_case_views(session: Session, user: UserView, *, cpr: str | None = None, status: str | None = None,
                    process_key: str | None = None, number: str | None = None, limit: int = 50,
                    offset: int = 0) -> list[dict]:
    """Newest first; each case in the view this user may have of it. `number`: a case number as typed
    (`2026-123` finds `2026-000123`; engine.case_numbers.parse)."""
    if user.role not in READ_ALL + STARTERS:
        raise Forbidden(f"role '{user.role}' may not list cases")
    full, status_only = case_read_filters(user)
    query = select(Case, full.label("full_read")).where(or_(full, status_only))
    if cpr is not None:
        try:
            digits = cpr_rules.normalize(cpr)
        except cpr_rules.InvalidCpr as exc:
            raise Invalid(str(exc)) from None
        query = query.join(Citizen, Citizen.id == Case.citizen_id).where(Citizen.cpr == digits)
    if status is not None:
        if status not in CASE_STATUSES:
            raise Invalid(f"status must be one of {', '.join(CASE_STATUSES)}")
        query = query.where(Case.status == status)
    if process_key is not None:
        query = query.where(Case.process_key == process_key)
    if number is not None:
        wanted = case_numbers.parse(number)
        if wanted is None:
            raise Invalid("number: a case number looks like 2026-000123")
        query = query.where(Case.number == wanted)
    query = query.order_by(Case.created_at.desc(), Case.id).limit(limit).offset(offset)
    rows = list(session.execute(query))
    if cpr is not None:
        for case, _full in rows:
            audit.log_access(session, case.id, user.username, "search_by_cpr")
    return [_full_view(session, user, case) if is_full else case_status_view(session, case) for case, is_full in rows]
