"""A reminder task closes, audited, when the task it reminds of is done; the case still runs to its end."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from engine import clock, runtime
from engine.models import AuditEvent, Case, HumanTask
from tests import factories as f
from tests.engine.test_runtime import REGISTRERING, VISITATION, complete, open_tasks
from workers.timers import fire_due_timers


@pytest.fixture
def users(seed):
    return seed("intake.bpmn")


def test_reminder_closes_when_the_reminded_task_is_done(session, users, db):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        case = f.start_case(session, "intake", actor=users["jc"])
        complete(session, case.id, users["jc"], REGISTRERING)
        traveller.shift(timedelta(days=7, seconds=1))
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 1
        session.expire_all()
        reminder = next(t for t in open_tasks(session, case.id) if t.element_id == "paamindelse")
        visitation = complete(session, case.id, users["jc"], VISITATION, element="visitation")
        session.expire_all()
        assert open_tasks(session, case.id) == []
        assert session.get(HumanTask, reminder.id).status == "cancelled"
        [closed] = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                            AuditEvent.type == "reminder_closed")).all()
        assert (closed.task_id, closed.element_id) == (reminder.id, "paamindelse")
        assert closed.details == {"reminded_element_id": "visitation", "reminded_task_id": visitation.id,
                                  "cause": "jc"}
        assert closed.actor == runtime.SYSTEM_ACTOR
        # the case goes on and ends, the closed branch does not hold it open
        runtime.correlate_message(session, name="ansoegning_modtaget", correlation_key=case.id, data={},
                                  user=users["admin"], rules=f.RULES)
        session.commit()
        complete(session, case.id, users["ys"], {"afgoerelse": "bevilget", "sats": 12000,
                                                 "begrundelse": "Betingelserne er opfyldt"})
        session.expire_all()
        assert session.get(Case, case.id).status == "completed"


def test_a_reminder_done_before_its_task_is_not_touched(session, users, db):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        case = f.start_case(session, "intake", actor=users["jc"])
        complete(session, case.id, users["jc"], REGISTRERING)
        traveller.shift(timedelta(days=7, seconds=1))
        fire_due_timers(db.session_factory, rules=f.RULES)
        session.expire_all()
        complete(session, case.id, users["jclead"], {"handling": "Talt med jc"}, element="paamindelse")
        complete(session, case.id, users["jc"], VISITATION, element="visitation")
        types = [e.type for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))]
        assert "reminder_closed" not in types


def test_closing_the_reminder_of_the_last_step_completes_the_case(session, db, seed):
    users = seed("reminder_last.bpmn")
    with time_machine.travel(clock.now(), tick=False) as traveller:
        case = f.start_case(session, "reminder_last", actor=users["jc"])
        traveller.shift(timedelta(days=7, seconds=1))
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 1
        session.expire_all()
        assert sorted(t.element_id for t in open_tasks(session, case.id)) == ["paamindelse", "sidste"]
        complete(session, case.id, users["jc"], {"note": "Gjort"}, element="sidste")
        session.expire_all()
        assert open_tasks(session, case.id) == []
        assert session.get(Case, case.id).status == "completed"  # not left running with nothing to do
        types = [e.type for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                                 .order_by(AuditEvent.seq))]
        assert types[-4:] == ["reminder_closed", "element_passed", "task_cancelled", "case_completed"]
