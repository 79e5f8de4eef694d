"""Tasks over HTTP: the inbox, one task with its form, claim, release, assign, complete; units and roles."""
from __future__ import annotations

import pytest

from .helpers import (
    AFGOERELSE,
    FORM_FIELD_FIELDS,
    REGISTRERING,
    VISITATION,
    assert_case_shape,
    assert_error,
    assert_task_shape,
    audit_types,
    complete,
    get_case,
    start,
    task_id,
    to_message_wait,
)

UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"


def inbox(client, **params):
    r = client.get("/tasks", params=params)
    assert r.status_code == 200, r.text
    for task in r.json():
        assert_task_shape(task)
    return r.json()


def ids(tasks):
    return [t["id"] for t in tasks]


@pytest.fixture
def two_parallel(api, users):
    """Two parallel cases, each with task_a (jobcenter) and task_b (ydelsesservice)."""
    jc = api("jc")
    cases = [start(jc, "parallel")["id"] for _ in range(2)]
    return {cid: {t["element_id"]: t["id"] for t in get_case(jc, cid)["open_tasks"]} for cid in cases}


def test_a_caseworker_sees_the_tasks_of_their_own_units_only(api, two_parallel):
    (c1, t1), (c2, t2) = two_parallel.items()
    jc_tasks, ys_tasks = inbox(api("jc")), inbox(api("ys"))
    assert ids(jc_tasks) == [t1["task_a"], t2["task_a"]]  # no due dates: oldest first
    assert {t["unit"] for t in jc_tasks} == {"jobcenter"}
    assert ids(ys_tasks) == [t1["task_b"], t2["task_b"]]
    assert {t["unit"] for t in ys_tasks} == {"ydelsesservice"}
    assert ids(inbox(api("jclead"))) == ids(jc_tasks)
    # readers see every unit
    for username in ("auditor", "admin"):
        everything = inbox(api(username))
        assert sorted(ids(everything)) == sorted(ids(jc_tasks) + ids(ys_tasks))
    # one task, and the form it expects, for those who may see it
    for username, tid in (("jc", t1["task_a"]), ("ys", t1["task_b"]), ("auditor", t1["task_b"])):
        assert api(username).get(f"/tasks/{tid}").status_code == 200
    for username, tid in (("jc", t1["task_b"]), ("jclead", t1["task_b"]), ("ys", t1["task_a"])):
        assert isinstance(assert_error(api(username).get(f"/tasks/{tid}"), 403), str)
    # no inbox for roles that have no unit
    for username in ("owner", "system"):
        assert_error(api(username).get("/tasks"), 403)


def test_inbox_filters(api, two_parallel):
    (c1, t1), (c2, t2) = two_parallel.items()
    jc, auditor = api("jc"), api("auditor")
    assert jc.post(f"/tasks/{t2['task_a']}/claim").status_code == 200
    assert ids(inbox(jc, assignee="me")) == [t2["task_a"]]
    assert ids(inbox(jc, assignee="jc")) == [t2["task_a"]]
    assert ids(inbox(api("jc2"), assignee="me")) == []
    assert ids(inbox(jc, status="open")) == [t1["task_a"]]
    assert ids(inbox(jc, status="claimed")) == [t2["task_a"]]
    assert ids(inbox(jc, status="completed")) == []
    assert ids(inbox(jc, case_id=c1)) == [t1["task_a"]]
    assert ids(inbox(auditor, case_id=c1)) == [t1["task_a"], t1["task_b"]]
    assert ids(inbox(auditor, unit="ydelsesservice")) == [t1["task_b"], t2["task_b"]]
    assert ids(inbox(jc, unit="jobcenter")) == [t1["task_a"], t2["task_a"]]
    assert ids(inbox(jc, overdue="true")) == []        # no task here has a due date
    assert ids(inbox(jc, overdue="false")) == [t1["task_a"], t2["task_a"]]
    assert ids(inbox(jc, limit=1)) == [t1["task_a"]]
    assert ids(inbox(jc, limit=1, offset=1)) == [t2["task_a"]]
    assert_error(jc.get("/tasks", params={"unit": "ydelsesservice"}), 403)
    for params in ({"status": "done"}, {"limit": 501}, {"limit": 0}, {"offset": -1}, {"overdue": "maybe"}):
        assert_error(jc.get("/tasks", params=params), 422)
    complete(jc, t1["task_a"], {"note": "ok"})
    assert ids(inbox(jc, status="completed")) == [t1["task_a"]]
    assert ids(inbox(jc)) == [t1["task_a"], t2["task_a"]]  # the inbox keeps its order across statuses


def test_inbox_is_ordered_by_due_at_with_nulls_last(api, two_parallel):
    tasks = inbox(api("auditor"), limit=500)
    keys = [(t["due_at"] is None, t["due_at"] or "") for t in tasks]
    assert keys == sorted(keys)


