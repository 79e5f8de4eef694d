"""Data strict JSON cannot hold (lone surrogates, NaN, Infinity) never poisons a case, over real HTTP.

Python's json reads `"\\ud800"` and `NaN` happily; stored, they made every
later answer about the case a 500. Input holding them is refused with 422
naming the field, a script producing them is refused naming the element (and
audited), and a case stored with them before these rules reads back.
"""
from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import text

from tests.browser.conftest import web_client

from .helpers import CPR_A, REGISTRERING, VISITATION, assert_error, complete, get_case, start, task_id

# (raw JSON of `data`, the field the 422 names)
BAD_DATA = [
    ('{"note": "\\ud800"}', "data.note"),
    ('{"note": "før \\udfff efter"}', "data.note"),
    ('{"note": "ok", "liste": [1, {"y": "\\udbff"}]}', "data.liste[1].y"),
    ('{"x\\ud800": 1}', "data.x\\ud800"),  # a lone surrogate in a name, named escaped
    ('{"n": NaN}', "data.n"),
    ('{"n": Infinity}', "data.n"),
    ('{"n": [0, -Infinity]}', "data.n[1]"),
    ('{"n": 1e400}', "data.n"),
]


def post_raw(client: httpx.Client, path: str, body: str) -> httpx.Response:
    return client.post(path, content=body.encode("utf-8"), headers={"content-type": "application/json"})


def assert_names_field(response: httpx.Response, field: str) -> None:
    detail = assert_error(response, 422)
    assert isinstance(detail, list) and detail[0]["field"] == field, detail
    assert "surrogate" in detail[0]["message"] or "finite" in detail[0]["message"]
    response.content.decode("utf-8")  # the answer itself is valid UTF-8


def snapshot(api, case_id: str) -> dict:
    auditor = api("auditor")
    case = get_case(auditor, case_id)
    return {"case": case, "audit": auditor.get(f"/cases/{case_id}/audit").json(),
            "cases": [c["id"] for c in auditor.get("/cases").json()]}


@pytest.fixture
def waiting_case(api, users):
    """An intake case that waits for the message ansoegning_modtaget."""
    jc = api("jc")
    cid = start(jc)["id"]
    complete(jc, task_id(jc, cid, "registrering"), REGISTRERING)
    complete(jc, task_id(jc, cid, "visitation"), VISITATION)
    return cid


@pytest.mark.parametrize("raw, field", BAD_DATA)
def test_task_data_strict_json_cannot_hold_is_422_and_changes_nothing(api, users, raw, field):
    jc = api("jc")
    cid = start(jc, "parallel")["id"]
    tid = task_id(jc, cid, "task_a")
    before = snapshot(api, cid)
    assert_names_field(post_raw(jc, f"/tasks/{tid}/complete", '{"data": %s}' % raw), field)
    assert snapshot(api, cid) == before
    assert complete(jc, tid, {"note": "nu rigtigt"})["case"]["data"]["note"] == "nu rigtigt"


@pytest.mark.parametrize("raw, field", BAD_DATA)
def test_case_data_strict_json_cannot_hold_is_422_and_changes_nothing(api, users, raw, field):
    jc = api("jc")
    cid = start(jc, "parallel")["id"]
    before = snapshot(api, cid)
    body = '{"process_key": "intake", "cpr": "%s", "data": %s}' % (CPR_A, raw)
    assert_names_field(post_raw(jc, "/cases", body), field)
    assert snapshot(api, cid) == before  # no second case either


@pytest.mark.parametrize("raw, field", BAD_DATA)
def test_message_data_strict_json_cannot_hold_is_422_and_changes_nothing(api, waiting_case, raw, field):
    before = snapshot(api, waiting_case)
    for key in (waiting_case, CPR_A):
        body = '{"name": "ansoegning_modtaget", "correlation_key": "%s", "data": %s}' % (key, raw)
        assert_names_field(post_raw(api("system"), "/messages", body), field)
    assert snapshot(api, waiting_case) == before
    assert [w["message"] for w in before["case"]["waiting"]] == ["ansoegning_modtaget"]


