"""Service tasks: the case waits at one, a topic handler or an external worker completes it under a lease.

Both databases; time moves with the `now` given to the engine functions.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import catalog, clock, incidents
from engine.errors import Conflict, Invalid, InvalidDefinition
from engine.models import AuditEvent, Case, Incident, OutboxMessage, ServiceTask
from engine.service_tasks import complete_service_task, fail_service_task, fetch_and_lock
from tests import factories as f
from workers import handlers as h
from workers.service_worker import work_service_tasks

from .helpers import DATA

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LETTER_DATA = {"borger_email": "borger@example.dk", "brev_tekst": "Din sag 010190-1234 er modtaget."}


@pytest.fixture
def users(seed, session):
    users = seed()
    f.deploy_files(session, DATA / "brev.bpmn")
    return users


def start(session, data=LETTER_DATA):
    with clock.at(T0):
        return f.start_case(session, "brev", data=data)


def rows(session, case_id):
    session.expire_all()
    return {r.element_id: r for r in session.scalars(select(ServiceTask).where(ServiceTask.case_id == case_id))}


def audit_types(session, case_id):
    return [e.type for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                            .order_by(AuditEvent.seq))]


def work(db, settings, now=T0, **kw):
    return work_service_tasks(db.session_factory, settings=settings, rules=f.RULES, now=now, worker_id="w1", **kw)


def test_the_case_stops_at_a_service_task_and_the_letter_handler_completes_it(db, session, settings, users):
    case = start(session)
    [brev] = rows(session, case.id).values()
    assert (brev.topic, brev.status, brev.retries_left) == ("brev_til_borger", "open", 3)
    assert brev.variables["borger_email"] == "borger@example.dk"
    assert session.get(Case, case.id).status == "running"
    run = work(db, settings)
    assert (run.completed, run.failed) == (1, [])
    by_element = rows(session, case.id)
    assert by_element["send_brev"].status == "done"
    assert (by_element["opslag"].topic, by_element["opslag"].status) == ("eindkomst_opslag", "open")  # no handler
    [letter] = session.scalars(select(OutboxMessage)).all()
    assert (letter.kind, letter.recipient, letter.case_id) == ("letter", "borger@example.dk", case.id)
    assert "010190-****" in letter.body and "1234" not in letter.body.replace("-****", "")
    data = session.get(Case, case.id).data
    assert data["brev_id"] == letter.id
    types = audit_types(session, case.id)
    assert types.count("service_task_created") == 2 and "service_task_completed" in types
    assert work(db, settings).handled == 0  # done once: nothing more for the worker's topics


def test_an_external_worker_completes_with_data_and_the_case_runs_on(db, session, settings, users):
    case = start(session)
    task = session.get(ServiceTask, _leave_only_the_lookup(db, settings, session, case.id))
    [leased] = fetch_and_lock(session, worker_id="skat", topics=["eindkomst_opslag"], max_tasks=5,
                              lease_seconds=60, now=T0)
    session.commit()
    assert leased.id == task.id and leased.lease_until == T0 + timedelta(seconds=60)
    assert fetch_and_lock(session, worker_id="other", topics=["eindkomst_opslag"], now=T0) == []  # leased
    with pytest.raises(Conflict):
        complete_service_task(session, service_task_id=task.id, data={}, worker_id="other", rules=f.RULES, now=T0)
    session.rollback()
    done = complete_service_task(session, service_task_id=task.id, data={"indkomst": 5000}, worker_id="skat",
                                 rules=f.RULES, now=T0 + timedelta(seconds=30))
    session.commit()
    assert done.status == "done"
    assert session.get(Case, case.id).status == "completed"
    assert session.get(Case, case.id).data["indkomst"] == 5000


def _leave_only_the_lookup(db, settings, session, case_id):
    """The worker sends the letter; the case then waits at the lookup, which no handler here takes."""
    assert work(db, settings).completed == 1
    return rows(session, case_id)["opslag"].id


def test_a_lease_that_runs_out_makes_the_task_available_and_the_stale_lease_is_refused(db, session, settings,
                                                                                       users):
    case = start(session)
    task_id = _leave_only_the_lookup(db, settings, session, case.id)
    [first] = fetch_and_lock(session, worker_id="a", topics=["eindkomst_opslag"], lease_seconds=60, now=T0)
    session.commit()
    later = T0 + timedelta(seconds=61)
    with pytest.raises(Conflict, match="ran out"):  # expired, even before anyone else takes it
        complete_service_task(session, service_task_id=task_id, data={}, worker_id="a", rules=f.RULES, now=later)
    session.rollback()
    [again] = fetch_and_lock(session, worker_id="b", topics=["eindkomst_opslag"], lease_seconds=60, now=later)
    session.commit()
    assert again.id == first.id and again.lock_owner == "b"
    for worker in ("a",):
        with pytest.raises(Conflict):
            fail_service_task(session, service_task_id=task_id, worker_id=worker, message="x", now=later)
        session.rollback()
    complete_service_task(session, service_task_id=task_id, data={"indkomst": 1}, worker_id="b", rules=f.RULES,
                          now=later, lease=again.lease_until)
    session.commit()
    with pytest.raises(Conflict):  # completing twice
        complete_service_task(session, service_task_id=task_id, data={}, worker_id="b", rules=f.RULES, now=later)


def test_failures_use_the_retries_then_an_incident_and_an_admin_retry_offers_it_again(db, session, settings,
                                                                                      users):
    case = start(session)
    task_id = _leave_only_the_lookup(db, settings, session, case.id)  # the diagram gives it retries=2
    moment = T0
    for expected_left in (1, 0):
        [leased] = fetch_and_lock(session, worker_id="skat", topics=["eindkomst_opslag"], now=moment)
        view = fail_service_task(session, service_task_id=leased.id, worker_id="skat", message="eIndkomst svarer ikke",
                                 retry_in=timedelta(minutes=1), now=moment)
        session.commit()
        assert view.retries_left == expected_left
        assert fetch_and_lock(session, worker_id="skat", topics=["eindkomst_opslag"], now=moment) == []
        session.commit()
        moment += timedelta(minutes=2)
    assert rows(session, case.id)["opslag"].status == "failed"
    [incident] = session.scalars(select(Incident)).all()
    assert (incident.kind, incident.case_id, incident.element_id, incident.ref) == (
        "service_task", case.id, "opslag", task_id)
    assert fetch_and_lock(session, worker_id="skat", topics=["eindkomst_opslag"], now=moment) == []
    incidents.retry_incident(session, incident_id=incident.id, user=users["admin"])
    session.commit()
    [leased] = fetch_and_lock(session, worker_id="skat", topics=["eindkomst_opslag"], now=moment)
    assert leased.id == task_id
    types = audit_types(session, case.id)
    assert types.count("service_task_failed") == 2 and "incident" in types and "incident_retried" in types


def test_a_failing_handler_ends_in_an_incident_after_its_retries(db, session, settings, users):
    case = start(session, data={"brev_tekst": "hej"})  # no borger_email: the letter handler cannot send
    moment, runs = T0, []
    for _ in range(3):
        runs.append(work(db, settings, now=moment))
        moment += timedelta(days=1)
    assert [len(r.failed) for r in runs] == [1, 1, 1]
    brev = rows(session, case.id)["send_brev"]
    assert (brev.status, brev.attempts, brev.retries_left) == ("failed", 3, 0)
    assert "borger_email" in brev.error
    [incident] = session.scalars(select(Incident)).all()
    assert incident.kind == "service_task" and "borger_email" in incident.message
    assert work(db, settings, now=moment).handled == 0
    assert session.scalars(select(OutboxMessage)).all() == []  # a failed handler queued nothing


def test_a_handler_error_rolls_back_what_it_queued(db, session, settings, users, monkeypatch):
    case = start(session)

    def broken(session_, task):
        h.letter_to_citizen(session_, task)
        raise RuntimeError("printer on fire 010190-1234")

    monkeypatch.setitem(h.HANDLERS, "brev_til_borger", broken)
    run = work(db, settings)
    assert len(run.failed) == 1
    assert session.scalars(select(OutboxMessage)).all() == []
    assert rows(session, case.id)["send_brev"].error == "unexpected RuntimeError"


def test_bad_requests_are_refused(session, users):
    for kwargs in ({"worker_id": "", "topics": ["x"]}, {"worker_id": "w", "topics": []},
                   {"worker_id": "w", "topics": ["x"], "max_tasks": 0},
                   {"worker_id": "w", "topics": ["x"], "lease_seconds": "60"}):
        with pytest.raises(Invalid):
            fetch_and_lock(session, **kwargs)


SERVICE_WITHOUT_TOPIC = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="uden_emne" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="kald"/>
    <bpmn:serviceTask id="kald" name="Kald noget"/>
    <bpmn:sequenceFlow id="f2" sourceRef="kald" targetRef="java"/>
    <bpmn:serviceTask id="java" camunda:class="dk.kommune.Brev"/>
    <bpmn:sequenceFlow id="f3" sourceRef="java" targetRef="slut"/>
    <bpmn:endEvent id="slut"/>
  </bpmn:process>
</bpmn:definitions>
'''


def test_deploy_refuses_a_service_task_without_a_topic(session, users):
    with pytest.raises(InvalidDefinition) as caught:
        catalog.deploy(session, [("uden_emne.bpmn", SERVICE_WITHOUT_TOPIC)], rules=f.RULES, actor="test")
    problems = {(p["element"], p["line"]) for p in caught.value.detail}
    assert ("kald", 7) in problems and ("java", 9) in problems
    assert all(p["file"] == "uden_emne.bpmn" for p in caught.value.detail)


def test_a_cancelled_case_withdraws_its_service_task(session, users):
    from engine import runtime
    case = start(session)
    runtime.cancel_case(session, case_id=case.id, reason="fejloprettet", actor="admin", rules=f.RULES)
    session.commit()
    assert rows(session, case.id)["send_brev"].status == "cancelled"
    assert fetch_and_lock(session, worker_id="w", topics=["brev_til_borger"], now=T0) == []
    assert "service_task_cancelled" in audit_types(session, case.id)