def test_one_task_with_its_form(api, users):
    jc = api("jc")
    case = start(jc)
    tid = task_id(jc, case["id"], "registrering")
    r = jc.get(f"/tasks/{tid}")
    assert r.status_code == 200
    task = r.json()
    assert_task_shape(task)
    assert {k: task[k] for k in ("id", "case_id", "process_key", "element_id", "name", "unit", "assignee",
                                 "status", "due_at", "completed_at", "form_key")} == {
        "id": tid, "case_id": case["id"], "process_key": "intake", "element_id": "registrering",
        "name": "Registrering som arbejdssøgende", "unit": "jobcenter", "assignee": None, "status": "open",
        "due_at": None, "completed_at": None, "form_key": "t_registrering"}
    form = task["form"]
    assert form["key"] == "t_registrering"
    assert [{k: fld[k] for k in FORM_FIELD_FIELDS} for fld in form["fields"]] == [
        {"name": "forsikret", "label": "Forsikret i en a-kasse", "type": "boolean", "required": True,
         "choices": None},
        {"name": "henvendelsesdato", "label": "Dato for første henvendelse", "type": "date", "required": True,
         "choices": None},
        {"name": "bemaerkning", "label": "Bemærkning", "type": "textarea", "required": False, "choices": None},
    ]
    complete(jc, tid, REGISTRERING)
    visitation = jc.get(f"/tasks/{task_id(jc, case['id'], 'visitation')}").json()
    kategori = next(fld for fld in visitation["form"]["fields"] if fld["name"] == "kategori")
    assert (kategori["type"], kategori["required"]) == ("choice", True)
    assert kategori["choices"] == [{"value": "jobparat", "label": "Jobparat"},
                                   {"value": "aktivitetsparat", "label": "Aktivitetsparat"}]


@pytest.mark.parametrize("path", [f"/tasks/{UNKNOWN_ID}", "/tasks/nope", "/tasks/" + "x" * 80])
def test_unknown_task_is_404(api, users, path):
    assert isinstance(assert_error(api("jc").get(path), 404), str)


@pytest.mark.parametrize("action,body", [("claim", None), ("release", None), ("assign", {"username": "jc"}),
                                         ("complete", {"data": {}})])
def test_writing_an_unknown_task_is_404(api, users, action, body):
    assert_error(api("jclead").post(f"/tasks/{UNKNOWN_ID}/{action}", json=body), 404)


def test_claim_and_release(api, users):
    jc, jc2 = api("jc"), api("jc2")
    case = start(jc)
    tid = task_id(jc, case["id"], "registrering")
    r = jc.post(f"/tasks/{tid}/claim")
    assert r.status_code == 200, r.text
    claimed = r.json()
    assert_task_shape(claimed)
    assert (claimed["id"], claimed["status"], claimed["assignee"]) == (tid, "claimed", "jc")
    assert jc.post(f"/tasks/{tid}/claim").json()["status"] == "claimed"  # claiming one's own task again is fine
    # someone else's claim: 409 for claim and for complete; the task stays as it was
    assert isinstance(assert_error(jc2.post(f"/tasks/{tid}/claim"), 409), str)
    assert_error(jc2.post(f"/tasks/{tid}/complete", json={"data": REGISTRERING}), 409)
    assert_error(jc2.post(f"/tasks/{tid}/release"), 403)
    assert (jc.get(f"/tasks/{tid}").json()["assignee"], jc.get(f"/tasks/{tid}").json()["status"]) == (
        "jc", "claimed")
    r = jc.post(f"/tasks/{tid}/release")
    assert r.status_code == 200, r.text
    released = r.json()
    assert_task_shape(released)
    assert (released["status"], released["assignee"]) == ("open", None)
    assert_error(jc.post(f"/tasks/{tid}/release"), 409)  # not claimed
    assert jc2.post(f"/tasks/{tid}/claim").json()["assignee"] == "jc2"
    assert api("jclead").post(f"/tasks/{tid}/release").json()["status"] == "open"  # a team lead may


def test_claim_outside_ones_units_is_403(api, users):
    jc = api("jc")
    case = start(jc, "parallel")
    task_b = task_id(api("ys"), case["id"], "task_b")
    for username in ("jc", "jclead"):
        assert_error(api(username).post(f"/tasks/{task_b}/claim"), 403)
        assert_error(api(username).post(f"/tasks/{task_b}/complete", json={"data": {}}), 403)
    assert api("ys").get(f"/tasks/{task_b}").json()["status"] == "open"


