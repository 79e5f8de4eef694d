"""Versions over HTTP: forms in the upload and in the version, deploy history, where cases stand, diffs.

CONTRACT.md, "Versions, changes and running cases": GET
/process-definitions/{key}/versions/{version} and /diff?from=A&to=B, read by
process owners, admins and auditors; POST /process-definitions takes form
files; a running case sees its own version's forms.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from engine import clock
from tests import factories as f

from .helpers import REGISTRERING, VISITATION, assert_error, complete, iso_with_offset, start, task_id

INTAKE = (f.DATA / "intake.bpmn").read_bytes()
VERSION_FIELDS = {"key", "version", "hash", "deployed_at", "deployed_by", "forms", "running_cases", "waiting_at"}
DIFF_FIELDS = {"added", "removed", "changed", "forms_changed", "affected"}
EL_FIELDS = {"element_id", "name", "type"}
INTAKE_FORMS = ["t_afgoerelse", "t_paamindelse", "t_registrering", "t_visitation"]


def deploy(client, *items):
    return client.post("/process-definitions",
                       files=[("files", (name, raw, "application/octet-stream")) for name, raw in items])


def form_with_required_field(key: str, field: str = "ny_oplysning") -> bytes:
    form = json.loads((f.FORMS / f"{key}.json").read_text(encoding="utf-8"))
    form["fields"].append({"name": field, "label": "Ny oplysning", "type": "text", "required": True})
    return json.dumps(form, ensure_ascii=False).encode("utf-8")


def test_a_version_shows_who_deployed_it_its_forms_and_where_its_cases_stand(api, users):
    jc = api("jc")
    first = start(jc)
    second = start(jc, cpr="241182-1111")
    complete(jc, task_id(jc, second["id"], "registrering"), REGISTRERING)
    r = api("owner").get("/process-definitions/intake/versions/1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert VERSION_FIELDS <= body.keys(), VERSION_FIELDS - body.keys()
    listed = api("owner").get("/process-definitions/intake").json()
    assert (body["key"], body["version"], body["hash"]) == ("intake", 1, listed["hash"])
    assert body["deployed_by"] == "test" and iso_with_offset(body["deployed_at"]) <= clock.now()
    assert body["forms"] == INTAKE_FORMS
    assert body["running_cases"] == 2
    assert body["waiting_at"] == [
        {"element_id": "registrering", "name": "Registrering som arbejdssøgende", "cases": 1},
        {"element_id": "visitation", "name": "Visitation og rådighedsvurdering", "cases": 1},
        {"element_id": "visitation_forfalden", "name": "1 uge", "cases": 1}]
    assert first["version"] == 1
    assert api("admin").post(f"/cases/{first['id']}/cancel", json={"reason": "oprettet ved en fejl"}).status_code \
        == 200
    after = api("auditor").get("/process-definitions/intake/versions/1").json()
    assert after["running_cases"] == 1 and [w["element_id"] for w in after["waiting_at"]] == [
        "visitation", "visitation_forfalden"]


def test_a_deploy_over_http_records_the_user_and_the_time(api, staff):
    before = clock.now() - timedelta(seconds=1)
    assert deploy(api("owner"), ("intake.bpmn", INTAKE)).status_code == 201
    body = api("admin").get("/process-definitions/intake/versions/1").json()
    assert body["deployed_by"] == "owner"
    assert before <= iso_with_offset(body["deployed_at"]) <= clock.now() + timedelta(seconds=1)
    history = api("auditor").get("/process-definitions/intake/versions").json()
    assert [(v["version"], v["deployed_by"], v["running_cases"]) for v in history] == [(1, "owner", 0)]


@pytest.mark.parametrize("path", ["/process-definitions/intake/versions/1", "/process-definitions/intake/versions",
                                  "/process-definitions/intake/diff?from=1&to=1"])
def test_process_owners_admins_and_auditors_read_versions_and_diffs(api, users, path):
    for username in ("owner", "admin", "auditor"):
        assert api(username).get(path).status_code == 200, username
    for username in ("jc", "jclead", "system"):
        assert isinstance(assert_error(api(username).get(path), 403), str)
    assert_error(api().get(path), 401)


@pytest.mark.parametrize("path,status", [
    ("/process-definitions/intake/versions/2", 404), ("/process-definitions/ukendt/versions/1", 404),
    ("/process-definitions/intake/versions/0", 404), ("/process-definitions/intake/versions/99999999999999999999", 404),
    ("/process-definitions/intake/versions/seneste", 422), ("/process-definitions/ukendt/versions", 404),
    ("/process-definitions/intake/diff?from=1&to=2", 404), ("/process-definitions/intake/diff?from=2&to=1", 404),
    ("/process-definitions/ukendt/diff?from=1&to=1", 404), ("/process-definitions/intake/diff?from=1", 422),
    ("/process-definitions/intake/diff?to=1", 422), ("/process-definitions/intake/diff?from=en&to=1", 422),
    ("/process-definitions/intake/diff?from=0&to=1", 422),
])
def test_unknown_versions_are_404_and_bad_parameters_422(api, users, path, status):
    assert_error(api("owner").get(path), status)


def test_forms_sent_with_the_diagram_become_the_versions_forms(api, staff):
    owner = api("owner")
    changed = form_with_required_field("t_registrering")
    r = deploy(owner, ("intake.bpmn", INTAKE), ("t_registrering.json", changed))
    assert r.status_code == 201, r.text
    [v1] = r.json()["deployed"]
    again = deploy(owner, ("intake.bpmn", INTAKE), ("t_registrering.json", changed)).json()["deployed"]
    assert again == [{**v1, "new": False}]
    without = deploy(owner, ("intake.bpmn", INTAKE)).json()["deployed"]  # t_registrering from the forms dir
    assert (without[0]["version"], without[0]["new"]) == (2, True)
    jc = api("jc")
    case = start(jc, version=1)
    form = jc.get(f"/tasks/{task_id(jc, case['id'], 'registrering')}").json()["form"]
    assert [fld["name"] for fld in form["fields"]][-1] == "ny_oplysning"


def test_bad_form_uploads_are_refused_and_nothing_is_stored(api, staff):
    owner = api("owner")
    detail = assert_error(deploy(owner, ("intake.bpmn", INTAKE), ("t_note.html", b"<p/>")), 422)
    assert [(p["file"], "needs its form t_note.json" in p["message"]) for p in detail] == [("t_note.html", True)]
    detail = assert_error(deploy(owner, ("intake.bpmn", INTAKE), ("t_ukendt.json", b'{"fields": []}')), 422)
    assert [(p["file"], "named by no task or event" in p["message"]) for p in detail] == [("t_ukendt.json", True)]
    assert owner.get("/process-definitions").json() == []
    detail = assert_error(deploy(owner, ("t_note.json", b'{"fields": []}')), 422)
    assert any("no .bpmn or .dmn" in p["message"] for p in detail)
    detail = assert_error(deploy(owner, ("intake.bpmn", INTAKE), ("t_visitation.txt", b"{}")), 422)
    assert [p["file"] for p in detail] == ["t_visitation.txt"]


def test_a_running_case_sees_and_is_checked_against_its_own_versions_form(api, users):
    """v1 case at visitation; v2 deployed with a changed t_visitation: each case keeps its version's form."""
    jc = api("jc")
    old = start(jc)
    complete(jc, task_id(jc, old["id"], "registrering"), REGISTRERING)
    changed = form_with_required_field("t_visitation", "samtaleform")
    assert deploy(api("owner"), ("intake.bpmn", INTAKE), ("t_visitation.json", changed)).status_code == 201
    new = start(jc, cpr="241182-1111")
    assert new["version"] == 2
    complete(jc, task_id(jc, new["id"], "registrering"), REGISTRERING)
    old_task, new_task = task_id(jc, old["id"], "visitation"), task_id(jc, new["id"], "visitation")
    assert "samtaleform" not in [x["name"] for x in jc.get(f"/tasks/{old_task}").json()["form"]["fields"]]
    assert "samtaleform" in [x["name"] for x in jc.get(f"/tasks/{new_task}").json()["form"]["fields"]]
    detail = assert_error(jc.post(f"/tasks/{new_task}/complete", json={"data": VISITATION}), 422)
    assert [d["field"] for d in detail] == ["samtaleform"]
    detail = assert_error(jc.post(f"/tasks/{old_task}/complete",
                                  json={"data": {**VISITATION, "samtaleform": "telefon"}}), 422)
    assert [d["field"] for d in detail] == ["samtaleform"]  # v1's form has no such field
    assert complete(jc, old_task, VISITATION)["case"]["version"] == 1
    assert complete(jc, new_task, {**VISITATION, "samtaleform": "telefon"})["case"]["version"] == 2


