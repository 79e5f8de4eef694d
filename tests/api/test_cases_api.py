"""Cases over HTTP: start, show, list and search with filters, cancel, audit trail."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests import factories as f

from .helpers import (
    AFGOERELSE,
    CPR_A,
    CPR_B,
    CPR_LEAP,
    EVENT_FIELDS,
    INVALID_CPRS,
    REGISTRERING,
    VISITATION,
    assert_case_shape,
    assert_error,
    audit_types,
    complete,
    get_case,
    iso_with_offset,
    start,
    task_id,
    to_message_wait,
    tomorrow_at,
)

UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"


def test_start_case_returns_201_and_the_case(api, users):
    r = api("jc").post("/cases", json={"process_key": "intake", "version": None, "cpr": CPR_A,
                                       "data": {"kanal": "personligt fremmøde"}})
    assert r.status_code == 201, r.text
    case = r.json()
    assert_case_shape(case)
    assert (case["process_key"], case["version"], case["status"], case["cpr_masked"]) == (
        "intake", 1, "running", "010190-****")
    assert case["completed_at"] is None
    assert case["data"] == {"kanal": "personligt fremmøde"}
    assert case["waiting"] == []
    [task] = case["open_tasks"]
    assert {k: task[k] for k in ("case_id", "process_key", "element_id", "name", "unit", "assignee", "status",
                                 "due_at", "completed_at", "form_key")} == {
        "case_id": case["id"], "process_key": "intake", "element_id": "registrering",
        "name": "Registrering som arbejdssøgende", "unit": "jobcenter", "assignee": None, "status": "open",
        "due_at": None, "completed_at": None, "form_key": "t_registrering"}
    assert get_case(api("jc"), case["id"]) == case


@pytest.mark.parametrize("cpr,masked", [(CPR_A, "010190-****"), ("0101901234", "010190-****"),
                                        (CPR_LEAP, "290200-****"), (f" {CPR_B} ", "241182-****")])
def test_cpr_forms_are_accepted_and_only_masked_back(api, users, cpr, masked):
    case = start(api("jc"), cpr=cpr)
    assert case["cpr_masked"] == masked
    assert "cpr" not in case


@pytest.mark.parametrize("cpr", INVALID_CPRS)
def test_invalid_cpr_is_422_and_no_case(api, users, cpr):
    jc = api("jc")
    detail = assert_error(jc.post("/cases", json={"process_key": "intake", "cpr": cpr, "data": {}}), 422)
    assert detail
    assert api("auditor").get("/cases").json() == []


@pytest.mark.parametrize("cpr", [101901234, None, ["010190-1234"], {"cpr": "010190-1234"}, "0" * 21])
def test_cpr_of_the_wrong_type_or_size_is_422(api, users, cpr):
    assert_error(api("jc").post("/cases", json={"process_key": "intake", "cpr": cpr}), 422)


def test_start_needs_a_cpr_and_a_known_process(api, users):
    jc = api("jc")
    assert_error(jc.post("/cases", json={"process_key": "intake"}), 422)
    assert_error(jc.post("/cases", json={"cpr": CPR_A}), 422)
    assert isinstance(assert_error(jc.post("/cases", json={"process_key": "ukendt", "cpr": CPR_A}), 404), str)
    assert_error(jc.post("/cases", json={"process_key": "intake", "version": 2, "cpr": CPR_A}), 404)
    assert_error(jc.post("/cases", json={"process_key": "intake", "version": 0, "cpr": CPR_A}), 422)
    assert_error(jc.post("/cases", json={"process_key": "intake", "cpr": CPR_A, "extra": 1}), 422)
    assert api("auditor").get("/cases").json() == []


def test_who_may_start_a_case(api, users):
    for username in ("jc", "jclead", "admin", "system"):
        start(api(username))
    for username in ("auditor", "owner"):
        assert_error(api(username).post("/cases", json={"process_key": "intake", "cpr": CPR_A}), 403)
    assert len(api("auditor").get("/cases").json()) == 4


def test_unknown_case_is_404(api, users):
    jc = api("jc")
    for path in (f"/cases/{UNKNOWN_ID}", "/cases/nope", f"/cases/{UNKNOWN_ID}/audit"):
        assert isinstance(assert_error(jc.get(path), 404), str)
    assert_error(api("jclead").post(f"/cases/{UNKNOWN_ID}/cancel", json={"reason": "x"}), 404)


def test_a_case_is_visible_to_its_units_and_readers_only(api, users):
    case = start(api("jc"))
    for username in ("jc", "jc2", "jclead", "auditor", "admin"):
        assert api(username).get(f"/cases/{case['id']}").status_code == 200, username
    for username in ("ys", "owner", "system"):
        assert_error(api(username).get(f"/cases/{case['id']}"), 403)
        assert_error(api(username).get(f"/cases/{case['id']}/audit"), 403)
    # once the case reaches Ydelsesservice's lane, its caseworkers see it too
    to_message_wait(api("jc"), case["id"])
    assert api("ys").get(f"/cases/{case['id']}").status_code == 200


def test_waiting_shows_the_timer_and_then_the_message(api, users):
    t0 = tomorrow_at(9)
    with time_machine.travel(t0, tick=False):
        jc = api("jc")
        case = start(jc)
        after = complete(jc, task_id(jc, case["id"], "registrering"), REGISTRERING)["case"]
    assert [t["element_id"] for t in after["open_tasks"]] == ["visitation"]
    [timer] = after["waiting"]
    assert {k: timer[k] for k in ("element_id", "name", "kind", "message")} == {
        "element_id": "visitation_forfalden", "name": "1 uge", "kind": "timer", "message": None}
    assert iso_with_offset(timer["due_at"]) == t0 + timedelta(days=7)

    jc = api("jc")  # back in the present: a token issued "tomorrow" is not valid yet
    waiting = complete(jc, task_id(jc, case["id"], "visitation"), VISITATION)["case"]
    assert waiting["open_tasks"] == []
    [message] = waiting["waiting"]
    assert {k: message[k] for k in ("element_id", "name", "kind", "message", "due_at")} == {
        "element_id": "ansoegning_modtaget", "name": "Ansøgning modtaget", "kind": "message",
        "message": "ansoegning_modtaget", "due_at": None}


@pytest.fixture
def four_cases(api, users):
    """Cases a minute apart: intake/A running, parallel/B running, intake/B cancelled, intake/A completed."""
    made = []
    with time_machine.travel(tomorrow_at(8), tick=False) as traveller:
        jc, lead = api("jc"), api("jclead")
        for process_key, cpr in (("intake", CPR_A), ("parallel", CPR_B), ("intake", CPR_B), ("intake", CPR_A)):
            made.append(start(jc, process_key, cpr=cpr)["id"])
            traveller.shift(timedelta(minutes=1))
        assert lead.post(f"/cases/{made[2]}/cancel", json={"reason": "Flyttet"}).status_code == 200
        complete(jc, task_id(jc, made[3], "registrering"), {**REGISTRERING, "forsikret": True})
    return made


def ids(response):
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()]


def test_case_list_is_newest_first_and_filters_keep_that_order(api, four_cases):
    c1, c2, c3, c4 = four_cases
    auditor = api("auditor")
    listed = auditor.get("/cases")
    assert ids(listed) == [c4, c3, c2, c1]
    for case in listed.json():
        assert_case_shape(case)
    assert [c["status"] for c in listed.json()] == ["completed", "cancelled", "running", "running"]
    expectations = [
        ({"cpr": CPR_A}, [c4, c1]), ({"cpr": CPR_A.replace("-", "")}, [c4, c1]), ({"cpr": CPR_B}, [c3, c2]),
        ({"cpr": CPR_LEAP}, []),
        ({"status": "running"}, [c2, c1]), ({"status": "cancelled"}, [c3]), ({"status": "completed"}, [c4]),
        ({"process_key": "intake"}, [c4, c3, c1]), ({"process_key": "parallel"}, [c2]),
        ({"process_key": "ukendt"}, []),
        ({"cpr": CPR_B, "process_key": "intake"}, [c3]), ({"cpr": CPR_A, "status": "running"}, [c1]),
        ({"status": "running", "process_key": "intake"}, [c1]),
        ({"limit": 2}, [c4, c3]), ({"limit": 2, "offset": 1}, [c3, c2]), ({"offset": 3}, [c1]),
        ({"offset": 4}, []), ({"process_key": "intake", "limit": 1, "offset": 1}, [c3]),
    ]
    for params, expected in expectations:
        assert ids(auditor.get("/cases", params=params)) == expected, params
        assert ids(auditor.post("/cases/search", json=params)) == expected, params
    completed = auditor.get("/cases", params={"status": "completed"}).json()[0]
    iso_with_offset(completed["completed_at"])
    cancelled = auditor.get(f"/cases/{c3}").json()
    assert cancelled["status"] == "cancelled" and cancelled["open_tasks"] == [] and cancelled["waiting"] == []


def test_case_list_refuses_bad_filters(api, four_cases):
    auditor = api("auditor")
    for params in ({"cpr": "310290-1234"}, {"cpr": "12"}, {"status": "open"}, {"limit": 501}, {"limit": 0},
                   {"offset": -1}, {"limit": "x"}, {"offset": 10**30}):
        assert_error(auditor.get("/cases", params=params), 422)
        assert_error(auditor.post("/cases/search", json=params), 422)
    assert_error(auditor.post("/cases/search", json={"unknown": 1}), 422)
    assert_error(auditor.post("/cases/search", json=[]), 422)
    assert auditor.get("/cases", params={"limit": 500}).status_code == 200
    assert ids(auditor.post("/cases/search", json={})) == four_cases[::-1]


def test_case_list_shows_each_user_their_own(api, four_cases):
    c1, c2, c3, c4 = four_cases
    assert ids(api("jc2").get("/cases")) == [c4, c3, c2, c1]  # every case has a jobcenter task
    assert ids(api("admin").get("/cases")) == [c4, c3, c2, c1]
    assert ids(api("ys").get("/cases")) == [c2]               # parallel has a task in ydelsesservice
    assert ids(api("ys").post("/cases/search", json={"cpr": CPR_A})) == []
    assert ids(api("system").get("/cases")) == []             # integration: only what it started
    assert_error(api("owner").get("/cases"), 403)


def test_cancel_by_team_lead(api, users):
    jc, lead = api("jc"), api("jclead")
    case = start(jc)
    complete(jc, task_id(jc, case["id"], "registrering"), REGISTRERING)
    r = lead.post(f"/cases/{case['id']}/cancel", json={"reason": "Flyttet til anden kommune"})
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert_case_shape(cancelled)
    assert (cancelled["id"], cancelled["status"], cancelled["open_tasks"], cancelled["waiting"]) == (
        case["id"], "cancelled", [], [])
    iso_with_offset(cancelled["completed_at"])
    assert get_case(jc, case["id"]) == cancelled
    visitation = jc.get("/tasks", params={"case_id": case["id"], "status": "cancelled"}).json()
    assert [t["element_id"] for t in visitation] == ["visitation"]
    assert audit_types(lead, case["id"])[-2:] == ["case_cancelled", "task_cancelled"]


def test_cancel_a_cancelled_or_completed_case_is_409(api, users):
    jc, lead = api("jc"), api("jclead")
    case = start(jc)
    assert lead.post(f"/cases/{case['id']}/cancel", json={"reason": "Fejl"}).status_code == 200
    before = audit_types(lead, case["id"])
    assert isinstance(assert_error(lead.post(f"/cases/{case['id']}/cancel", json={"reason": "Igen"}), 409), str)
    assert audit_types(lead, case["id"]) == before
    done = start(jc)
    complete(jc, task_id(jc, done["id"], "registrering"), {**REGISTRERING, "forsikret": True})
    assert_error(lead.post(f"/cases/{done['id']}/cancel", json={"reason": "For sent"}), 409)


def test_cancel_needs_a_reason_and_the_right_role(api, users):
    case = start(api("jc"))
    lead = api("jclead")
    for body in ({}, {"reason": ""}, {"reason": None}, {"reason": 5}, {"reason": "x", "extra": 1}):
        assert_error(lead.post(f"/cases/{case['id']}/cancel", json=body), 422)
    for username in ("jc", "auditor", "owner", "system"):
        assert_error(api(username).post(f"/cases/{case['id']}/cancel", json={"reason": "Nej"}), 403)
    assert get_case(lead, case["id"])["status"] == "running"
    assert api("admin").post(f"/cases/{case['id']}/cancel", json={"reason": "Admin"}).status_code == 200


def test_audit_trail_of_a_whole_case(api, users):
    jc, jc2, lead, ys, system = api("jc"), api("jc2"), api("jclead"), api("ys"), api("system")
    case = start(jc, data={"kanal": "telefon"})
    cid = case["id"]
    reg = task_id(jc, cid, "registrering")
    assert jc.post(f"/tasks/{reg}/claim").status_code == 200
    assert jc.post(f"/tasks/{reg}/release").status_code == 200
    assert lead.post(f"/tasks/{reg}/assign", json={"username": "jc2"}).status_code == 200
    complete(jc2, reg, REGISTRERING)
    complete(jc, task_id(jc, cid, "visitation"), VISITATION)
    assert system.post("/messages", json={"name": "ansoegning_modtaget", "correlation_key": cid,
                                          "data": {"ansoegning_id": "A-17"}}).status_code == 200
    afg = task_id(ys, cid, "afgoerelse")
    final = complete(ys, afg, AFGOERELSE)["case"]
    assert final["status"] == "completed"

    r = api("auditor").get(f"/cases/{cid}/audit")
    assert r.status_code == 200
    body = r.json()
    assert body["case_id"] == cid
    events = body["events"]
    for e in events:
        assert EVENT_FIELDS <= e.keys(), e
        iso_with_offset(e["at"])
        assert isinstance(e["details"], dict)
    seqs = [e["seq"] for e in events]
    assert all(isinstance(s, int) for s in seqs)
    assert all(a < b for a, b in zip(seqs, seqs[1:], strict=False)), seqs
    types = [e["type"] for e in events]
    assert types[0] == "case_started" and types[-1] == "case_completed"
    for expected in ("task_created", "task_claimed", "task_released", "task_assigned", "task_completed",
                     "gateway_taken", "message_received"):
        assert expected in types, expected
    started = events[0]
    assert started["actor"] == "jc" and started["details"]["data"] == {"kanal": "telefon"}
    assert [(e["actor"], e["task_id"]) for e in events if e["type"] in ("task_claimed", "task_released")] == [
        ("jc", reg), ("jc", reg)]
    [assigned] = [e for e in events if e["type"] == "task_assigned"]
    assert (assigned["actor"], assigned["task_id"], assigned["details"]["assignee"]) == ("jclead", reg, "jc2")
    done = [e for e in events if e["type"] == "task_completed"]
    assert [(e["actor"], e["element_id"]) for e in done] == [
        ("jc2", "registrering"), ("jc", "visitation"), ("ys", "afgoerelse")]
    assert [e["details"]["data"] for e in done] == [REGISTRERING, VISITATION, AFGOERELSE]
    assert done[0]["task_id"] == reg and done[2]["task_id"] == afg
    created = [e["element_id"] for e in events if e["type"] == "task_created"]
    assert created == ["registrering", "visitation", "afgoerelse"]
    [gateway] = [e for e in events if e["type"] == "gateway_taken"]
    assert gateway["element_id"] == "forsikret_gw" and gateway["details"]["taken"] == ["visitation"]
    [message] = [e for e in events if e["type"] == "message_received"]
    assert message["actor"] == "system" and message["details"]["data"] == {"ansoegning_id": "A-17"}
    assert events[-1]["element_id"] == "afgjort"
    # the jobcenter reads the same trail, except what Ydelsesservice's decision recorded for itself
    # (nothing of it crosses to a jobcenter task in this diagram): the values are left out and counted
    theirs = jc.get(f"/cases/{cid}/audit").json()["events"]
    decided = next(i for i, e in enumerate(events) if e["type"] == "task_completed" and e["task_id"] == afg)
    assert theirs[decided]["details"] == {"data": {}, "withheld": len(AFGOERELSE)}
    assert theirs[:decided] + theirs[decided + 1:] == events[:decided] + events[decided + 1:]
    # and the case's data in the API holds the same line: not the decision's values
    assert not set(AFGOERELSE) & set(jc.get(f"/cases/{cid}").json()["data"])
    assert set(AFGOERELSE) <= set(api("auditor").get(f"/cases/{cid}").json()["data"])
    # paging keeps the order
    page = api("auditor").get(f"/cases/{cid}/audit", params={"limit": 3, "offset": 2}).json()["events"]
    assert page == events[2:5]


def test_audit_records_a_timer_that_fired(api, users, db):
    from workers.timers import fire_due_timers
    t0 = tomorrow_at(9)
    with time_machine.travel(t0, tick=False) as traveller:
        jc = api("jc")
        case = start(jc)
        complete(jc, task_id(jc, case["id"], "registrering"), REGISTRERING)
        traveller.shift(timedelta(days=7) - timedelta(seconds=1))
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 0
        traveller.shift(timedelta(seconds=2))
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 1
        jc = api("jc")  # the first token ran out days ago
        after = get_case(jc, case["id"])
        events = jc.get(f"/cases/{case['id']}/audit").json()["events"]
    assert sorted(t["element_id"] for t in after["open_tasks"]) == ["paamindelse", "visitation"]
    [fired] = [e for e in events if e["type"] == "timer_fired"]
    assert fired["element_id"] == "visitation_forfalden"
    assert iso_with_offset(fired["at"]) == t0 + timedelta(days=7, seconds=1)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))


def test_list_endpoints_default_to_50_and_page_with_offset(api, users, session):
    for _ in range(51):
        f.start_case(session, "parallel", actor=users["jc"])  # two tasks each
    auditor = api("auditor")
    everything = ids(auditor.get("/cases", params={"limit": 500}))
    assert len(everything) == 51
    assert ids(auditor.get("/cases")) == everything[:50]
    assert ids(auditor.get("/cases", params={"offset": 50})) == everything[50:]
    assert ids(auditor.post("/cases/search", json={})) == everything[:50]
    tasks = ids(auditor.get("/tasks", params={"limit": 500}))
    assert len(tasks) == 102
    assert ids(auditor.get("/tasks")) == tasks[:50]
    assert ids(auditor.get("/tasks", params={"offset": 100})) == tasks[100:]


def test_a_completion_answers_the_case_data_as_the_units_of_the_user_may_read_it(api, users, session):
    """Members of every unit the case's tasks belong to read all of it; one unit's member not what another
    unit's task recorded for itself (engine.handover: without reading the trail when nothing can be withheld)."""
    f.add_user(session, "jcys", "caseworker", ["jobcenter", "ydelsesservice"])
    jc, ys, both, auditor = api("jc"), api("ys"), api("jcys"), api("auditor")
    cid = start(jc)["id"]
    first = complete(both, task_id(jc, cid, "registrering"), REGISTRERING)["case"]
    assert first["data"] == get_case(auditor, cid)["data"] and REGISTRERING.items() <= first["data"].items()
    complete(jc, task_id(jc, cid, "visitation"), VISITATION)
    assert api("system").post("/messages", json={"name": "ansoegning_modtaget", "correlation_key": cid,
                                                 "data": {"ansoegning_id": "A-17"}}).status_code == 200
    answered = complete(ys, task_id(ys, cid, "afgoerelse"), AFGOERELSE)["case"]
    everything = get_case(auditor, cid)["data"]
    assert AFGOERELSE.items() <= everything.items() and VISITATION.items() <= everything.items()
    assert get_case(both, cid)["data"] == everything
    assert AFGOERELSE.items() <= answered["data"].items() and answered["data"] != everything  # the jobcenter's own
    jobcenter = get_case(jc, cid)["data"]
    assert not set(AFGOERELSE) & set(jobcenter) and VISITATION.items() <= jobcenter.items()
