"""Case queries for the API and UI; read-only apart from the access log."""
from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from . import audit
from . import cpr as cpr_rules
from .access import READ_ALL, UNIT_MEMBERS, check_case_visible
from .accounts import UserView
from .errors import Forbidden, Invalid
from .locking import read_case
from .models import Case, Citizen, HumanTask, Wait

CASE_STATUSES = ("running", "completed", "cancelled")


def get_case(session: Session, case_id: str, user: UserView, *, action: str = "view") -> Case:
    case = read_case(session, case_id)
    check_case_visible(session, user, case)
    audit.log_access(session, case.id, user.username, action)
    return case


def list_cases(session: Session, user: UserView, *, cpr: str | None = None, status: str | None = None,
               process_key: str | None = None, limit: int = 50, offset: int = 0) -> list[Case]:
    query = select(Case)
    if user.role in UNIT_MEMBERS:
        query = query.where(or_(
            Case.started_by == user.username,
            exists().where(HumanTask.case_id == Case.id, HumanTask.unit.in_(user.units)),
            exists().where(Wait.case_id == Case.id, Wait.unit.in_(user.units)),
        ))
    elif user.role == "integration":
        query = query.where(Case.started_by == user.username)
    elif user.role not in READ_ALL:
        raise Forbidden(f"role '{user.role}' may not list cases")
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
    query = query.order_by(Case.created_at.desc(), Case.id).limit(limit).offset(offset)
    cases = list(session.scalars(query))
    if cpr is not None:
        for case in cases:
            audit.log_access(session, case.id, user.username, "search_by_cpr")
    return cases