def test_text_fields_with_a_lone_surrogate_are_422_naming_the_field(api, users):
    jc, lead, system = api("jc"), api("jclead"), api("system")
    cid = start(jc, "parallel")["id"]
    tid = task_id(jc, cid, "task_a")
    before = snapshot(api, cid)
    attempts = [
        (jc, "/cases", '{"process_key": "intake\\ud800", "cpr": "%s"}' % CPR_A, "process_key"),
        (jc, "/cases", '{"process_key": "intake", "cpr": "010190-123\\ud800"}', "cpr"),
        (jc, "/cases/search", '{"process_key": "\\udc00"}', "process_key"),
        (lead, f"/cases/{cid}/cancel", '{"reason": "fejl \\ud800"}', "reason"),
        (lead, f"/tasks/{tid}/assign", '{"username": "jc\\ud800"}', "username"),
        (system, "/messages", '{"name": "m\\ud800", "correlation_key": "%s"}' % cid, "name"),
        (system, "/messages", '{"name": "m", "correlation_key": "\\ud800"}', "correlation_key"),
    ]
    for client, path, body, field in attempts:
        detail = assert_error(post_raw(client, path, body), 422)
        assert [d["loc"][-1] for d in detail] == [field], (path, detail)
    assert snapshot(api, cid) == before


SCRIPTED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="regner" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="jobcenter"><bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>t</bpmn:flowNodeRef><bpmn:flowNodeRef>beregn</bpmn:flowNodeRef><bpmn:flowNodeRef>t2</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:userTask id="t" name="Opgave" camunda:formKey="t_note"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="beregn"/>
    <bpmn:scriptTask id="beregn" name="Beregn"><bpmn:script>SCRIPT</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="beregn" targetRef="t2"/>
    <bpmn:userTask id="t2" name="Bagefter" camunda:formKey="t_note"/>
    <bpmn:sequenceFlow id="f4" sourceRef="t2" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("script, field", [
    ("x = 1e308 * 10", "data.x"),
    ("x = -1e308 * 10", "data.x"),
    ('x = float("nan")', "data.x"),
    ('resultat = {"satser": [1.5, float("inf")]}', "data.resultat.satser[1]"),
    ('x = "a\\ud800b"', "data.x"),
])
def test_a_script_result_strict_json_cannot_hold_is_422_naming_the_element_and_audited(api, staff, script, field):
    bpmn = SCRIPTED.replace("SCRIPT", script)
    assert api("owner").post("/process-definitions", files=[
        ("files", ("regner.bpmn", bpmn.encode(), "text/xml"))]).status_code == 201
    jc = api("jc")
    case = start(jc, "regner")
    [task] = case["open_tasks"]
    r = jc.post(f"/tasks/{task['id']}/complete", json={"data": {"note": "færdig"}})
    detail = assert_error(r, 422)
    assert detail["element"] == "beregn" and detail["field"] == field, detail
    assert field in detail["message"]
    assert jc.get(f"/tasks/{task['id']}").json()["status"] == "open"  # the case kept its state
    after = get_case(api("auditor"), case["id"])
    assert [t["element_id"] for t in after["open_tasks"]] == ["t"] and after["data"] == case["data"]
    events = api("auditor").get(f"/cases/{case['id']}/audit").json()["events"]
    assert events[-1]["type"] == "process_error" and events[-1]["element_id"] == "beregn"
    assert events[-1]["details"]["field"] == field
    assert "task_completed" not in [e["type"] for e in events]


def test_a_script_result_at_the_start_refuses_the_start(api, staff):
    bpmn = SCRIPTED.replace('targetRef="t"/>', 'targetRef="beregn"/>', 1).replace("SCRIPT", "x = 1e308 * 10")
    bpmn = bpmn.replace('<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="beregn"/>', "")
    bpmn = bpmn.replace('<bpmn:userTask id="t" name="Opgave" camunda:formKey="t_note"/>', "")
    bpmn = bpmn.replace("<bpmn:flowNodeRef>t</bpmn:flowNodeRef>", "")
    assert api("owner").post("/process-definitions", files=[
        ("files", ("regner.bpmn", bpmn.encode(), "text/xml"))]).status_code == 201
    r = api("jc").post("/cases", json={"process_key": "regner", "cpr": CPR_A, "data": {}})
    detail = assert_error(r, 422)
    assert detail["element"] == "beregn" and detail["field"] == "data.x"
    assert api("auditor").get("/cases").json() == []


# -- a case stored with such data before these rules ---------------------------------------------------

SURROGATE_NOTE = "før \ud800 efter"
REPAIRED_NOTE = "før \ufffd efter"


