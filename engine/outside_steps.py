"""Steps from outside that a unit registers by hand: a paper application, a company's answer by phone.

Where a running case waits for a message in a unit's lane and the catching
event names a form (engine.message_forms), the unit's members may register
the message themselves; it goes through engine.runtime.correlate_message
like any message from outside, audited with the user. A message without a
form is one system's to another (SOF's case reporting back): it is not
offered. Event-subprocess starts ("Fravær meldt") may come at any time: the
case page offers them, the inbox lists only steps a case is stopped at.

Read-only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from .access import UNIT_MEMBERS
from .accounts import UserView
from .bpmn.catches import EVENT_START
from .errors import Forbidden, NotFound
from .forms import Form
from .message_forms import catch_for, catch_form, version_index
from .models import Case, Wait
from .statuses import CaseStatus, WaitKind


@dataclass(frozen=True)
class OutsideStep:
    case_id: str
    process_key: str
    definition_id: str
    element_id: str
    name: str              # the catch event's name: "Ansøgning modtaget"
    message: str
    unit: str | None
    form_key: str
    any_time: bool         # an event-subprocess start: the case is not stopped at it
    case_number: str | None = None  # `2026-000123` (engine.case_numbers)


def may_register(user: UserView, unit: str | None) -> bool:
    if user.role == "admin":
        return True
    return user.role in UNIT_MEMBERS and unit is not None and unit in user.units


def _step(session: Session, case: Case, wait: Wait) -> OutsideStep | None:
    catch = catch_for(session, case.definition_id, element_id=wait.element_id, name=wait.message)
    if catch is None or not catch.form_key:
        return None
    return OutsideStep(case.id, case.process_key, case.definition_id, wait.element_id,
                       wait.name or catch.element_name or wait.element_id, wait.message or catch.message, wait.unit,
                       catch.form_key, catch.kind == EVENT_START, case.number)


def case_steps(session: Session, user: UserView, case: Case) -> list[OutsideStep]:
    """What `user` may register on this case now (the caller checked the user may see the case)."""
    if case.status != CaseStatus.RUNNING:
        return []
    waits = session.scalars(select(Wait).where(Wait.case_id == case.id, Wait.kind == WaitKind.MESSAGE)
                            .order_by(Wait.element_id))
    steps = [_step(session, case, w) for w in waits if may_register(user, w.unit)]
    return [s for s in steps if s is not None]


def case_step(session: Session, user: UserView, case: Case, element_id: str) -> OutsideStep:
    """One step to register; NotFound when the case does not wait for it, Forbidden for another unit's."""
    wait = session.scalar(select(Wait).where(Wait.case_id == case.id, Wait.kind == WaitKind.MESSAGE,
                                             Wait.element_id == element_id).limit(1))
    step = _step(session, case, wait) if wait is not None and case.status == CaseStatus.RUNNING else None
    if step is None:
        raise NotFound(f"case {case.id} does not wait for '{element_id}' from outside")
    if not may_register(user, step.unit):
        raise Forbidden("only a member of the waiting unit may register this")
    return step


def inbox_steps(session: Session, user: UserView, *, limit: int = 25) -> list[OutsideStep]:
    """Cases of the user's units stopped at a step from outside, oldest case first."""
    if user.role not in UNIT_MEMBERS + ("admin",):
        return []
    offered = _offered(session)
    if offered is None:
        return []
    query = (select(Wait, Case).join(Case, Case.id == Wait.case_id)
             .where(Wait.kind == WaitKind.MESSAGE, Case.status == CaseStatus.RUNNING, offered))
    if user.role != "admin":
        if not user.units:
            return []
        query = query.where(Wait.unit.in_(user.units))
    rows = session.execute(query.order_by(Case.created_at, Case.id, Wait.element_id).limit(limit))
    return [step for wait, case in rows if (step := _step(session, case, wait)) is not None]


def _offered(session: Session) -> ColumnElement[bool] | None:
    """SQL: the wait is at a catch of its case's version that names a form and stops the case (not any time).

    Every running kontanthjælp case waits for "Fravær meldt" all along, and a referred one for SOF's
    answer: filtered in the query, so they never crowd out the steps a unit must register.
    """
    definitions = session.scalars(select(Case.definition_id).where(Case.status == CaseStatus.RUNNING).distinct())
    conditions = []
    for definition_id in definitions:
        ids = sorted({c.element_id for c in version_index(session, definition_id).catches
                      if c.form_key and c.kind != EVENT_START})
        if ids:
            conditions.append(and_(Case.definition_id == definition_id, Wait.element_id.in_(ids)))
    return or_(*conditions) if conditions else None


def step_form(session: Session, step: OutsideStep, *, forms_dir: Path) -> Form | None:
    return catch_form(session, step.definition_id,
                      catch_for(session, step.definition_id, element_id=step.element_id, name=step.message),
                      forms_dir=forms_dir)
