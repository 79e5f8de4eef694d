"""POST /api/migrations over real HTTP: who may, the dry run, the migration, bad plans.

Version 2 of the intake test process (tests/data/intake.bpmn) is deployed over HTTP by the
process owner; it calls the visitation step `visitering`, so the cases standing there need a mapping.
"""
from __future__ import annotations

import pytest

from tests import factories as f

from .helpers import REGISTRERING, assert_error, start

INTAKE = (f.DATA / "intake.bpmn").read_text(encoding="utf-8")
RENAMED = INTAKE.replace('"visitation"', '"visitering"').replace(">visitation<", ">visitering<")
MAPPING = {"visitation": "visitering"}


def plan(**changes) -> dict:
    return {"process_key": "intake", "from_version": 1, "to_version": 2, "mapping": MAPPING,
            "case_ids": None, "dry_run": False} | changes


@pytest.fixture
def cases(api, users):
    """Two intake cases of version 1 at the visitation (one claimed by jc), one at the registration; then v2."""
    jc = api("jc")
    at_visitation = []
    for _ in range(2):
        case = start(jc)
        [task] = case["open_tasks"]
        done = jc.post(f"/tasks/{task['id']}/complete", json={"data": REGISTRERING})
        assert done.status_code == 200, done.text
        at_visitation.append(done.json()["case"])
    claimed = at_visitation[0]["open_tasks"][0]
    assert jc.post(f"/tasks/{claimed['id']}/claim").status_code == 200
    registering = start(jc)
    r = api("owner").post("/process-definitions", files=[("files", ("intake.bpmn", RENAMED.encode(), "text/xml"))])
    assert r.status_code == 201 and r.json()["deployed"][0]["version"] == 2, r.text
    return {"visitation": [c["id"] for c in at_visitation], "registering": registering["id"],
            "claimed_task": claimed}


@pytest.mark.parametrize("role_user", ["jc", "jclead", "auditor", "system"])
def test_only_process_owners_and_admins_migrate(api, cases, role_user):
    assert_error(api(role_user).post("/migrations", json=plan(dry_run=True)), 403)
    assert_error(api().post("/migrations", json=plan(dry_run=True)), 401)


def test_a_dry_run_answers_what_the_migration_then_does(api, cases):
    owner, jc = api("owner"), api("jc")
    audit_before = {i: jc.get(f"/cases/{i}/audit").json() for i in cases["visitation"]}
    without = owner.post("/migrations", json=plan(mapping={}, dry_run=True))
    assert without.status_code == 200, without.text
    body = without.json()
    assert set(body) == {"migrated", "refused", "dry_run"} and body["dry_run"] is True
    assert body["migrated"] == [cases["registering"]]
    assert sorted(r["case_id"] for r in body["refused"]) == sorted(cases["visitation"])
    assert all("'visitation'" in r["reason"] and "map it" in r["reason"] for r in body["refused"])

    dry = owner.post("/migrations", json=plan(dry_run=True)).json()
    assert sorted(dry["migrated"]) == sorted(cases["visitation"] + [cases["registering"]]) and dry["refused"] == []
    for case_id in cases["visitation"]:                                # nothing changed
        assert jc.get(f"/cases/{case_id}").json()["version"] == 1
        assert jc.get(f"/cases/{case_id}/audit").json() == audit_before[case_id]

    real = owner.post("/migrations", json=plan()).json()
    assert real == {**dry, "dry_run": False}
    case = jc.get(f"/cases/{cases['visitation'][0]}").json()
    [task] = case["open_tasks"]
    before = cases["claimed_task"]
    assert case["version"] == 2
    assert (task["id"], task["element_id"], task["assignee"], task["status"], task["due_at"], task["created_at"]) == (
        before["id"], "visitering", "jc", "claimed", before["due_at"], before["created_at"])
    [migrated] = [e for e in jc.get(f"/cases/{case['id']}/audit").json()["events"] if e["type"] == "case_migrated"]
    assert migrated["actor"] == "owner"
    assert {k: migrated["details"][k] for k in ("from", "to", "mapping", "by")} == {
        "from": 1, "to": 2, "mapping": MAPPING, "by": "owner"}
    # the moved task is worked on version 2
    done = jc.post(f"/tasks/{task['id']}/complete", json={"data": {
        "til_raadighed": True, "kategori": "jobparat", "problemer_ud_over_ledighed": False, "vurdering": "Klar"}})
    assert done.status_code == 200, done.text
    assert [w["element_id"] for w in done.json()["case"]["waiting"]] == ["ansoegning_modtaget"]

    again = owner.post("/migrations", json=plan(case_ids=[case["id"]])).json()   # already moved: refused
    assert again["migrated"] == [] and again["refused"][0]["reason"] == "the case is on version 2, not 1"


def test_an_admin_migrates_a_list_of_cases_and_a_refused_one_is_answered_with_its_reason(api, cases):
    listed = cases["visitation"][:1] + [cases["registering"]]
    body = api("admin").post("/migrations", json=plan(mapping={}, case_ids=listed)).json()
    assert body["migrated"] == [cases["registering"]] and body["dry_run"] is False
    [refusal] = body["refused"]
    assert refusal["case_id"] == cases["visitation"][0] and "stands on 'visitation'" in refusal["reason"]
    assert api("jc").get(f"/cases/{cases['visitation'][1]}").json()["version"] == 1   # not in the list


@pytest.mark.parametrize("changes, status, field", [
    ({"from_version": "1"}, 422, None),                      # JSON types as sent
    ({"mapping": {"visitation": 7}}, 422, None),
    ({"case_ids": "all"}, 422, None),
    ({"surprise": True}, 422, None),
    ({"to_version": 1}, 422, "to_version"),
    ({"mapping": {"visitation": "nowhere"}}, 422, "mapping.visitation"),
    ({"mapping": {"nothing": "visitering"}}, 422, "mapping.nothing"),
    ({"to_version": 3}, 404, None),
    ({"process_key": "unknown"}, 404, None),
])
def test_a_bad_plan_is_refused_whole(api, cases, changes, status, field):
    detail = assert_error(api("owner").post("/migrations", json=plan(**changes)), status)
    if field:
        assert [p["field"] for p in detail] == [field], detail
    assert api("jc").get(f"/cases/{cases['registering']}").json()["version"] == 1
