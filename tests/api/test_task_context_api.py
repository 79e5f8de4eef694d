"""GET /api/tasks/{id}'s `context` over HTTP (CONTRACT.md, "Handovers"): what the receiving unit is handed,
and that Virksomhedsservice reads the benefit rate through none of the API's doors; and GET
/api/cases/{id}/audit of a kontanthjælp walk to a job credits every event to the right actor.

The real kontanthjælp journey (processes/, forms/), worked through the engine up to Virksomhedsservice's
match (tests/journeys/test_kontanthjaelp_handovers.py's to_sof_and_placement: granted at 12.000 kr.).
"""
from __future__ import annotations

from datetime import datetime

import pytest

from tests.journeys.test_kontanthjaelp import Journey
from tests.journeys.test_kontanthjaelp_handovers import (  # noqa: F401 - journey is a fixture
    CONTEXT_KEYS,
    assert_credited,
    journey,
    to_sof_and_placement,
    walk_to_job,
)

RATE = 12_000  # what Journey.grant decides; Ydelsesservice's alone


@pytest.fixture
def walked(journey, live):  # noqa: F811
    j: Journey = journey
    sof_case = to_sof_and_placement(j)
    return j, sof_case


def test_sof_gets_the_referral_as_context_with_the_jobcenters_labels(api, walked):
    j, sof_case = walked
    r = api("sofie").get(f"/tasks/{j.task('socialfaglig_vurdering', sof_case).id}")
    assert r.status_code == 200, r.text
    context = r.json()["context"]
    assert context and all(set(item) == CONTEXT_KEYS for item in context)
    problems = next(i for i in context if i["label"] == "Problemer ud over ledighed (misbrug, psykisk, bolig, familie …)")
    assert (problems["value"], problems["from_unit"], problems["element_id"]) == ("bolig, misbrug", "jobcenter",
                                                                                  "visitation")
    assert datetime.fromisoformat(problems["at"]).utcoffset() is not None  # ISO 8601 with offset
    assert "Sats" not in r.text and str(RATE) not in r.text


def test_virksomhedsservice_reads_the_rate_through_no_door_of_the_api(api, walked, session):
    j, _sof_case = walked
    vs = api("vs")
    match = vs.get(f"/tasks/{j.task('match').id}")
    assert match.status_code == 200, match.text
    assert {item["from_unit"] for item in match.json()["context"]} == {"jobcenter"}
    assert "Plan (Min Plan)" in {item["label"] for item in match.json()["context"]}
    assert str(RATE) in api("auditor").get(f"/cases/{j.case_id}/audit").text  # the trail holds it ...
    doors = [match, vs.get(f"/cases/{j.case_id}"), vs.get(f"/cases/{j.case_id}/audit"),
             vs.get(f"/tasks?case_id={j.case_id}"), vs.get("/tasks"), vs.get("/cases?process_key=kontanthjaelp")]
    for r in doors:  # ... and none of what Virksomhedsservice may read shows it
        assert r.status_code == 200, (r.request.url, r.text)
        assert str(RATE) not in r.text and '"sats"' not in r.text, r.request.url
    ydelse = next(e for e in j.events("task_completed") if e.element_id == "ydelsesafgoerelse")
    assert vs.get(f"/tasks/{ydelse.task_id}").status_code == 403  # Ydelsesservice's own task


def test_the_audit_trail_of_a_walk_to_a_job_credits_every_event_over_the_api(api, journey, live):  # noqa: F811
    j: Journey = journey
    sof_case = walk_to_job(j)
    auditor = api("auditor")
    trails = {}
    for case_id in (j.case_id, sof_case):
        r = auditor.get(f"/cases/{case_id}/audit")
        assert r.status_code == 200, r.text
        trails[case_id] = r.json()["events"]
    seen = assert_credited(j.session, (j.case_id, sof_case), people={u.username for u in j.users.values()},
                           starter="jc", outside={"system"}, trails=trails)
    assert {("task_created", "system:timer"), ("gateway_taken", "system:engine"), ("task_completed", "person"),
            ("message_received", "person"), ("message_received", "system:engine")} <= seen, seen
