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

from sqlalchemy import select
from sqlalchemy.orm import Session

from .access import UNIT_MEMBERS
from .accounts import UserView
from .bpmn.catches import EVENT_START
from .errors import Forbidden, NotFound
from .message_forms import catch_for, catch_form
from .models import Case, Wait
from .statuses import CaseStatus, WaitKind

SCAN_LIMIT = 500  # waits looked at for one inbox page; older ones show on the next


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
                       catch.form_key, catch.kind == EVENT_START)


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
    query = (select(Wait, Case).join(Case, Case.id == Wait.case_id)
             .where(Wait.kind == WaitKind.MESSAGE, Case.status == CaseStatus.RUNNING))
    if user.role != "admin":
        if not user.units:
            return []
        query = query.where(Wait.unit.in_(user.units))
    found = []
    for wait, case in session.execute(query.order_by(Case.created_at, Case.id, Wait.element_id).limit(SCAN_LIMIT)):
        step = _step(session, case, wait)
        if step is not None and not step.any_time:
            found.append(step)
            if len(found) >= limit:
                break
    return found


def step_form(session: Session, step: OutsideStep, *, forms_dir):
    return catch_form(session, step.definition_id,
                      catch_for(session, step.definition_id, element_id=step.element_id, name=step.message),
                      forms_dir=forms_dir)
