"""Engine semantics seen through the HTTP API: deadlines, overdue, messages between cases, DMN, script failures."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import time_machine

from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

SEM = f.DATA / "semantics"
MONDAY_BEFORE_EASTER = datetime(2026, 3, 30, 8, 0, tzinfo=timezone.utc)


def deploy(api, *paths):
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    return api("owner").post("/process-definitions", files=files)


def danish_day(value: str) -> date:
    return datetime.fromisoformat(value).astimezone(DANISH_TIME).date()


def test_due_dates_and_the_overdue_filter(api, staff, db, session, settings):
    """The server runs in another thread, so time moves for the whole process (time-machine), never by sleeping."""
    settings.deadlines_file = f.DATA / "deadlines.toml"
    settings.token_minutes = 60 * 24 * 60  # the token must outlive the trip through April
    assert deploy(api, SEM / "timers.bpmn").status_code == 201
    with time_machine.travel(MONDAY_BEFORE_EASTER, tick=False) as traveller:
        jc = api("jc")
        r = jc.post("/cases", json={"process_key": "timers", "cpr": f.CPR, "data": {"henvendelsesdato": "2026-03-27"}})
        assert r.status_code == 201, r.text
        case = r.json()
        [wait] = case["waiting"]
        assert wait["kind"] == "timer"
        assert datetime.fromisoformat(wait["due_at"]) == MONDAY_BEFORE_EASTER + timedelta(days=2)
        traveller.shift(timedelta(days=2, minutes=1))
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 1
        [task] = jc.get("/tasks", params={"case_id": case["id"]}).json()
        # five working days from Wednesday 1 April 2026, across Easter: 7, 8, 9, 10, 13 April
        assert task["element_id"] == "samtale" and danish_day(task["due_at"]) == date(2026, 4, 13)
        assert jc.get("/tasks", params={"overdue": "true"}).json() == []
        traveller.move_to(datetime(2026, 4, 13, 20, tzinfo=timezone.utc))  # 22:00 in Denmark: still due today
        assert jc.get("/tasks", params={"overdue": "true"}).json() == []
        traveller.move_to(datetime(2026, 4, 13, 22, 30, tzinfo=timezone.utc))  # 00:30 on 14 April in Denmark
        assert [t["id"] for t in jc.get("/tasks", params={"overdue": "true"}).json()] == [task["id"]]
        assert jc.get("/tasks", params={"overdue": "false"}).json() == []


def test_message_starts_a_case_for_sof_and_the_reply_comes_back(api, staff, session):
    f.add_user(session, "sofie", "caseworker", ["sof"])
    assert deploy(api, SEM / "referral.bpmn").status_code == 201
    jc = api("jc")
    jc_case = jc.post("/cases", json={"process_key": "jobforloeb", "cpr": f.CPR, "data": {"problemer": "bolig"}}).json()
    sofie = api("sofie")
    [sof_task] = sofie.get("/tasks").json()
    assert sof_task["process_key"] == "sof_vurdering" and sof_task["unit"] == "sof"
    audit = api("auditor").get(f"/cases/{jc_case['id']}/audit").json()["events"]
    sent = next(e for e in audit if e["type"] == "message_sent")
    assert sent["details"]["to_case"] == sof_task["case_id"]
    done = sofie.post(f"/tasks/{sof_task['id']}/complete", json={"data": {"note": "Bostøtte"}})
    assert done.status_code == 200 and done.json()["case"]["status"] == "completed"
    names = sorted(t["element_id"] for t in jc.get("/tasks", params={"case_id": jc_case["id"]}).json())
    assert names == ["kontaktforloeb", "laes"]


def test_external_message_to_an_event_subprocess(api, staff, session):
    f.add_user(session, "vs", "caseworker", ["virksomhedsservice"])
    assert deploy(api, SEM / "structure.bpmn").status_code == 201
    case = api("jc").post("/cases", json={"process_key": "structure", "cpr": f.CPR, "data": {"virksomhed": False}})
    case = case.json()
    assert {"element_id": "afbud_start", "kind": "message", "message": "afbud"}.items() <= \
        next(w for w in case["waiting"] if w["element_id"] == "afbud_start").items()
    r = api("system").post("/messages", json={"name": "afbud", "correlation_key": f.CPR, "data": {"grund": "syg"}})
    assert r.status_code == 200 and r.json() == {"case_id": case["id"]}
    names = sorted(t["element_id"] for t in api("jc").get("/tasks", params={"case_id": case["id"]}).json())
    assert names == ["plan", "registrer_afbud"]


def test_decision_tables_deploy_with_their_diagram(api, staff):
    r = deploy(api, SEM / "kategori.dmn", SEM / "visitation_dmn.bpmn")
    assert r.status_code == 201 and [d["key"] for d in r.json()["deployed"]] == ["visitation_dmn"]
    case = api("jc").post("/cases", json={"process_key": "visitation_dmn", "cpr": f.CPR,
                                          "data": {"forventede_uger": 12, "afklaret_behandling": False}}).json()
    assert case["data"]["kategori"] == 3
    bad = (SEM / "kategori.dmn").read_text(encoding="utf-8").replace('hitPolicy="UNIQUE"', 'hitPolicy="ANY"')
    r = api("owner").post("/process-definitions", files=[
        ("files", ("kategori.dmn", bad.encode(), "application/xml")),
        ("files", ("visitation_dmn.bpmn", (SEM / "visitation_dmn.bpmn").read_bytes(), "application/xml"))])
    assert r.status_code == 422
    assert any("ANY" in p["message"] and p["file"] == "kategori.dmn" for p in r.json()["detail"])


FAILING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="fejler" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="jobcenter"><bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>t</bpmn:flowNodeRef><bpmn:flowNodeRef>beregn</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:userTask id="t" name="Opgave" camunda:formKey="t_note"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="beregn"/>
    <bpmn:scriptTask id="beregn" name="Beregn"><bpmn:script>sats = 1000
andel = sats / antal_boern</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="beregn" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_failing_script_answers_422_naming_element_and_line_and_is_audited(api, staff):
    r = api("owner").post("/process-definitions", files=[("files", ("fejler.bpmn", FAILING.encode(), "text/xml"))])
    assert r.status_code == 201
    jc = api("jc")
    case = jc.post("/cases", json={"process_key": "fejler", "cpr": f.CPR, "data": {"antal_boern": 0}}).json()
    [task] = case["open_tasks"]
    r = jc.post(f"/tasks/{task['id']}/complete", json={"data": {}})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail["element"] == "beregn" and detail["line"] == 2 and "ZeroDivisionError" in detail["message"]
    assert jc.get(f"/tasks/{task['id']}").json()["status"] == "open"  # the case kept its state
    events = api("auditor").get(f"/cases/{case['id']}/audit").json()["events"]
    assert events[-1]["type"] == "process_error" and events[-1]["element_id"] == "beregn"
