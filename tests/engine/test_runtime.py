"""The engine's one mutation path: start, complete, gateways, messages, timers, cancel, audit."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from engine import clock, runtime
from engine import inbox as tasks
from engine.bpmn.serializer import workflow_from_json
from engine.catalog import get_definition
from engine.errors import Conflict, FormRejected, Invalid, NotFound, TaskNotOpen
from engine.models import AuditEvent, Case, HumanTask, Wait
from tests import factories as f

REGISTRERING = {"forsikret": False, "henvendelsesdato": "2026-11-23"}
VISITATION = {"til_raadighed": True, "kategori": "jobparat", "problemer_ud_over_ledighed": False,
              "vurdering": "Klar til job"}


@pytest.fixture
def users(seed):
    return seed("intake.bpmn", "parallel.bpmn")


def open_tasks(session, case_id):
    return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                        HumanTask.status.in_(("open", "claimed")))))


def complete(session, case_id, user, data, element=None):
    row = next(t for t in open_tasks(session, case_id) if element is None or t.element_id == element)
    runtime.complete_task(session, task_id=row.id, data=data, user=user, rules=f.RULES)
    session.commit()
    return row


def audit_types(session, case_id):
    return [e.type for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                            .order_by(AuditEvent.seq))]


def reload(session, case_id):
    session.expire_all()
    return session.get(Case, case_id)


def test_start_creates_the_first_task_in_the_lanes_unit(session, users):
    case = f.start_case(session, "intake", actor=users["jc"])
    [task] = open_tasks(session, case.id)
    assert (task.element_id, task.unit, task.status, task.form_key) == ("registrering", "jobcenter", "open",
                                                                       "t_registrering")
    assert task.process_key == "intake" and task.process_version == 1
    assert audit_types(session, case.id) == ["case_started", "element_passed", "task_created"]


def test_cpr_is_stored_once_and_never_in_case_state(session, users):
    first = f.start_case(session, "intake", actor=users["jc"], cpr="0101901234")
    second = f.start_case(session, "intake", actor=users["jc"], cpr="010190-1234")
    assert first.citizen_id == second.citizen_id
    for case in (first, second):
        assert "0101901234" not in case.state_json and "010190-1234" not in case.state_json
        assert "0101901234" not in json.dumps(case.data)


@pytest.mark.parametrize("cpr", ["310290-1234", "0101901", "abcdefghij", "320190-1234", 101901234, None])
def test_start_refuses_an_invalid_cpr(session, users, cpr):
    with pytest.raises(Invalid):
        f.start_case(session, "intake", actor=users["jc"], cpr=cpr)
    session.rollback()
    assert session.scalars(select(Case)).all() == []


def test_unknown_process_is_not_found(session, users):
    with pytest.raises(NotFound):
        f.start_case(session, "nope", actor=users["jc"])


def test_happy_path_through_gateway_message_and_decision(session, users):
    case = f.start_case(session, "intake", actor=users["jc"])
    complete(session, case.id, users["jc"], REGISTRERING)
    complete(session, case.id, users["jc"], VISITATION)
    [wait] = [w for w in session.scalars(select(Wait).where(Wait.case_id == case.id, Wait.kind == "message"))]
    assert (wait.message, wait.unit) == ("ansoegning_modtaget", "ydelsesservice")
    runtime.correlate_message(session, name="ansoegning_modtaget", correlation_key=f.CPR,
                              data={"ansoegning_id": "A-17"}, user=users["system"], rules=f.RULES)
    session.commit()
    [decision] = open_tasks(session, case.id)
    assert (decision.element_id, decision.unit) == ("afgoerelse", "ydelsesservice")
    complete(session, case.id, users["ys"], {"afgoerelse": "bevilget", "sats": 12000, "begrundelse": "OK"})
    case = reload(session, case.id)
    assert case.status == "completed" and case.completed_at is not None
    assert case.data["ansoegning_id"] == "A-17" and case.data["afgoerelse"] == "bevilget"
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    gateway = next(e for e in events if e.type == "gateway_taken")
    assert gateway.element_id == "forsikret_gw" and gateway.details["taken"] == ["visitation"]
    completed = [e for e in events if e.type == "task_completed"]
    assert [e.actor for e in completed] == ["jc", "jc", "ys"]
    assert completed[0].details["data"] == REGISTRERING
    message = next(e for e in events if e.type == "message_received")
    assert message.actor == "system" and message.details["data"] == {"ansoegning_id": "A-17"}
    assert events[-1].type == "case_completed" and events[-1].element_id == "afgjort"
    assert session.scalars(select(Wait).where(Wait.case_id == case.id)).all() == []


def test_insured_citizen_ends_at_akasse(session, users):
    case = f.start_case(session, "intake", actor=users["jc"])
    complete(session, case.id, users["jc"], {**REGISTRERING, "forsikret": True})
    case = reload(session, case.id)
    assert case.status == "completed"
    gateway = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                      AuditEvent.type == "gateway_taken"))
    assert gateway.details["taken"] == ["henvist_akasse"]


def test_form_rejects_bad_data_and_leaves_task_unchanged(session, users):
    case = f.start_case(session, "intake", actor=users["jc"])
    [task] = open_tasks(session, case.id)
    before = audit_types(session, case.id)
    with pytest.raises(FormRejected) as err:
        runtime.complete_task(session, task_id=task.id, data={"forsikret": "ja", "ukendt": 1},
                              user=users["jc"], rules=f.RULES)
    session.rollback()
    fields = {e["field"] for e in err.value.detail}
    assert fields == {"forsikret", "ukendt", "henvendelsesdato"}
    assert open_tasks(session, case.id)[0].status == "open"
    assert audit_types(session, case.id) == before


def test_completing_twice_is_a_conflict(session, users):
    case = f.start_case(session, "intake", actor=users["jc"])
    row = complete(session, case.id, users["jc"], REGISTRERING)
    with pytest.raises(TaskNotOpen):
        runtime.complete_task(session, task_id=row.id, data=REGISTRERING, user=users["jc"], rules=f.RULES)


def test_claim_release_assign(session, users):
    case = f.start_case(session, "intake", actor=users["jc"])
    [task] = open_tasks(session, case.id)
    tasks.claim(session, task_id=task.id, user=users["jc"])
    session.commit()
    with pytest.raises(Conflict):
        tasks.claim(session, task_id=task.id, user=users["jc2"])
    session.rollback()
    with pytest.raises(Conflict):
        runtime.complete_task(session, task_id=task.id, data=REGISTRERING, user=users["jc2"], rules=f.RULES)
    session.rollback()
    tasks.release(session, task_id=task.id, user=users["jc"])
    tasks.assign(session, task_id=task.id, username="jc2", user=users["jclead"])
    session.commit()
    with pytest.raises(Invalid):
        tasks.assign(session, task_id=task.id, username="ys", user=users["jclead"])
    session.rollback()
    row = session.get(HumanTask, task.id)
    assert (row.status, row.assignee) == ("claimed", "jc2")
    assert audit_types(session, case.id)[-3:] == ["task_claimed", "task_released", "task_assigned"]


def test_message_by_case_id_and_no_waiting_case(session, users):
    case = f.start_case(session, "intake", actor=users["jc"])
    with pytest.raises(NotFound):
        runtime.correlate_message(session, name="ansoegning_modtaget", correlation_key=case.id, data={},
                                  user=users["system"], rules=f.RULES)
    session.rollback()
    complete(session, case.id, users["jc"], REGISTRERING)
    complete(session, case.id, users["jc"], VISITATION)
    with pytest.raises(NotFound):
        runtime.correlate_message(session, name="ukendt_besked", correlation_key=case.id, data={},
                                  user=users["system"], rules=f.RULES)
    session.rollback()
    runtime.correlate_message(session, name="ansoegning_modtaget", correlation_key=case.id, data={},
                              user=users["system"], rules=f.RULES)
    session.commit()
    assert [t.element_id for t in open_tasks(session, case.id)] == ["afgoerelse"]


def test_message_for_a_cpr_with_two_waiting_cases_is_ambiguous(session, users):
    for _ in range(2):
        case = f.start_case(session, "intake", actor=users["jc"])
        complete(session, case.id, users["jc"], REGISTRERING)
        complete(session, case.id, users["jc"], VISITATION)
    with pytest.raises(Conflict):
        runtime.correlate_message(session, name="ansoegning_modtaget", correlation_key=f.CPR, data={},
                                  user=users["system"], rules=f.RULES)


def test_boundary_timer_fires_when_the_clock_moves(session, users, db):
    from workers.timers import fire_due_timers
    with time_machine.travel(clock.now(), tick=False) as traveller:
        case = f.start_case(session, "intake", actor=users["jc"])
        complete(session, case.id, users["jc"], REGISTRERING)
        [timer] = session.scalars(select(Wait).where(Wait.case_id == case.id, Wait.kind == "timer")).all()
        assert timer.element_id == "visitation_forfalden"
        due = clock.as_utc(timer.due_at)
        assert due == clock.now() + timedelta(days=7)
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 0
        traveller.shift(timedelta(days=7, seconds=1))
        result = fire_due_timers(db.session_factory, rules=f.RULES)
        assert result.fired == 1 and result.failed == []
        session.expire_all()
        assert sorted(t.element_id for t in open_tasks(session, case.id)) == ["paamindelse", "visitation"]
        fired = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                        AuditEvent.type == "timer_fired"))
        assert fired.element_id == "visitation_forfalden" and fired.actor == runtime.TIMER_ACTOR
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 0  # never twice


def test_cancel_closes_tasks_and_waits(session, users):
    case = f.start_case(session, "intake", actor=users["jc"])
    complete(session, case.id, users["jc"], REGISTRERING)
    runtime.cancel_case(session, case_id=case.id, reason="Flyttet til anden kommune", actor="jclead", rules=f.RULES)
    session.commit()
    case = reload(session, case.id)
    assert (case.status, case.cancel_reason) == ("cancelled", "Flyttet til anden kommune")
    assert open_tasks(session, case.id) == []
    assert session.scalars(select(Wait).where(Wait.case_id == case.id)).all() == []
    assert audit_types(session, case.id)[-2:] == ["case_cancelled", "task_cancelled"]
    with pytest.raises(Conflict):
        runtime.cancel_case(session, case_id=case.id, reason="igen", actor="jclead", rules=f.RULES)


def test_state_round_trips_without_the_spec(session, users):
    case = f.start_case(session, "intake", actor=users["jc"])
    complete(session, case.id, users["jc"], REGISTRERING)
    case = reload(session, case.id)
    state = json.loads(case.state_json)
    assert "spec" not in state and state["format"].startswith("spiff-")
    definition = get_definition(session, "intake", 1)
    workflow = workflow_from_json(case.state_json, definition.spec_json)
    ready = [t.task_spec.bpmn_id for t in workflow.get_tasks() if t.state == 16]
    assert ready == ["visitation"]


def test_audit_rows_cannot_be_changed_or_deleted(session, users, db):
    case = f.start_case(session, "intake", actor=users["jc"])
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError
    with pytest.raises(DBAPIError):
        with db.engine.begin() as conn:
            conn.execute(update(AuditEvent).where(AuditEvent.case_id == case.id).values(actor="mallory"))
    with pytest.raises(DBAPIError):
        with db.engine.begin() as conn:
            conn.execute(delete(AuditEvent).where(AuditEvent.case_id == case.id))
    assert audit_types(session, case.id)[0] == "case_started"


def test_parallel_branches_land_in_two_units(session, users):
    case = f.start_case(session, "parallel", actor=users["jc"])
    assert sorted((t.element_id, t.unit) for t in open_tasks(session, case.id)) == [
        ("task_a", "jobcenter"), ("task_b", "ydelsesservice")]
    complete(session, case.id, users["ys"], {"note": "b"}, element="task_b")
    complete(session, case.id, users["jc"], {"note": "a"}, element="task_a")
    assert reload(session, case.id).status == "completed"
