"""Incidents over HTTP (GET /api/incidents, POST /api/incidents/{id}/retry) and the API's GET /metrics."""
from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from engine.models import Wait
from engine.retry_policy import RetryPolicy
from tests import factories as f
from tests.workers.helpers import deploy, start_waiting
from tests.workers.test_timers import DUE, T0
from workers.timers import fire_due_timers

POLICY = RetryPolicy(max_attempts=2, backoff_seconds=10)


def failing_case_with_incident(db, session):
    deploy(session)
    case = start_waiting(session, "vent_fejl", at=T0, data={"antal_boern": 0})
    for now in (DUE, DUE + timedelta(seconds=10)):
        fire_due_timers(db.session_factory, rules=f.RULES, now=now, policy=POLICY)
    return case


def test_admins_and_auditors_list_incidents_and_only_admins_retry(api, staff, db, session):
    case = failing_case_with_incident(db, session)
    [incident] = api("admin").get("/incidents").json()
    assert incident["case_id"] == case.id and incident["kind"] == "timer" and incident["status"] == "open"
    assert incident["attempts"] == 2 and incident["element_id"] == "en_time" and "beregn" in incident["message"]
    assert api("auditor").get("/incidents").json() == [incident]
    for who in ("jc", "jclead", "owner", "system"):
        assert api(who).get("/incidents").status_code == 403
    assert api().get("/incidents").status_code == 401
    assert api("auditor").post(f"/incidents/{incident['id']}/retry").status_code == 403
    assert api("jc").post(f"/incidents/{incident['id']}/retry").status_code == 403

    r = api("admin").post(f"/incidents/{incident['id']}/retry")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved" and r.json()["resolved_by"] == "admin"
    session.expire_all()
    assert [w.attempts for w in session.scalars(select(Wait).where(Wait.case_id == case.id))] == [0]
    assert api("admin").get("/incidents").json() == []
    assert [i["id"] for i in api("admin").get("/incidents", params={"status": "resolved"}).json()] == [incident["id"]]
    assert api("admin").post(f"/incidents/{incident['id']}/retry").status_code == 409  # not twice
    events = api("auditor").get(f"/cases/{case.id}/audit").json()["events"]
    assert [e["type"] for e in events if e["type"].startswith("incident")] == ["incident", "incident_retried"]


def test_bad_incident_requests_get_clear_errors(api, staff):
    admin = api("admin")
    assert admin.post("/incidents/no-such-incident/retry").status_code == 404
    assert admin.post(f"/incidents/{'x' * 400}/retry").status_code == 404
    r = admin.get("/incidents", params={"status": "gone"})
    assert r.status_code == 422 and "status" in r.json()["detail"]
    assert admin.get("/incidents", params={"limit": 0}).status_code == 422
    assert admin.get("/incidents", params={"offset": -1}).status_code == 422


def test_metrics_count_due_timers_and_open_incidents(api, staff, db, session, live):
    failing_case_with_incident(db, session)
    start_waiting(session, at=T0)  # due long ago (T0 is in the past): the lag is large
    body = httpx.get(f"{live}/metrics").text
    values = {line.split()[0]: float(line.split()[1]) for line in body.splitlines()
              if line and not line.startswith("#")}
    assert values["tovholder_database_up"] == 1
    assert values["tovholder_timers_due"] == 2  # the failing one waits too, behind its incident
    assert values["tovholder_incidents_open"] == 1
    assert values["tovholder_timer_oldest_due_lag_seconds"] > 3600
    assert "tovholder_outbox_backlog" in values
