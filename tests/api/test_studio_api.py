"""The studio's JSON API over real HTTP: drafts, checks, the publish preview, publishing, the catalog.

The journey is tests/data/intake.bpmn (version 1 deployed by the `users` fixture): a draft of it is
saved, checked, previewed against the running cases and published as version 2.
"""
from __future__ import annotations

import json

import pytest

from tests import factories as f

from .helpers import REGISTRERING, assert_error, complete, start, task_id

INTAKE = (f.DATA / "intake.bpmn").read_text(encoding="utf-8")
RENAMED_TASK = INTAKE.replace('name="Visitation og rådighedsvurdering"', 'name="Visitation (ny)"')
BAD_LANE = INTAKE.replace('name="ydelsesservice"', 'name="ydelsesservicen"')
T_VISITATION = json.loads((f.FORMS / "t_visitation.json").read_text(encoding="utf-8"))


def relabelled_form(label: str) -> str:
    form = json.loads(json.dumps(T_VISITATION))
    form["fields"][0]["label"] = label
    return json.dumps(form, ensure_ascii=False)


def put(client, xml=RENAMED_TASK, revision=None, forms=None, key="intake"):
    return client.put(f"/studio/drafts/{key}", json={"bpmn": xml, "forms": forms or {}, "revision": revision})


def saved(client, **kwargs) -> dict:
    r = put(client, **kwargs)
    assert r.status_code == 200, r.text
    return r.json()


DRAFT_FIELDS = {"key", "bpmn", "forms", "revision", "base_version", "problems", "updated_by", "updated_at"}


@pytest.mark.parametrize("username", ["jc", "jclead", "auditor", "system"])
def test_only_process_owners_and_admins_use_the_studio(api, users, username):
    client = api(username)
    assert_error(client.get("/studio/catalog"), 403)
    assert_error(client.get("/studio/drafts"), 403)
    assert_error(client.get("/studio/drafts/intake"), 403)
    assert_error(put(client), 403)
    assert_error(client.post("/studio/check", json={"bpmn": INTAKE}), 403)
    assert_error(client.post("/studio/drafts/intake/publish-preview"), 403)
    assert_error(client.post("/studio/drafts/intake/publish", json={"revision": 1}), 403)
    assert_error(client.delete("/studio/drafts/intake", params={"revision": 1}), 403)
    assert_error(api().get("/studio/catalog"), 401)
    assert_error(api("owner").get("/studio/drafts/intake"), 404)  # and no draft was made by any of them


def test_a_draft_is_saved_over_its_revision_and_a_stale_save_is_refused(api, users):
    owner, admin = api("owner"), api("admin")
    first = saved(owner)
    assert DRAFT_FIELDS <= first.keys()
    assert (first["key"], first["revision"], first["base_version"], first["updated_by"]) == ("intake", 1, 1, "owner")
    assert first["bpmn"] == RENAMED_TASK and first["forms"] == {}
    assert owner.get("/studio/drafts/intake").json() == first
    second = saved(admin, xml=INTAKE, revision=1)               # a colleague saves on revision 1
    assert (second["revision"], second["updated_by"]) == (2, "admin")
    stale = assert_error(put(owner, xml=BAD_LANE, revision=1), 409)  # the other tab still has revision 1
    assert "revision 2" in stale and "admin" in stale
    assert_error(put(owner, xml=BAD_LANE, revision=None), 409)   # nor is a second draft begun
    assert owner.get("/studio/drafts/intake").json() == second   # nothing overwritten
    assert [d["revision"] for d in owner.get("/studio/drafts").json()] == [2]
    assert_error(owner.delete("/studio/drafts/intake", params={"revision": 1}), 409)
    assert owner.delete("/studio/drafts/intake", params={"revision": 2}).status_code == 204
    assert_error(owner.get("/studio/drafts/intake"), 404)
    assert_error(put(owner, revision=2), 409)                    # discarded meanwhile: refused, not re-created


def test_a_draft_with_problems_is_saved_and_shows_them(api, users):
    body = saved(api("owner"), xml=BAD_LANE)
    [lane] = [p for p in body["problems"] if p["element"] == "lane_ydelsesservice"]
    assert lane["severity"] == "error" and "Svømmebanen »ydelsesservicen« er ikke en enhed" in lane["message"]
    assert isinstance(lane["line"], int)


@pytest.mark.parametrize("xml, words", [
    ("not xml at all", "not well-formed XML"),
    ("<?xml version='1.0'?>\n<!DOCTYPE x [<!ENTITY a 'b'>]>\n<x/>", "DOCTYPE"),
    ("<notbpmn/>", "not a BPMN 2.0 document"),
    ("", "BPMN XML text"),
    (INTAKE.replace("<bpmn:process ", "<bpmn:process \x00", 1), "NUL"),
])
def test_input_that_is_no_diagram_is_refused_and_the_draft_kept(api, users, xml, words):
    owner = api("owner")
    before = saved(owner)
    detail = assert_error(put(owner, xml=xml, revision=1), 422)
    assert words in json.dumps(detail), detail
    assert owner.get("/studio/drafts/intake").json() == before