def test_the_start_form_is_the_latest_versions(api, staff):
    owner = api("owner")
    xml = (f.DATA / "web_intake.bpmn").read_bytes()
    assert deploy(owner, ("web_intake.bpmn", xml)).status_code == 201
    assert [x["name"] for x in owner.get("/process-definitions/web_intake").json()["start_form"]["fields"]] == ["note"]
    assert deploy(owner, ("web_intake.bpmn", xml), ("t_note.json", form_with_required_field("t_note"))) \
        .status_code == 201
    shown = owner.get("/process-definitions/web_intake").json()
    assert shown["latest_version"] == 2
    assert [x["name"] for x in shown["start_form"]["fields"]] == ["note", "ny_oplysning"]
    detail = assert_error(api("jc").post("/cases", json={"process_key": "web_intake", "cpr": f.CPR, "data": {}}), 422)
    assert [d["field"] for d in detail] == ["ny_oplysning"]
    assert start(api("jc"), "web_intake", version=1)["version"] == 1  # v1 starts with v1's start form


def test_the_diff_of_two_versions_over_http(api, users):
    jc = api("jc")
    at_visitation = start(jc)
    complete(jc, task_id(jc, at_visitation["id"], "registrering"), REGISTRERING)
    start(jc, cpr="241182-1111")  # at registrering, which does not change
    xml = INTAKE.replace(b'name="Visitation og r\xc3\xa5dighedsvurdering"', b'name="Visitationssamtale"')
    r = deploy(api("owner"), ("intake.bpmn", xml), ("t_afgoerelse.json", form_with_required_field("t_afgoerelse")))
    assert r.status_code == 201, r.text
    r = api("auditor").get("/process-definitions/intake/diff", params={"from": 1, "to": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert DIFF_FIELDS <= body.keys()
    assert (body["added"], body["removed"]) == ([], [])
    assert {e["element_id"] for e in body["changed"]} == {"visitation", "afgoerelse"}
    for element in body["changed"]:
        assert EL_FIELDS | {"attributes"} <= element.keys() and all(isinstance(a, str) for a in element["attributes"])
    changed = {e["element_id"]: e for e in body["changed"]}
    assert changed["visitation"]["attributes"] == [
        'navn (name): "Visitation og rådighedsvurdering" → "Visitationssamtale"']
    assert (changed["visitation"]["name"], changed["visitation"]["type"]) == ("Visitationssamtale", "userTask")
    assert changed["afgoerelse"]["attributes"] == [
        'formular t_afgoerelse: felt tilføjet (field added): "Ny oplysning" (ny_oplysning)']
    assert body["forms_changed"] == ["t_afgoerelse"]
    assert body["affected"] == [{"element_id": "visitation", "cases": 1}]
    back = api("owner").get("/process-definitions/intake/diff", params={"from": 2, "to": 1}).json()
    assert back["affected"] == [] and back["forms_changed"] == ["t_afgoerelse"]