def test_complete_returns_the_task_and_the_case(api, users):
    jc = api("jc")
    case = start(jc)
    tid = task_id(jc, case["id"], "registrering")
    r = jc.post(f"/tasks/{tid}/complete", json={"data": REGISTRERING})  # open, by a unit member, no claim
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"task", "case"}
    assert_task_shape(body["task"])
    assert_case_shape(body["case"])
    assert (body["task"]["id"], body["task"]["status"], body["task"]["assignee"]) == (tid, "completed", "jc")
    assert body["task"]["completed_at"] is not None
    assert body["case"]["id"] == case["id"] and body["case"]["status"] == "running"
    assert body["case"]["data"] == REGISTRERING
    assert [t["element_id"] for t in body["case"]["open_tasks"]] == ["visitation"]
    assert jc.get(f"/tasks/{tid}").json()["status"] == "completed"


def test_completing_twice_is_409(api, users):
    jc = api("jc")
    case = start(jc)
    tid = task_id(jc, case["id"], "registrering")
    complete(jc, tid, REGISTRERING)
    before = audit_types(jc, case["id"])
    assert isinstance(assert_error(jc.post(f"/tasks/{tid}/complete", json={"data": REGISTRERING}), 409), str)
    assert_error(jc.post(f"/tasks/{tid}/claim"), 409)
    assert_error(api("jclead").post(f"/tasks/{tid}/assign", json={"username": "jc2"}), 409)
    assert audit_types(jc, case["id"]) == before


def test_the_last_task_completes_the_case(api, users):
    jc, ys = api("jc"), api("ys")
    case = start(jc)
    to_message_wait(jc, case["id"])
    assert api("system").post("/messages", json={"name": "ansoegning_modtaget", "correlation_key": case["id"],
                                                  "data": {}}).status_code == 200
    body = complete(ys, task_id(ys, case["id"], "afgoerelse"), AFGOERELSE)
    assert body["case"]["status"] == "completed"
    assert body["case"]["completed_at"] is not None
    assert body["case"]["open_tasks"] == [] and body["case"]["waiting"] == []
    assert body["case"]["data"]["afgoerelse"] == "bevilget"


@pytest.mark.parametrize("data,fields", [
    ({}, {"forsikret", "henvendelsesdato"}),
    ({"forsikret": "ja", "henvendelsesdato": "2026-11-23"}, {"forsikret"}),
    ({"forsikret": False, "henvendelsesdato": "23-11-2026"}, {"henvendelsesdato"}),
    ({"forsikret": False, "henvendelsesdato": "2026-02-30"}, {"henvendelsesdato"}),
    ({**REGISTRERING, "ukendt_felt": 1}, {"ukendt_felt"}),
    ({**REGISTRERING, "bemaerkning": "x" * 2001}, {"bemaerkning"}),
    ({"forsikret": None, "henvendelsesdato": "", "bemaerkning": 7}, {"forsikret", "henvendelsesdato", "bemaerkning"}),
])
def test_data_the_form_rejects_is_422_per_field_and_the_task_is_unchanged(api, users, data, fields):
    jc = api("jc")
    case = start(jc)
    tid = task_id(jc, case["id"], "registrering")
    assert jc.post(f"/tasks/{tid}/claim").status_code == 200
    before_task, before_case = jc.get(f"/tasks/{tid}").json(), get_case(jc, case["id"])
    before_audit = audit_types(jc, case["id"])
    detail = assert_error(jc.post(f"/tasks/{tid}/complete", json={"data": data}), 422)
    assert isinstance(detail, list)
    assert {d["field"] for d in detail} == fields
    assert all(isinstance(d["message"], str) and d["message"] for d in detail)
    assert jc.get(f"/tasks/{tid}").json() == before_task
    assert get_case(jc, case["id"]) == before_case
    assert audit_types(jc, case["id"]) == before_audit
    complete(jc, tid, REGISTRERING)  # and it can still be completed properly


def test_choice_and_number_checks(api, users):
    jc, ys = api("jc"), api("ys")
    case = start(jc)
    to_message_wait(jc, case["id"])
    api("system").post("/messages", json={"name": "ansoegning_modtaget", "correlation_key": case["id"]})
    tid = task_id(ys, case["id"], "afgoerelse")
    detail = assert_error(ys.post(f"/tasks/{tid}/complete", json={"data": {
        "afgoerelse": "maaske", "sats": -1, "begrundelse": "x"}}), 422)
    assert {d["field"] for d in detail} == {"afgoerelse", "sats"}
    detail = assert_error(ys.post(f"/tasks/{tid}/complete", json={"data": {
        "afgoerelse": "afslag", "sats": "12000", "begrundelse": "x"}}), 422)
    assert {d["field"] for d in detail} == {"sats"}
    assert_error(ys.post(f"/tasks/{tid}/complete", json={"data": {
        "afgoerelse": "afslag", "sats": True, "begrundelse": "x"}}), 422)
    assert complete(ys, tid, {"afgoerelse": "afslag", "sats": 0, "begrundelse": "x"})["case"]["status"] == "completed"


