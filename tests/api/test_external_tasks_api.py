"""External tasks over real HTTP: fetch-and-lock with a lease, complete, failure; roles and bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from engine import clock
from engine.models import ServiceTask
from tests import factories as f
from tests.workers.helpers import DATA
from workers.service_worker import work_service_tasks

DATA_WITHOUT_CPR = {"borger_email": "borger@example.dk"}


@pytest.fixture
def waiting_case(db, session, settings):
    """A case whose letter the worker sent; it now waits at the eIndkomst lookup (topic eindkomst_opslag)."""
    f.standard_users(session)
    f.deploy_files(session, DATA / "brev.bpmn")
    case = f.start_case(session, "brev", data=DATA_WITHOUT_CPR)
    assert work_service_tasks(db.session_factory, settings=settings, rules=f.RULES, worker_id="intern").completed == 1
    return case.id


def fetch(client, worker, **extra):
    return client.post("/external-tasks/fetch-and-lock",
                       json={"worker_id": worker, "topics": ["eindkomst_opslag"], "lease_seconds": 60, **extra})


def test_fetch_lock_and_complete_resumes_the_case(api, waiting_case):
    system = api("system")
    r = fetch(system, "skat-1", max_tasks=10)
    assert r.status_code == 200, r.text
    [task] = r.json()
    assert (task["case_id"], task["topic"], task["element_id"], task["worker_id"]) == (
        waiting_case, "eindkomst_opslag", "opslag", "skat-1")
    assert task["variables"]["borger_email"] == "borger@example.dk" and task["lease_until"]
    assert fetch(system, "skat-2").json() == []  # leased to skat-1
    stale = system.post(f"/external-tasks/{task['id']}/complete", json={"worker_id": "skat-2", "data": {}})
    assert stale.status_code == 409
    done = system.post(f"/external-tasks/{task['id']}/complete",
                       json={"worker_id": "skat-1", "data": {"indkomst": 5000}})
    assert done.status_code == 200, done.text and done.json()["status"] == "done"
    case = api("admin").get(f"/cases/{waiting_case}").json()
    assert case["status"] == "completed" and case["data"]["indkomst"] == 5000
    again = system.post(f"/external-tasks/{task['id']}/complete", json={"worker_id": "skat-1", "data": {}})
    assert again.status_code == 409


def test_a_lease_that_ran_out_is_offered_again_and_the_old_holder_is_refused(api, session, waiting_case):
    system = api("system")
    [task] = fetch(system, "skat-1").json()
    session.execute(update(ServiceTask).values(lease_until=clock.now() - timedelta(seconds=1)))  # the lease ran out
    session.commit()
    [again] = fetch(system, "skat-2").json()
    assert again["id"] == task["id"] and again["worker_id"] == "skat-2"
    r = system.post(f"/external-tasks/{task['id']}/complete", json={"worker_id": "skat-1", "data": {}})
    assert r.status_code == 409 and "another worker" in r.json()["detail"]
    r = system.post(f"/external-tasks/{task['id']}/failure", json={"worker_id": "skat-1", "message": "x"})
    assert r.status_code == 409


def test_failure_with_retries_then_an_incident(api, waiting_case):
    system = api("system")
    [task] = fetch(system, "skat-1").json()
    r = system.post(f"/external-tasks/{task['id']}/failure",
                    json={"worker_id": "skat-1", "message": "eIndkomst svarer ikke", "retries": 1,
                          "retry_timeout_seconds": 0})
    assert r.status_code == 200 and (r.json()["status"], r.json()["retries_left"]) == ("open", 1)
    [task] = fetch(system, "skat-1").json()
    r = system.post(f"/external-tasks/{task['id']}/failure", json={"worker_id": "skat-1", "message": "stadig nede"})
    assert r.status_code == 200 and r.json()["status"] == "failed"
    [incident] = api("admin").get("/incidents").json()
    assert (incident["kind"], incident["case_id"], incident["element_id"]) == ("service_task", waiting_case, "opslag")
    assert "stadig nede" in incident["message"]
    assert fetch(system, "skat-1").json() == []
    assert api("admin").post(f"/incidents/{incident['id']}/retry").status_code == 200
    assert [t["id"] for t in fetch(system, "skat-1").json()] == [task["id"]]


def test_roles_and_bad_input(api, waiting_case):
    assert fetch(api(), "w").status_code == 401
    assert fetch(api("jc"), "w").status_code == 403
    system = api("system")
    for body in ({"worker_id": "w", "topics": []}, {"worker_id": "w", "topics": ["t"], "max_tasks": 0},
                 {"worker_id": "w", "topics": ["t"], "lease_seconds": "60"}, {"worker_id": "", "topics": ["t"]},
                 {"worker_id": "w", "topics": ["t"], "extra": 1}, {"worker_id": "w w", "topics": ["t"]}):
        r = system.post("/external-tasks/fetch-and-lock", json=body)
        assert r.status_code == 422, body
    assert system.post("/external-tasks/nope/complete", json={"worker_id": "w", "data": {}}).status_code == 404
    [task] = fetch(system, "w").json()
    r = system.post(f"/external-tasks/{task['id']}/complete", json={"worker_id": "w", "data": []})
    assert r.status_code == 422
    r = system.post(f"/external-tasks/{task['id']}/failure", json={"worker_id": "w", "message": ""})
    assert r.status_code == 422
    r = system.post(f"/external-tasks/{task['id']}/failure", json={"worker_id": "w", "message": "x", "retries": -1})
    assert r.status_code == 422
    # data the process cannot run on (the gateway reads indkomst): 422 naming the element, the case unchanged
    r = system.post(f"/external-tasks/{task['id']}/complete", json={"worker_id": "w", "data": {}})
    assert r.status_code == 422 and "hvad" in str(r.json()["detail"])
    # nothing above changed the task: it is still leased to w and can be completed
    r = system.post(f"/external-tasks/{task['id']}/complete", json={"worker_id": "w", "data": {"indkomst": 0}})
    assert r.status_code == 200