@pytest.mark.parametrize("forms, field", [
    ({"t_visitation.json": "{not json"}, "forms.t_visitation.json"),
    ({"t_visitation.json": "[1, 2]"}, "forms.t_visitation.json"),
    ({"t_visitation.json": '{"title": NaN}'}, "forms.t_visitation.json"),
    ({"../etc/passwd": "{}"}, "forms.../etc/passwd"),
    ({"t_visitation.txt": "{}"}, "forms.t_visitation.txt"),
])
def test_forms_that_are_no_form_files_are_refused_and_the_draft_kept(api, users, forms, field):
    owner = api("owner")
    before = saved(owner)
    detail = assert_error(put(owner, revision=1, forms=forms), 422)
    assert [p["field"] for p in detail] == [field], detail
    assert owner.get("/studio/drafts/intake").json() == before


@pytest.mark.parametrize("body", [
    {"bpmn": INTAKE, "forms": {}},                                   # revision missing
    {"bpmn": INTAKE, "forms": {}, "revision": "1"},                  # JSON types as sent
    {"bpmn": INTAKE, "forms": {"a.json": 3}, "revision": None},
    {"bpmn": INTAKE, "forms": {}, "revision": None, "surprise": 1},
    {"bpmn": 5, "forms": {}, "revision": None},
])
def test_malformed_saves_are_422(api, users, body):
    assert_error(api("owner").put("/studio/drafts/intake", json=body), 422)
    assert_error(api("owner").get("/studio/drafts/intake"), 404)