def test_assign_by_a_team_lead(api, users):
    jc, lead = api("jc"), api("jclead")
    case = start(jc)
    tid = task_id(jc, case["id"], "registrering")
    r = lead.post(f"/tasks/{tid}/assign", json={"username": "jc2"})
    assert r.status_code == 200, r.text
    assigned = r.json()
    assert_task_shape(assigned)
    assert (assigned["id"], assigned["status"], assigned["assignee"]) == (tid, "claimed", "jc2")
    assert [t["id"] for t in inbox(api("jc2"), assignee="me")] == [tid]
    # reassigning a claimed task, and to the lead themself
    assert lead.post(f"/tasks/{tid}/assign", json={"username": "jc"}).json()["assignee"] == "jc"
    assert lead.post(f"/tasks/{tid}/assign", json={"username": "jclead"}).json()["assignee"] == "jclead"


@pytest.mark.parametrize("username", ["ys", "owner", "auditor", "system", "admin", "ghost"])
def test_assign_to_someone_outside_the_unit_is_422(api, users, username):
    jc, lead = api("jc"), api("jclead")
    case = start(jc)
    tid = task_id(jc, case["id"], "registrering")
    assert_error(lead.post(f"/tasks/{tid}/assign", json={"username": username}), 422)
    task = jc.get(f"/tasks/{tid}").json()
    assert (task["status"], task["assignee"]) == ("open", None)


def test_a_caseworker_assigns_only_themself(api, users):
    jc = api("jc")
    case = start(jc)
    tid = task_id(jc, case["id"], "registrering")
    assert isinstance(assert_error(jc.post(f"/tasks/{tid}/assign", json={"username": "jc2"}), 403), str)
    assert jc.get(f"/tasks/{tid}").json()["assignee"] is None
    r = jc.post(f"/tasks/{tid}/assign", json={"username": "jc"})
    assert r.status_code == 200 and (r.json()["status"], r.json()["assignee"]) == ("claimed", "jc")


def test_assign_needs_a_username(api, users):
    jc, lead = api("jc"), api("jclead")
    tid = task_id(jc, start(jc)["id"], "registrering")
    for body in ({}, {"username": ""}, {"username": None}, {"username": 5}, {"username": "jc2", "x": 1}):
        assert_error(lead.post(f"/tasks/{tid}/assign", json=body), 422)


def test_every_write_by_an_auditor_is_403(api, users):
    jc, auditor = api("jc"), api("auditor")
    case = start(jc)
    cid = case["id"]
    tid = task_id(jc, cid, "registrering")
    # reads: everything
    assert auditor.get(f"/cases/{cid}").status_code == 200
    assert auditor.get(f"/cases/{cid}/audit").status_code == 200
    assert auditor.get("/cases").status_code == 200
    assert auditor.post("/cases/search", json={"process_key": "intake"}).status_code == 200
    assert auditor.get("/tasks").status_code == 200
    assert auditor.get(f"/tasks/{tid}").status_code == 200
    assert auditor.get("/process-definitions").status_code == 200
    before = audit_types(auditor, cid)
    writes = [
        ("POST", "/cases", {"process_key": "intake", "cpr": "010190-1234"}),
        ("POST", f"/cases/{cid}/cancel", {"reason": "Nej"}),
        ("POST", f"/tasks/{tid}/claim", None),
        ("POST", f"/tasks/{tid}/release", None),
        ("POST", f"/tasks/{tid}/assign", {"username": "jc"}),
        ("POST", f"/tasks/{tid}/assign", {"username": "auditor"}),
        ("POST", f"/tasks/{tid}/complete", {"data": REGISTRERING}),
        ("POST", "/messages", {"name": "ansoegning_modtaget", "correlation_key": cid}),
        ("POST", "/messages", {"name": "ukendt", "correlation_key": "ukendt"}),
    ]
    for method, path, body in writes:
        assert_error(auditor.request(method, path, json=body), 403)
    r = auditor.post("/process-definitions", files=[("files", ("x.bpmn", b"<x/>", "application/xml"))])
    assert_error(r, 403)
    assert audit_types(auditor, cid) == before
    assert len(auditor.get("/cases").json()) == 1
    assert auditor.get(f"/tasks/{tid}").json()["status"] == "open"


def test_visitation_completion_needs_the_visitation_form(api, users):
    jc = api("jc")
    case = start(jc)
    complete(jc, task_id(jc, case["id"], "registrering"), REGISTRERING)
    tid = task_id(jc, case["id"], "visitation")
    detail = assert_error(jc.post(f"/tasks/{tid}/complete", json={"data": REGISTRERING}), 422)
    assert {d["field"] for d in detail} >= {"forsikret", "henvendelsesdato", "til_raadighed", "kategori"}
    assert complete(jc, tid, VISITATION)["case"]["waiting"][0]["kind"] == "message"