def _poison(db, case_id: str) -> None:
    """Write what the old code committed, behind the engine's back: raw SQL on the rows."""
    pg = db.is_postgres
    as_json = "CAST(:v AS json)" if pg else ":v"
    # PostgreSQL's json type refuses NaN and Infinity tokens but takes 1e400 (a number Python reads as inf)
    # and \\ud800 escapes; SQLite takes them all.
    bad = {"note": SURROGATE_NOTE, "k\udc00": 1, "stor": 1e400 if pg else float("nan")}
    data_json = json.dumps(bad).replace("Infinity", "1e400")
    with db.engine.begin() as conn:
        state = json.loads(conn.execute(text("SELECT state_json FROM cases WHERE id = :id"), {"id": case_id}).scalar())
        for task in state["tasks"].values():
            task["data"].update({"note": SURROGATE_NOTE, "tal": float("nan"), "liste": [float("inf"), "\udfff"]})
        conn.execute(text(f"UPDATE cases SET data = {as_json}, state_json = :s, audit_seq = audit_seq + 1 "
                          "WHERE id = :id"), {"v": data_json, "s": json.dumps(state), "id": case_id})
        seq = conn.execute(text("SELECT audit_seq FROM cases WHERE id = :id"), {"id": case_id}).scalar()
        details = json.dumps({"data": bad, "navn\ud800": "x"}).replace("Infinity", "1e400")
        conn.execute(text(
            "INSERT INTO audit_events (case_id, seq, at, type, actor, element_id, task_id, details) "
            f"SELECT case_id, :seq, at, 'task_completed', 'jc', 'task_a', NULL, {as_json} FROM audit_events "
            "WHERE case_id = :id AND seq = 1"), {"seq": seq, "v": details, "id": case_id})


def test_a_case_poisoned_in_the_database_reads_back_everywhere_and_goes_on(api, users, db, live):
    jc, ys = api("jc"), api("ys")
    cid = start(jc, "parallel", data={"note": "start"})["id"]
    tid = task_id(jc, cid, "task_a")
    _poison(db, cid)

    for who in ("jc", "ys", "jclead", "auditor", "admin"):
        client = api(who)
        case = get_case(client, cid)
        assert case["data"]["note"] == REPAIRED_NOTE and case["data"]["stor"] is None
        assert case["data"]["k\ufffd"] == 1
        trail = client.get(f"/cases/{cid}/audit")
        assert trail.status_code == 200, trail.text
        assert trail.json()["events"][-1]["details"]["data"]["note"] == REPAIRED_NOTE
        listed = client.get("/cases")
        assert listed.status_code == 200 and cid in [c["id"] for c in listed.json()]
    assert api("auditor").get("/cases", params={"cpr": CPR_A}).status_code == 200
    assert jc.get(f"/tasks/{tid}").status_code == 200
    assert api("auditor").post("/cases/search", json={"cpr": CPR_A}).status_code == 200
    page = web_client(live, "jc")  # logged in already: close it, do not enter it
    try:
        for path in (f"/sager/{cid}", f"/opgaver/{tid}", "/"):
            r = page.get(path)
            assert r.status_code == 200, (path, r.status_code)
            r.content.decode("utf-8")
    finally:
        page.close()

    # Writes go on, and the next save stores the case clean.
    complete(jc, tid, {"note": "videre"})
    done = complete(ys, task_id(ys, cid, "task_b"), {"note": "færdig"})["case"]
    assert done["status"] == "completed" and done["data"]["tal"] is None
    assert done["data"]["liste"] == [None, "\ufffd"]
    with db.engine.connect() as conn:
        state, data = conn.execute(text("SELECT state_json, data FROM cases WHERE id = :id"), {"id": cid}).one()
    for stored in (state, data if isinstance(data, str) else json.dumps(data)):
        assert "NaN" not in stored and "Infinity" not in stored and "\\ud800" not in stored
        assert "\\udfff" not in stored


def test_a_lone_surrogate_cannot_come_through_a_web_form(api, users, live):
    """Form posts are decoded as UTF-8 with replacement: the bytes of a surrogate become U+FFFD."""
    jc = api("jc")
    cid = start(jc, "parallel")["id"]
    tid = task_id(jc, cid, "task_a")
    page = web_client(live, "jc")
    try:
        form = page.get(f"/opgaver/{tid}")
        csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        body = b"csrf_token=" + csrf.encode() + b"&f.note=f%C3%B8r+%ED%A0%80+efter&handling=afslut"
        r = page.post(f"/opgaver/{tid}", content=body,
                      headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 303, r.text
        assert page.get(f"/sager/{cid}").status_code == 200
    finally:
        page.close()
    assert get_case(jc, cid)["data"]["note"] == "før \ufffd\ufffd\ufffd efter"
