"""Who may do what: the role and unit rules of CONTRACT.md in one place.

Pure functions over UserView and rows; the only queries are the small lookups
needed to decide whether a unit member may see a case. Raises Forbidden.
"""
from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from .accounts import UserView
from .errors import Forbidden
from .models import Case, HumanTask, Wait

READ_ALL = ("admin", "auditor")
UNIT_MEMBERS = ("caseworker", "teamlead")
STARTERS = ("caseworker", "teamlead", "admin", "integration")
DEPLOYERS = ("process_owner", "admin")
MIGRATORS = ("process_owner", "admin")  # move running cases to another version
MESSAGE_SENDERS = ("admin", "integration") + UNIT_MEMBERS  # unit members: only for their own lanes


def require_role(user: UserView, roles: tuple[str, ...], action: str) -> None:
    if user.role not in roles:
        raise Forbidden(f"role '{user.role}' may not {action}")


def visible_units(user: UserView) -> frozenset[str] | None:
    """None means every unit."""
    if user.role in READ_ALL:
        return None
    if user.role in UNIT_MEMBERS:
        return user.units
    raise Forbidden(f"role '{user.role}' has no task inbox")


def check_task_visible(user: UserView, task: HumanTask) -> None:
    units = visible_units(user)
    if units is not None and task.unit not in units:
        raise Forbidden(f"this task belongs to unit '{task.unit}', which you are not a member of")


def check_task_workable(user: UserView, task: HumanTask) -> None:
    if user.role == "admin":
        return
    if user.role not in UNIT_MEMBERS:
        raise Forbidden(f"role '{user.role}' may not work tasks")
    if task.unit not in user.units:
        raise Forbidden(f"this task belongs to unit '{task.unit}', which you are not a member of")
    if task.audience == "teamlead" and user.role != "teamlead":
        raise Forbidden("this task is for the unit's team leads")


def check_case_visible(session: Session, user: UserView, case: Case) -> None:
    if user.role in READ_ALL or case.started_by == user.username:
        return
    if user.role in UNIT_MEMBERS and user.units:
        touches_unit = session.scalar(select(
            exists().where(HumanTask.case_id == case.id, HumanTask.unit.in_(user.units))
            | exists().where(Wait.case_id == case.id, Wait.unit.in_(user.units))))
        if touches_unit:
            return
    raise Forbidden("you may not see this case: none of its tasks belongs to your units")


def check_can_cancel(session: Session, user: UserView, case: Case) -> None:
    if user.role == "admin":
        return
    if user.role == "teamlead":
        check_case_visible(session, user, case)
        return
    raise Forbidden(f"role '{user.role}' may not cancel cases (team leads and admins may)")


def check_can_send_message(user: UserView, unit: str | None) -> None:
    if user.role in ("admin", "integration"):
        return
    if user.role in UNIT_MEMBERS and unit in user.units:
        return
    raise Forbidden("only an integration user, an admin or a member of the waiting unit may send this message")
