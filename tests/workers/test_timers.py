"""The timer worker in-process: claim, fire once, back off, open an incident, retry (both databases).

Time moves with the `now` the worker is given (and engine.clock.at); nothing sleeps.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import clock, incidents, runtime
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import AuditEvent, Case, Incident, Wait
from engine.retry_policy import RetryPolicy
from engine.timer_claims import claim_next
from tests import factories as f
from workers.timers import fire_due_timers

from .helpers import HOUR, deploy, start_waiting

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
DUE = T0 + timedelta(hours=1, seconds=1)  # a second after the timer's moment
POLICY = RetryPolicy(max_attempts=3, backoff_seconds=60)


@pytest.fixture
def users(seed, session):
    users = seed()
    deploy(session)
    return users


def fire(db, now, **kwargs):
    return fire_due_timers(db.session_factory, rules=f.RULES, now=now, policy=POLICY, **kwargs)


def audit_types(session, case_id):
    return [e.type for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                            .order_by(AuditEvent.seq))]


def timer_rows(session, case_id):
    session.expire_all()
    return session.scalars(select(Wait).where(Wait.case_id == case_id, Wait.kind == "timer")).all()


def test_a_due_timer_fires_once_and_not_before(db, session, users):
    case = start_waiting(session, at=T0)
    assert fire(db, T0 + HOUR).fired == 0  # SpiffWorkflow fires once the moment has passed
    run = fire(db, T0 + HOUR + timedelta(microseconds=1))
    assert (run.fired, run.cases, run.failed) == (1, 1, [])
    assert fire(db, T0 + 2 * HOUR).fired == 0  # never twice
    session.expire_all()
    assert session.get(Case, case.id).status == "completed"
    assert audit_types(session, case.id).count("timer_fired") == 1


def test_a_pass_takes_at_most_a_batch_and_the_next_pass_the_rest(db, session, users):
    ids = [start_waiting(session, at=T0).id for _ in range(5)]
    assert fire(db, DUE, batch=2).cases == 2
    assert fire(db, DUE, batch=2).cases == 2
    assert fire(db, DUE, batch=2).cases == 1
    session.expire_all()
    assert {session.get(Case, i).status for i in ids} == {"completed"}


def test_a_stop_request_ends_the_pass_between_cases(db, session, users):
    for _ in range(3):
        start_waiting(session, at=T0)
    handled = []
    run = fire(db, DUE, should_stop=lambda: len(handled) > 0 or handled.append(1))
    assert run.cases == 1  # the case in hand finished; no further one was taken


def test_a_failing_case_backs_off_then_opens_an_incident_and_stops(db, session, users):
    bad = start_waiting(session, "vent_fejl", at=T0, data={"antal_boern": 0})
    good = start_waiting(session, "vent_fejl", at=T0, data={"antal_boern": 2})
    due = DUE
    run = fire(db, due)
    assert run.failed == [bad.id] and run.cases == 1  # one failure never stops the batch
    [wait] = timer_rows(session, bad.id)
    assert wait.attempts == 1 and clock.as_utc(wait.next_attempt_at) == due + timedelta(seconds=60)
    assert fire(db, due + timedelta(seconds=59)).handled == 0  # backing off
    assert fire(db, due + timedelta(seconds=60)).failed == [bad.id]
    [wait] = timer_rows(session, bad.id)
    assert wait.attempts == 2 and clock.as_utc(wait.next_attempt_at) == due + timedelta(seconds=180)  # 60 s, then 120 s
    run = fire(db, due + timedelta(seconds=180))
    assert run.failed == [bad.id] and len(run.incidents) == 1
    assert fire(db, due + timedelta(days=30)).handled == 0  # stopped: it waits for an admin
    session.expire_all()
    [incident] = session.scalars(select(Incident)).all()
    assert (incident.case_id, incident.kind, incident.element_id, incident.attempts, incident.status) == \
        (bad.id, "timer", "en_time", 3, "open")
    assert "beregn" in incident.message and "ZeroDivisionError" in incident.message
    types = audit_types(session, bad.id)
    assert types.count("process_error") == 1 and types.count("incident") == 1 and "timer_fired" not in types
    assert session.get(Case, bad.id).status == "running"  # the case kept its state
    assert session.get(Case, good.id).status == "completed"


def fail_until_incident(db, session, case_id):
    due = DUE
    for seconds in (0, 60, 180):
        fire(db, due + timedelta(seconds=seconds))
    session.expire_all()
    return session.scalars(select(Incident).where(Incident.case_id == case_id, Incident.status == "open")).one()


def test_an_admin_retry_rearms_the_timer(db, session, users):
    bad = start_waiting(session, "vent_fejl", at=T0, data={"antal_boern": 0})
    incident = fail_until_incident(db, session, bad.id)
    for who in ("auditor", "jc", "owner"):
        with pytest.raises(Forbidden):
            incidents.retry_incident(session, incident_id=incident.id, user=users[who])
    session.rollback()
    view = incidents.retry_incident(session, incident_id=incident.id, user=users["admin"])
    session.commit()
    assert (view.status, view.resolved_by) == ("resolved", "admin")
    assert [w.attempts for w in timer_rows(session, bad.id)] == [0]
    later = T0 + timedelta(days=2)
    assert fire(db, later).failed == [bad.id]  # taken again: a fresh round of attempts
    assert [w.attempts for w in timer_rows(session, bad.id)] == [1]
    with pytest.raises(Conflict):
        incidents.retry_incident(session, incident_id=incident.id, user=users["admin"])
    session.rollback()
    with pytest.raises(NotFound):
        incidents.retry_incident(session, incident_id="no-such-incident", user=users["admin"])
    assert "incident_retried" in audit_types(session, bad.id)


def test_listing_incidents_is_for_admins_and_auditors(db, session, users):
    bad = start_waiting(session, "vent_fejl", at=T0, data={"antal_boern": 0})
    incident = fail_until_incident(db, session, bad.id)
    for who in ("admin", "auditor"):
        [view] = incidents.list_incidents(session, user=users[who])
        assert view.id == incident.id
    assert incidents.list_incidents(session, user=users["admin"], status="resolved") == []
    assert len(incidents.list_incidents(session, user=users["admin"], status="all")) == 1
    for who in ("jc", "jclead", "owner", "system"):
        with pytest.raises(Forbidden):
            incidents.list_incidents(session, user=users[who])
    with pytest.raises(Invalid):
        incidents.list_incidents(session, user=users["admin"], status="åben")


def test_a_timer_that_works_again_settles_its_open_incident(db, session, users):
    case = start_waiting(session, at=T0)
    runtime.lock_case(session, case.id)
    for wait in timer_rows(session, case.id):
        wait.attempts = 1  # as if an earlier attempt had failed
    incidents.record_incident(session, case_id=case.id, kind="timer", element_id="en_time",
                              message="the process failed at beregn", attempts=1)
    session.commit()
    assert fire(db, DUE).fired == 1
    session.expire_all()
    [incident] = session.scalars(select(Incident)).all()
    assert (incident.status, incident.resolved_by) == ("resolved", runtime.TIMER_ACTOR)


def test_incident_messages_never_carry_a_cpr_number(db, session, users):
    case = start_waiting(session, at=T0)
    view = incidents.record_incident(session, case_id=case.id, kind="timer", element_id="en_time",
                                     message="no such citizen 0101901234 / 010190-1234", attempts=5)
    session.commit()
    assert "1234" not in view.message and "010190-****" in view.message
    [event] = [e for e in session.scalars(select(AuditEvent).where(AuditEvent.type == "incident"))]
    assert "1234" not in str(event.details)


def test_the_same_open_work_keeps_one_incident(db, session, users):
    for attempts in (5, 6):
        incidents.record_incident(session, case_id=None, kind="service_task", element_id="brev",
                                  message="SMTP refused", attempts=attempts, ref="outbox-1")
    session.commit()
    [row] = session.scalars(select(Incident)).all()
    assert (row.attempts, row.case_id) == (6, None)


def test_a_claimed_case_is_skipped_by_other_workers(db, session, users):
    if not db.is_postgres:
        pytest.skip("SQLite has no row locks: one worker only (workers/timers.py)")
    first, second = (start_waiting(session, at=T0) for _ in range(2))
    now = DUE
    with db.session() as a, db.session() as b:
        claimed_a = claim_next(a, now=now, policy=POLICY)
        claimed_b = claim_next(b, now=now, policy=POLICY)
        assert {claimed_a[0], claimed_b[0]} == {first.id, second.id}
        with db.session() as c:
            assert claim_next(c, now=now, policy=POLICY) is None  # both held
        a.rollback()
        b.rollback()
    run = fire(db, now)
    assert run.cases == 2


def test_the_backoff_doubles_up_to_a_day():
    policy = RetryPolicy(max_attempts=50, backoff_seconds=30)
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert policy.delay(40) == timedelta(days=1)
