"""Who may do what: the role and unit rules of CONTRACT.md in one place.

Pure functions over UserView and rows; the only queries are the small lookups
needed to decide whether a unit member may see a case. Raises Forbidden.

Reading a case (API, web pages, audit trail, attachments, diagram) has one
rule, `case_access`, with its SQL twin `case_read_filters` for case lists:

- auditors and admins read every case in full;
- caseworkers and team leads read in full the cases their units take part
  in: the case has, or had, a human task in one of their units' lanes, or
  it waits in such a lane now (a message or timer there);
- whoever started a case and reads none of it in full (an integration user,
  or a caseworker who started another unit's journey) sees its status only
  (`STATUS`: id, process, version, status, times; no data, tasks, audit or
  attachments). Starting a case gives no lasting read of what others add.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from .accounts import UserView
from .errors import Forbidden
from .models import Case, HumanTask, Wait

READ_ALL = ("admin", "auditor")
UNIT_MEMBERS = ("caseworker", "teamlead")
STARTERS = ("caseworker", "teamlead", "admin", "integration")
DEPLOYERS = ("process_owner", "admin")
VERSION_READERS = DEPLOYERS + ("auditor",)  # deploy history, where cases stand, diffs
MIGRATORS = ("process_owner", "admin")  # move running cases to another version
MESSAGE_SENDERS = ("admin", "integration") + UNIT_MEMBERS  # unit members: only for their own lanes

FULL = "full"      # data, tasks, audit trail, attachments, diagram
STATUS = "status"  # the starter's view: id and status, nothing anyone wrote into the case


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


def units_take_part(units: frozenset[str], case_id: InstrumentedAttribute[str] | str = Case.id) -> ColumnElement[bool]:
    """SQL: one of `units` takes part in the case (a task there, of any status, or a wait there now)."""
    if not units:
        return false()
    return or_(exists().where(HumanTask.case_id == case_id, HumanTask.unit.in_(units)),
               exists().where(Wait.case_id == case_id, Wait.unit.in_(units)))


def case_read_filters(user: UserView) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """SQL twins of `case_access` for case lists: (reads in full, sees the status only)."""
    if user.role in READ_ALL:
        return true(), false()
    full = units_take_part(user.units) if user.role in UNIT_MEMBERS else false()
    started = Case.started_by == user.username if user.role in STARTERS else false()
    return full, and_(started, ~full)


def case_access(session: Session, user: UserView, case: Case) -> str:
    """FULL or STATUS (see the module docstring); Forbidden when the user may not see the case at all."""
    if user.role in READ_ALL:
        return FULL
    if user.role in UNIT_MEMBERS and session.scalar(select(units_take_part(user.units, case.id))):
        return FULL
    if user.role in STARTERS and case.started_by == user.username:
        return STATUS
    raise Forbidden("you may not see this case: none of its tasks belongs to your units")


def check_case_visible(session: Session, user: UserView, case: Case) -> None:
    """The full read (data, audit trail, attachments, pages); Forbidden for a mere starter too."""
    if case_access(session, user, case) != FULL:
        raise Forbidden("you started this case, but none of its tasks belongs to your units: "
                        "you may see its status only (GET /api/cases/{id})")


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
