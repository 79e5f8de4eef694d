"""Camunda 7 diagrams as Camunda Modeler 5 saves them (tests/data/camunda7/) deploy and run to the end over HTTP.

No edits to the diagrams: candidateGroups instead of lanes, JUEL conditions,
a dueDate from `${dateTime().plusDays(3).toDate()}`, generated forms
(camunda:formData), an external service task with a topic and input/output
parameters, a bare P14D boundary timer, a call activity with camunda:in/out,
and an assignee from the case's initiator.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests import factories as f

from .helpers import assert_error, complete, get_case, iso_with_offset, start, task_id, tomorrow_at

C7 = f.DATA / "camunda7"
DIAGRAMS = ("orlov.bpmn", "orlov_underretning.bpmn", "klage.bpmn")
FORMS = ("vurdering.json", "tilpasning.json", "klage.json")
APPLICATION = {"dage": 12, "begrundelse": "Sommerferie med familien", "type": "ferie"}


@pytest.fixture
def deployed(api, staff):
    files = [("files", (name, (C7 / name).read_bytes(), "application/xml")) for name in DIAGRAMS]
    files += [("files", (name, (C7 / "forms" / name).read_bytes(), "application/json")) for name in FORMS]
    r = api("owner").post("/process-definitions", files=files)
    assert r.status_code == 201, r.text
    assert {d["key"] for d in r.json()["deployed"]} == {"orlov", "orlov_underretning", "klage"}
    return staff


def events(client, case_id: str) -> list[dict]:
    return client.get(f"/cases/{case_id}/audit").json()["events"]


def test_the_start_form_is_made_from_camunda_form_data(api, deployed):
    definition = api("jc").get("/process-definitions/orlov").json()
    form = definition["start_form"]
    assert [(x["name"], x["type"], x["required"]) for x in form["fields"]] == [
        ("dage", "number", True), ("begrundelse", "text", False), ("type", "choice", False)]
    assert form["fields"][2]["choices"] == [{"value": "ferie", "label": "Ferie"}, {"value": "barsel", "label": "Barsel"}]
    refused = api("jc").post("/cases", json={"process_key": "orlov", "version": None, "cpr": f.CPR,
                                             "data": {"dage": 0, "begrundelse": "x" * 201}})
    fields = {d["field"] for d in assert_error(refused, 422)}
    assert fields == {"dage", "begrundelse"}  # min 1 and maxlength 200, as the diagram says


def test_an_approved_leave_runs_to_the_end_through_the_external_task_and_the_called_process(api, deployed):
    t0 = tomorrow_at(9)
    with time_machine.travel(t0, tick=False):
        jc = api("jc")
        case = start(jc, "orlov", data=APPLICATION)
        [task] = case["open_tasks"]
        # candidateGroups names the unit; dueDate ${dateTime().plusDays(3).toDate()}; formKey embedded:app:forms/…
        assert (task["element_id"], task["unit"], task["form_key"], task["assignee"]) == (
            "Activity_vurder", "jobcenter", "vurdering", None)
        assert iso_with_offset(task["due_at"]) == t0 + timedelta(days=3)
        [timer] = case["waiting"]
        assert (timer["element_id"], iso_with_offset(timer["due_at"])) == ("Event_udloebet", t0 + timedelta(days=14))
        assert case["data"]["ansoeger"] == "jc"  # camunda:initiator
        created = next(e for e in events(jc, case["id"]) if e["type"] == "task_created")
        assert created["details"]["priority"] == 60
        assert iso_with_offset(created["details"]["follow_up_at"]) == t0 + timedelta(days=1)

        after = complete(jc, task["id"], {"godkendt": True})["case"]  # ${godkendt}
        assert after["open_tasks"] == [] and after["waiting"] == []

        system = api("system")
        [work] = system.post("/external-tasks/fetch-and-lock", json={
            "worker_id": "hr-1", "topics": ["hr-registrering"], "lease_seconds": 60}).json()
        assert work["element_id"] == "Activity_registrer"
        assert (work["variables"]["medarbejder"], work["variables"]["system"]) == ("jc", "HR-portalen")  # inputs
        r = system.post(f"/external-tasks/{work['id']}/complete",
                        json={"worker_id": "hr-1", "data": {"registrering_id": "HR-2026-17"}})
        assert r.status_code == 200, r.text

        ys = api("ys")
        called = get_case(ys, case["id"])
        [notify] = called["open_tasks"]
        assert (notify["element_id"], notify["unit"]) == ("Activity_besked", "ydelsesservice")
        assert iso_with_offset(notify["due_at"]) == t0 + timedelta(days=2)  # camunda:dueDate="P2D"
        form = ys.get(f"/tasks/{notify['id']}").json()["form"]
        assert [x["name"] for x in form["fields"]] == ["besked_sendt", "besked"]
        done = complete(ys, notify["id"], {"besked_sendt": True, "besked": "Orlov 12 dage fra 1. juli"})["case"]

    assert done["status"] == "completed"
    data = done["data"]
    assert data["registreret"] is True and data["registrering_id"] == "HR-2026-17"  # outputParameter
    assert data["underrettet"] is True  # camunda:out source="besked_sendt" target="underrettet"
    for gone in ("medarbejder", "system", "besked_sendt", "besked", "antal_dage", "modtager"):
        assert gone not in data, gone  # inputs are local; the called process gives back only what out names
    trail = events(api("admin"), case["id"])
    assert [e["details"]["taken"] for e in trail if e["type"] == "gateway_taken"] == [
        ["Activity_registrer"], ["Event_med"]]
    assert trail[-1]["type"] == "case_completed" and trail[-1]["element_id"] == "Event_godkendt"


def test_a_refused_long_leave_goes_back_to_the_initiator_as_assignee(api, deployed):
    jc = api("jc")
    case = start(jc, "orlov", data=APPLICATION)
    after = complete(jc, task_id(jc, case["id"], "Activity_vurder"), {"godkendt": False})["case"]
    [adjust] = after["open_tasks"]  # ${!godkendt && dage > 10}
    assert (adjust["element_id"], adjust["assignee"], adjust["status"]) == ("Activity_tilpas", "jc", "claimed")
    assigned = [e for e in events(jc, case["id"]) if e["type"] == "task_assigned"]
    assert assigned[-1]["details"]["by"] == "camunda:assignee"
    assert_error(api("jc2").post(f"/tasks/{adjust['id']}/complete", json={"data": {"dage": 8}}), 409)
    assert complete(jc, adjust["id"], {"dage": 8})["case"]["status"] == "completed"


def test_a_short_refused_leave_ends_at_once(api, deployed):
    jc = api("jc")
    case = start(jc, "orlov", data={**APPLICATION, "dage": 4})
    done = complete(jc, task_id(jc, case["id"], "Activity_vurder"), {"godkendt": False})["case"]
    assert done["status"] == "completed"  # ${not godkendt and dage le 10}
    assert events(jc, case["id"])[-1]["element_id"] == "Event_afslaaet"


def test_the_bare_p14d_boundary_timer_fires_after_fourteen_days(api, deployed, db):
    from workers.timers import fire_due_timers
    t0 = tomorrow_at(9)
    with time_machine.travel(t0, tick=False) as traveller:
        case = start(api("jc"), "orlov", data=APPLICATION)
        traveller.shift(timedelta(days=14) - timedelta(seconds=1))
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 0
        traveller.shift(timedelta(seconds=2))
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 1
        after = get_case(api("jc"), case["id"])
    assert after["status"] == "completed" and after["open_tasks"] == []
    assert events(api("admin"), case["id"])[-1]["element_id"] == "Event_udloebet_slut"


def test_a_complaint_with_lane_and_candidate_groups_runs_on_expressions_over_case_data(api, deployed, db):
    from workers.timers import fire_due_timers
    t0 = tomorrow_at(9)
    data = {"frist_dato": (t0 + timedelta(days=10)).date().isoformat(), "prioritet": 80, "antal_klager": 5,
            "svarfrist": "PT2H"}
    with time_machine.travel(t0, tick=False) as traveller:
        ys = api("ys")
        case = start(ys, "klage", data=data)
        [task] = case["open_tasks"]
        assert (task["unit"], task["form_key"]) == ("ydelsesservice", "klage")  # camunda-forms:deployment:klage.form
        assert task["due_at"].startswith(data["frist_dato"])  # an ISO date: the end of that Danish day
        created = next(e for e in events(ys, case["id"]) if e["type"] == "task_created")
        assert (created["details"]["priority"], created["details"]["candidate_users"]) == (80, ["ys", "anden"])
        after = complete(ys, task["id"], {"udfald": "fastholdt"})["case"]  # antal_klager > 3 ? true : videresend
        [wait] = after["waiting"]
        assert (wait["element_id"], iso_with_offset(wait["due_at"])) == ("Event_vent", t0 + timedelta(hours=2))
        traveller.shift(timedelta(hours=2, seconds=1))
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 1
        assert get_case(api("ys"), case["id"])["status"] == "completed"


def test_the_default_flow_and_a_missing_value_for_a_task_attribute(api, deployed):
    ys = api("ys")
    case = start(ys, "klage", data={"antal_klager": 1, "svarfrist": "PT2H"})  # no frist_dato, no prioritet
    [task] = case["open_tasks"]
    assert task["due_at"] is None
    problems = [e["details"] for e in events(ys, case["id"]) if e["type"] == "task_attribute_error"]
    assert {p["attribute"] for p in problems} == {"dueDate", "priority"}
    done = complete(ys, task["id"], {"udfald": "fastholdt", "videresend": False})["case"]
    assert done["status"] == "completed" and events(ys, case["id"])[-1]["element_id"] == "Event_afvist"


def test_a_condition_over_a_missing_field_fails_the_step_naming_the_gateway(api, deployed):
    ys = api("ys")
    case = start(ys, "klage", data={"svarfrist": "PT2H"})  # antal_klager is missing: Camunda fails here too
    r = ys.post(f"/tasks/{case['open_tasks'][0]['id']}/complete", json={"data": {"udfald": "fastholdt"}})
    detail = assert_error(r, 422)
    assert "Gateway_udfald" in str(detail) or "Flow_videre" in str(detail), detail
    assert get_case(ys, case["id"])["open_tasks"][0]["status"] == "open"  # the case kept its state
