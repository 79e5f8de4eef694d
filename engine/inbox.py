"""Inbox operations that do not move the process: claim, release, assign, and queries.

Claim, release and assign still take the case lock, so that they race
correctly with completion and keep the audit `seq` gap-free; they only
flush, the edge commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from . import audit, clock
from .access import check_task_visible, check_task_workable, visible_units
from .accounts import UserView, find_user
from .errors import Conflict, Forbidden, Invalid, NotFound, TaskNotOpen
from .locking import lock_case
from .models import LIVE_TASK, Case, HumanTask
from .statuses import OPEN_TASK_STATES
from .task_archive import find_task, reload_task

TASK_STATUSES = ("open", "claimed", "completed", "cancelled")


def get_task(session: Session, task_id: str, user: UserView) -> HumanTask:
    row = find_task(session, task_id)
    if row is None:
        raise NotFound(f"task {task_id} not found")
    check_task_visible(user, row)
    return row


def _locked_task(session: Session, task_id: str, user: UserView) -> tuple[HumanTask, Case]:
    row = get_task(session, task_id, user)
    check_task_workable(user, row)
    case = lock_case(session, row.case_id)
    reload_task(session, row)
    return row, case


def claim(session: Session, *, task_id: str, user: UserView) -> HumanTask:
    row, case = _locked_task(session, task_id, user)
    if row.status == "claimed" and row.assignee == user.username:
        return row
    if row.status == "claimed":
        raise Conflict(f"task {task_id} is already claimed by {row.assignee}")
    if row.status != "open":
        raise TaskNotOpen(f"task {task_id} is {row.status}")
    row.status, row.assignee = "claimed", user.username
    event = audit.record(session, case, "task_claimed", actor=user.username, element_id=row.element_id,
                         task_id=row.id)
    row.claimed_at = row.claimed_at or event.at  # the first take ends the waiting (reports), as the trail says
    session.flush()
    return row


def release(session: Session, *, task_id: str, user: UserView) -> HumanTask:
    row, case = _locked_task(session, task_id, user)
    if row.status != "claimed":
        raise TaskNotOpen(f"task {task_id} is {row.status}, not claimed")
    if row.assignee != user.username and user.role not in ("teamlead", "admin"):
        raise Forbidden(f"task {task_id} is claimed by {row.assignee}; only they or a team lead may release it")
    previous = row.assignee
    row.status, row.assignee = "open", None
    audit.record(session, case, "task_released", actor=user.username, element_id=row.element_id, task_id=row.id,
                 details={"previous_assignee": previous})
    session.flush()
    return row


def assign(session: Session, *, task_id: str, username: object, user: UserView) -> HumanTask:
    if not isinstance(username, str) or not username.strip():
        raise Invalid("username is required")
    row, case = _locked_task(session, task_id, user)
    if username != user.username and user.role not in ("teamlead", "admin"):
        raise Forbidden("only a team lead may assign a task to someone else")
    if row.status not in OPEN_TASK_STATES:
        raise TaskNotOpen(f"task {task_id} is {row.status}")
    target = find_user(session, username)
    if target is None or target.role not in ("caseworker", "teamlead") or row.unit not in target.units:
        raise Invalid(f"user '{username}' is not a member of unit '{row.unit}'",
                      [{"field": "username", "message": f"'{username}' is not a member of unit '{row.unit}'"}])
    if row.audience == "teamlead" and target.role != "teamlead":
        raise Invalid(f"user '{username}' is not a team lead; this task is for the unit's team leads",
                      [{"field": "username", "message": f"'{username}' is not a team lead"}])
    previous = row.assignee
    row.status, row.assignee = "claimed", username
    event = audit.record(session, case, "task_assigned", actor=user.username, element_id=row.element_id,
                         task_id=row.id, details={"assignee": username, "previous_assignee": previous})
    row.claimed_at = row.claimed_at or event.at
    session.flush()
    return row


def list_tasks(session: Session, user: UserView, *, limit: int = 50, offset: int = 0,
               **filters: Any) -> list[HumanTask]:
    """The inbox: tasks the user may see, filtered (see `inbox_query`), by due date, nulls last."""
    query = inbox_query(user, **filters)
    # due_at ascending with nulls last, on SQLite and PostgreSQL alike
    query = query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_tasks(session: Session, user: UserView, **filters: Any) -> int:
    """How many tasks `list_tasks` would list with these filters (for the web inbox's tab counts)."""
    return session.scalar(select(func.count()).select_from(inbox_query(user, **filters).subquery())) or 0


@dataclass(frozen=True)
class PersonLoad:
    """One person's open tasks across the units a team lead sees (assignee None: nobody's yet)."""

    assignee: str | None
    open: int
    overdue: int
    oldest_due_at: datetime | None   # the earliest deadline among their open tasks
    oldest_task_id: str | None
    oldest_task_name: str | None


def workload_across(session: Session, user: UserView, members: list[str]) -> list[PersonLoad]:
    """Per person (the given members first, with zeros, then anyone else holding tasks, then nobody's):
    open and overdue tasks and the one due first, across every unit the user sees (engine.access)."""
    now = clock.now()
    ids = inbox_query(user, open_only=True).with_only_columns(HumanTask.id)
    late = func.sum(sql_case((HumanTask.due_at < now, 1), else_=0))
    counts = {assignee: (n, int(overdue or 0), first) for assignee, n, overdue, first in session.execute(
        select(HumanTask.assignee, func.count(), late, func.min(HumanTask.due_at))
        .where(HumanTask.id.in_(ids)).group_by(HumanTask.assignee))}
    oldest: dict[str | None, tuple[str, str]] = {}
    for row in session.execute(select(HumanTask.assignee, HumanTask.id, HumanTask.name)
                               .where(HumanTask.id.in_(ids), HumanTask.due_at.is_not(None))
                               .order_by(HumanTask.due_at, HumanTask.created_at, HumanTask.id)):
        oldest.setdefault(row.assignee, (row.id, row.name))
    people: list[str | None] = list(dict.fromkeys(members))
    people += sorted(name for name in counts if name is not None and name not in people)
    people.append(None)
    result = []
    for name in people:
        n, overdue, first = counts.get(name, (0, 0, None))
        task_id, task_name = oldest.get(name, (None, None))
        result.append(PersonLoad(name, n, overdue, clock.as_utc(first), task_id, task_name))
    return result


def inbox_query(user: UserView, *, unit: str | None = None, assignee: str | None = None,
                status: str | None = None, overdue: bool | None = None, case_id: str | None = None,
                audience: str | None = None, process_key: str | None = None, element_id: str | None = None,
                due_before: datetime | None = None, open_only: bool = False) -> Select[HumanTask]:
    """The one query behind every inbox view; the unit rules of engine.access are applied here."""
    units = visible_units(user)
    query = select(HumanTask)
    if open_only:  # open tasks are all live: the query names the live partition (engine.task_archive)
        query = query.where(LIVE_TASK, HumanTask.status.in_(OPEN_TASK_STATES))
    if process_key is not None:
        query = query.where(HumanTask.process_key == process_key)
    if element_id is not None:
        query = query.where(HumanTask.element_id == element_id)
    if due_before is not None:  # "soon due": due before this moment but not yet overdue
        query = query.where(HumanTask.due_at < due_before, HumanTask.due_at >= clock.now())
    if user.role == "caseworker":  # a team lead's reminder is not in a caseworker's inbox
        query = query.where(HumanTask.audience.is_(None))
    if audience is not None:
        if audience not in ("teamlead", "all"):
            raise Invalid("audience must be 'teamlead' (tasks for team leads) or 'all'")
        if audience == "teamlead":
            query = query.where(HumanTask.audience == "teamlead")
    if unit is not None:
        if units is not None and unit not in units:
            raise Forbidden(f"you are not a member of unit '{unit}'")
        query = query.where(HumanTask.unit == unit)
    elif units is not None:
        query = query.where(HumanTask.unit.in_(units))
    if assignee is not None:
        query = query.where(HumanTask.assignee == (user.username if assignee == "me" else assignee))
    if status is not None:
        if status not in TASK_STATUSES:
            raise Invalid(f"status must be one of {', '.join(TASK_STATUSES)}")
        query = query.where(HumanTask.status == status)
    if overdue is not None:
        now = clock.now()
        late = (HumanTask.due_at < now) & HumanTask.status.in_(OPEN_TASK_STATES)
        query = query.where(late if overdue else ~late | HumanTask.due_at.is_(None))
    if case_id is not None:
        query = query.where(HumanTask.case_id == case_id)
    return query