def test_a_bad_key_and_a_huge_draft_are_refused(api, users):
    owner = api("owner")
    detail = assert_error(put(owner, key="1-starts-with-a-digit"), 422)
    assert detail[0]["field"] == "key"
    huge = INTAKE.replace("</bpmn:definitions>", "<!--" + "x" * (6 * 1024 * 1024) + "--></bpmn:definitions>")
    r = put(owner, xml=huge)
    assert r.status_code in (413, 422), r.status_code
    assert_error(owner.get("/studio/drafts/intake"), 404)
    r = owner.put("/studio/drafts/intake", content=b"x" * (20 * 1024 * 1024), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_a_new_journey_is_a_draft_of_a_key_not_deployed(api, users):
    owner = api("owner")
    xml = INTAKE.replace('id="intake"', 'id="ny_rejse"')
    body = saved(owner, xml=xml, key="ny_rejse")
    assert body["base_version"] is None
    assert [p for p in body["problems"] if p["severity"] == "error"] == []
    preview = owner.post("/studio/drafts/ny_rejse/publish-preview").json()
    assert preview["diff"]["from"] is None and preview["affected_cases"] == 0
    assert "visitation" in {e["element_id"] for e in preview["diff"]["added"]}
    mismatch = saved(owner, xml=INTAKE, key="anden_rejse")       # its process is still called intake
    [problem] = [p for p in mismatch["problems"] if p["severity"] == "error"]
    assert "»intake«" in problem["message"] and "»anden_rejse«" in problem["message"]


def test_check_says_what_is_wrong_in_danish_with_element_and_line(api, users):
    owner = api("owner")
    xml = (BAD_LANE.replace('camunda:formKey="t_afgoerelse"', 'camunda:formKey="t_findes_ikke"')
           .replace('<bpmn:timeDuration>"P7D"</bpmn:timeDuration>', "<bpmn:timeDuration>P7D</bpmn:timeDuration>")
           .replace(' camunda:formKey="t_paamindelse"', ""))
    body = owner.post("/studio/check", json={"bpmn": xml, "forms": {}}).json()
    by_element = {p["element"]: p for p in body["problems"]}
    assert set(body) == {"problems"}
    assert all(set(p) == {"element", "line", "message", "severity"} for p in body["problems"])
    assert "ikke en enhed" in by_element["lane_ydelsesservice"]["message"]
    assert "Formularen »t_findes_ikke« findes ikke" in by_element["afgoerelse"]["message"]
    assert 'skal stå i anførselstegn' in by_element["visitation_forfalden"]["message"]  # the timer's drawn shape
    assert by_element["paamindelse"]["severity"] == "warning" and "ingen formular" in by_element["paamindelse"]["message"]
    assert all(isinstance(p["line"], int) for p in body["problems"] if p["element"] != "paamindelse" and p["element"])
    clean = owner.post("/studio/check", json={"bpmn": INTAKE, "key": "intake"}).json()
    assert [p["severity"] for p in clean["problems"]] == ["warning"]  # intake.bpmn has no layout
    garbage = owner.post("/studio/check", json={"bpmn": "<<<"}).json()
    assert "ikke gyldig XML" in garbage["problems"][0]["message"]
    assert_error(owner.post("/studio/check", json={"bpmn": INTAKE, "forms": [], "x": 1}), 422)


@pytest.fixture
def at_visitation(api, users):
    """Two running intake cases (version 1) at the visitation task."""
    jc = api("jc")
    ids = []
    for _ in range(2):
        case = start(jc)
        complete(jc, task_id(jc, case["id"], "registrering"), REGISTRERING)
        ids.append(case["id"])
    return ids


def test_the_preview_shows_the_diff_and_the_cases_standing_on_what_changed(api, at_visitation):
    owner = api("owner")
    saved(owner)
    body = owner.post("/studio/drafts/intake/publish-preview")
    assert body.status_code == 200, body.text
    preview = body.json()
    assert set(preview) == {"problems", "diff", "affected_cases", "affected_by_element", "decisions_changed"}
    assert preview["decisions_changed"] == []  # intake names no decision table
    assert preview["affected_cases"] == 2 and preview["affected_by_element"] == {"visitation": 2}
    [changed] = [c for c in preview["diff"]["changed"] if c["element_id"] == "visitation"]
    assert any("Visitation (ny)" in a for a in changed["attributes"])
    assert preview["diff"]["affected"] == [{"element_id": "visitation", "cases": 2}]
    assert {"added", "removed", "changed", "forms_changed", "affected"} <= preview["diff"].keys()
    assert_error(owner.post("/studio/drafts/nothing/publish-preview"), 404)


def test_publishing_deploys_the_draft_with_its_forms_and_removes_it(api, at_visitation):
    owner, jc = api("owner"), api("jc")
    draft = saved(owner, forms={"t_visitation.json": relabelled_form("Står til rådighed (ny etiket)")})
    assert_error(owner.post("/studio/drafts/intake/publish", json={"revision": draft["revision"] + 1}), 409)
    r = owner.post("/studio/drafts/intake/publish", json={"revision": draft["revision"]})
    assert r.status_code == 201, r.text
    assert r.json()["key"] == "intake" and r.json()["version"] == 2
    assert_error(owner.get("/studio/drafts/intake"), 404)
    assert_error(owner.post("/studio/drafts/intake/publish", json={"revision": draft["revision"]}), 404)
    detail = owner.get("/process-definitions/intake/versions/2").json()
    assert detail["deployed_by"] == "owner" and "t_visitation" in detail["forms"]
    new_case = start(jc)
    complete(jc, task_id(jc, new_case["id"], "registrering"), REGISTRERING)
    task = jc.get(f"/tasks/{task_id(jc, new_case['id'], 'visitation')}").json()
    assert task["name"] == "Visitation (ny)"
    assert task["form"]["fields"][0]["label"] == "Står til rådighed (ny etiket)"
    old = jc.get(f"/tasks/{task_id(jc, at_visitation[0], 'visitation')}").json()
    assert old["form"]["fields"][0]["label"] == T_VISITATION["fields"][0]["label"]   # version 1 keeps its form
    # the next draft, without the form, keeps the published form rather than the older file on disk
    again = saved(owner, xml=RENAMED_TASK.replace("Visitation (ny)", "Visitation (v3)"))
    assert owner.post("/studio/drafts/intake/publish", json={"revision": again["revision"]}).status_code == 201
    third = start(jc)
    complete(jc, task_id(jc, third["id"], "registrering"), REGISTRERING)
    task = jc.get(f"/tasks/{task_id(jc, third['id'], 'visitation')}").json()
    assert (task["name"], task["form"]["fields"][0]["label"]) == ("Visitation (v3)", "Står til rådighed (ny etiket)")


def test_a_draft_with_errors_is_not_published_and_nothing_is_deployed(api, users):
    owner = api("owner")
    draft = saved(owner, xml=BAD_LANE)
    r = owner.post("/studio/drafts/intake/publish", json={"revision": draft["revision"]})
    detail = assert_error(r, 422)
    assert any("ikke en enhed" in p["message"] for p in detail)
    assert owner.get("/process-definitions/intake").json()["versions"] == [1]
    assert owner.get("/studio/drafts/intake").json()["revision"] == draft["revision"]   # the draft is kept
    assert_error(owner.post("/studio/drafts/intake/publish", json={"revision": "1"}), 422)
    assert_error(owner.post("/studio/drafts/intake/publish", json={}), 422)


def test_the_catalog_lists_what_the_properties_panel_offers(api, users):
    body = api("admin").get("/studio/catalog").json()
    assert set(body) >= {"units", "forms", "deadlines", "processes", "messages"}
    assert {"id": "sof", "name": "SOF"} in body["units"]
    assert {"t_visitation", "t_afgoerelse"} <= set(body["forms"])
    [visitation] = [d for d in body["deadlines"] if d["name"] == "visitation"]
    assert "senest en uge" in visitation["text"] and "P1W" in visitation["rule"]  # config/deadlines.toml
    assert body["processes"] == ["intake", "parallel"]
    assert "ansoegning_modtaget" in body["messages"]
