"""Small read-only lookups the pages need around engine results: names, masked CPRs, members.

Which tasks and cases a user may see is never decided here: callers pass rows
they got from engine.tasks / engine.cases (which apply engine.access).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import cpr as cpr_rules
from engine import inbox as tasks
from engine.accounts import UserView
from engine.models import Case, Citizen, HumanTask, ProcessDefinition, Unit, User, UserUnit


def masked_cprs(session: Session, case_ids: set[str]) -> dict[str, str]:
    """case id → masked CPR (010190-****) for cases the caller already may see."""
    if not case_ids:
        return {}
    rows = session.execute(select(Case.id, Citizen.cpr).join(Citizen, Citizen.id == Case.citizen_id)
                           .where(Case.id.in_(case_ids)))
    return {case_id: cpr_rules.mask(cpr) for case_id, cpr in rows}


def journey_names(session: Session) -> dict[str, str]:
    """process key → the name of its latest version."""
    names: dict[str, str] = {}
    for key, name in session.execute(select(ProcessDefinition.key, ProcessDefinition.name)
                                     .order_by(ProcessDefinition.key, ProcessDefinition.version)):
        names[key] = name or key
    return names


def startable_journeys(session: Session) -> dict[str, str]:
    """Journeys reception can start: deployed processes that no other process calls, and called ones
    whose latest version has a start form of its own (langvarig_aktivitetsparat is both called from
    kontanthjælp and started on its own; the rehabiliteringsteam, with no start form, is only called)."""
    names = journey_names(session)
    called: set[str] = set()
    for calls in session.scalars(select(ProcessDefinition.calls)):
        called.update(c for c in (calls or []) if isinstance(c, str))
    start_forms: dict[str, str | None] = {}
    for key, form_key in session.execute(select(ProcessDefinition.key, ProcessDefinition.start_form_key)
                                         .order_by(ProcessDefinition.key, ProcessDefinition.version)):
        start_forms[key] = form_key  # the latest version's, as in journey_names
    return {k: v for k, v in sorted(names.items(), key=lambda kv: kv[1].lower())
            if k not in called or start_forms.get(k)}


def unit_names(session: Session) -> dict[str, str]:
    return {u.key: u.name for u in session.scalars(select(Unit))}


def unit_members(session: Session, unit: str) -> list[tuple[str, str]]:
    """(username, role) of the active caseworkers and team leads of a unit."""
    rows = session.execute(select(User.username, User.role).join(UserUnit, UserUnit.user_id == User.id)
                           .where(UserUnit.unit_key == unit, User.active.is_(True),
                                  User.role.in_(("caseworker", "teamlead"))).order_by(User.username))
    return [(name, role) for name, role in rows]


def task_choices(session: Session, user: UserView, process_key: str | None) -> list[tuple[str, str]]:
    """(element id, name) of the open tasks this user can see: the inbox's task filter."""
    visible = tasks.inbox_query(user, open_only=True, process_key=process_key).subquery()
    rows = session.execute(select(visible.c.element_id, visible.c.name).distinct().order_by(visible.c.name))
    seen: dict[str, str] = {}
    for element_id, name in rows:
        seen.setdefault(element_id, name or element_id)
    return sorted(seen.items(), key=lambda kv: kv[1].lower())


def task_names(session: Session, task_ids: set[str]) -> dict[str, HumanTask]:
    if not task_ids:
        return {}
    return {t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids)))}
