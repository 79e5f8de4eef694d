"""Process definitions over HTTP: deploy (multipart), versions, list, show with start_form, the XML."""
from __future__ import annotations

import re

import pytest

from tests import factories as f

from .helpers import DEFINITION_FIELDS, DEPLOYED_FIELDS, FORM_FIELD_FIELDS, PROBLEM_FIELDS, assert_error, start

INTAKE = (f.DATA / "intake.bpmn").read_bytes()
PARALLEL = (f.DATA / "parallel.bpmn").read_bytes()

# A process whose start event asks for a form (t_note: one optional text field "note").
WITH_START_FORM = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="ans_defs" targetNamespace="https://tovholder.dk/test">
  <bpmn:process id="ansoegning" name="Ans\xc3\xb8gning med startformular" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane_jc" name="jobcenter">
        <bpmn:flowNodeRef>modtaget</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>behandling</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>slut</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="modtaget" name="Ans\xc3\xb8gning modtaget" camunda:formKey="t_note"/>
    <bpmn:sequenceFlow id="f1" sourceRef="modtaget" targetRef="behandling"/>
    <bpmn:userTask id="behandling" name="Behandling" camunda:formKey="t_note"/>
    <bpmn:sequenceFlow id="f2" sourceRef="behandling" targetRef="slut"/>
    <bpmn:endEvent id="slut"/>
  </bpmn:process>
</bpmn:definitions>
"""


def files(*items):
    """items: (filename, bytes) → the multipart `files` field, one part per file."""
    return [("files", (name, raw, "application/xml")) for name, raw in items]


def deploy(client, *items):
    return client.post("/process-definitions", files=files(*items))


def line_of(raw: bytes, needle: str) -> int:
    return next(i for i, line in enumerate(raw.decode().splitlines(), 1) if needle in line)


def test_deploy_returns_201_with_each_deployed_process(api, staff):
    r = deploy(api("owner"), ("intake.bpmn", INTAKE), ("parallel.bpmn", PARALLEL))
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"deployed"}
    by_key = {d["key"]: d for d in body["deployed"]}
    assert set(by_key) == {"intake", "parallel"}
    for d in body["deployed"]:
        assert DEPLOYED_FIELDS <= d.keys()
        assert d["version"] == 1 and d["new"] is True
        assert re.fullmatch(r"[0-9a-f]{64}", d["hash"]), d["hash"]
    assert by_key["intake"]["name"] == "Test: indtag"
    assert by_key["parallel"]["name"] == "Parallelle opgaver"


def test_identical_content_again_is_the_same_version_not_new(api, staff):
    owner = api("owner")
    first = deploy(owner, ("intake.bpmn", INTAKE)).json()["deployed"][0]
    again = deploy(owner, ("intake.bpmn", INTAKE))
    assert again.status_code == 201, again.text
    [second] = again.json()["deployed"]
    assert second == {**first, "new": False}
    listed = owner.get("/process-definitions").json()
    assert [(d["key"], d["versions"]) for d in listed] == [("intake", [1])]


def test_a_changed_file_is_version_2_and_both_versions_stay(api, staff):
    owner = api("owner")
    v1 = deploy(owner, ("intake.bpmn", INTAKE)).json()["deployed"][0]
    changed = INTAKE.replace(b'name="Afgjort"', b'name="Afgjort og meddelt"')
    assert changed != INTAKE
    r = deploy(owner, ("intake.bpmn", changed))
    assert r.status_code == 201, r.text
    [v2] = r.json()["deployed"]
    assert (v2["key"], v2["version"], v2["new"]) == ("intake", 2, True)
    assert v2["hash"] != v1["hash"]
    # deploying version 1's content once more finds version 1 again
    [back] = deploy(owner, ("intake.bpmn", INTAKE)).json()["deployed"]
    assert (back["version"], back["new"], back["hash"]) == (1, False, v1["hash"])
    [entry] = owner.get("/process-definitions").json()
    assert entry == {**entry, "key": "intake", "name": "Test: indtag", "latest_version": 2, "versions": [1, 2]}
    assert owner.get("/process-definitions/intake/versions/1/bpmn").text == INTAKE.decode()
    assert owner.get("/process-definitions/intake/versions/2/bpmn").text == changed.decode()


def test_new_cases_use_the_latest_version_unless_asked(api, staff):
    owner, jc = api("owner"), api("jc")
    deploy(owner, ("intake.bpmn", INTAKE))
    deploy(owner, ("intake.bpmn", INTAKE.replace(b'name="Afgjort"', b'name="Afgjort 2"')))
    assert start(jc, "intake")["version"] == 2
    assert start(jc, "intake", version=1)["version"] == 1
    assert_error(jc.post("/cases", json={"process_key": "intake", "version": 3, "cpr": f.CPR}), 404)


def test_invalid_diagram_is_422_with_problems_and_nothing_is_stored(api, staff):
    owner = api("owner")
    bad = INTAKE.replace(b'name="ydelsesservice"', b'name="ukendt_enhed"')
    r = deploy(owner, ("parallel.bpmn", PARALLEL), ("intake.bpmn", bad))
    detail = assert_error(r, 422)
    assert isinstance(detail, list) and detail
    for problem in detail:
        assert PROBLEM_FIELDS <= problem.keys(), problem
    lane = next(p for p in detail if p["element"] == "lane_ydelsesservice")
    assert lane["file"] == "intake.bpmn"
    assert lane["line"] == line_of(bad, 'id="lane_ydelsesservice"')
    assert "ukendt_enhed" in lane["message"]
    # the valid file in the same request was not stored either
    assert owner.get("/process-definitions").json() == []
    assert_error(owner.get("/process-definitions/parallel"), 404)


@pytest.mark.parametrize("name,raw,line", [
    ("broken.bpmn", b'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="x">\n<unclosed>\n', 4),
    ("notes.txt", b"just text", None),
    ("empty.bpmn", b"", None),
    ("other.bpmn", b'<?xml version="1.0"?>\n<html><body/></html>\n', 2),
])
def test_files_that_are_not_diagrams_are_422(api, staff, name, raw, line):
    owner = api("owner")
    detail = assert_error(deploy(owner, (name, raw)), 422)
    assert isinstance(detail, list) and detail
    assert all(PROBLEM_FIELDS <= p.keys() for p in detail)
    assert detail[0]["file"] == name
    if line is not None:
        assert isinstance(detail[0]["line"], int)
    assert owner.get("/process-definitions").json() == []


@pytest.mark.parametrize("old, new, needle", [
    # the visitation timer of intake.bpmn, made one no case could start
    (b'"P7D"', b'"P999999999D"', "100 years"),
    (b'<bpmn:timeDuration>"P7D"</bpmn:timeDuration>', b'<bpmn:timeCycle>"PT1H"</bpmn:timeCycle>', "no repetitions"),
])
def test_a_timer_no_case_could_start_is_422_naming_element_and_line(api, staff, old, new, needle):
    owner = api("owner")
    assert old in INTAKE
    bad = INTAKE.replace(old, new)
    [problem] = assert_error(deploy(owner, ("intake.bpmn", bad)), 422)
    assert problem["file"] == "intake.bpmn"
    assert problem["element"] and problem["line"] == line_of(bad, new.decode())
    assert needle in problem["message"], problem
    assert owner.get("/process-definitions").json() == []


def test_a_doctype_is_422_and_the_same_process_deploys_again_without_it(api, staff):
    owner = api("owner")
    head, rest = INTAKE.split(b"\n", 1)
    with_doctype = head + b'\n<!DOCTYPE bpmn:definitions [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>\n' + rest
    [problem] = assert_error(deploy(owner, ("intake.bpmn", with_doctype)), 422)
    assert (problem["file"], problem["line"]) == ("intake.bpmn", 2) and "DOCTYPE" in problem["message"]
    assert owner.get("/process-definitions").json() == []
    assert deploy(owner, ("intake.bpmn", INTAKE)).status_code == 201


def test_a_diagram_that_is_not_utf8_is_refused_not_crashed(api, staff):
    owner = api("owner")
    latin1 = INTAKE.decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    detail = assert_error(deploy(owner, ("latin1.bpmn", latin1)), 422)
    assert detail[0]["file"] == "latin1.bpmn" and "UTF-8" in detail[0]["message"]
    assert owner.get("/process-definitions").json() == []


def test_no_files_is_422(api, staff):
    owner = api("owner")
    assert_error(owner.post("/process-definitions", files=[("other", ("a.bpmn", INTAKE, "application/xml"))]), 422)
    assert_error(owner.post("/process-definitions", data={"files": "intake.bpmn"}, files=[("x", ("", b""))]), 422)
    assert owner.get("/process-definitions").json() == []


@pytest.mark.parametrize("kwargs", [
    {"json": {"files": ["intake.bpmn"]}},
    {"content": INTAKE, "headers": {"content-type": "application/xml"}},
    {"data": {"files": "intake.bpmn"}},  # application/x-www-form-urlencoded
    {},
])
def test_a_body_that_is_not_multipart_is_415(api, staff, kwargs):
    owner = api("owner")
    assert_error(owner.post("/process-definitions", **kwargs), 415)
    assert owner.get("/process-definitions").json() == []


def test_a_file_too_large_is_413_and_nothing_is_stored(api, staff, settings):
    owner = api("owner")
    settings.max_upload_bytes = 1024  # the live app reads this very object
    small = WITH_START_FORM
    assert len(small) <= 1024 < len(INTAKE)
    assert_error(deploy(owner, ("small.bpmn", small), ("intake.bpmn", INTAKE)), 413)
    assert owner.get("/process-definitions").json() == []
    r = deploy(owner, ("small.bpmn", small))
    assert r.status_code == 201, r.text


def test_only_process_owners_and_admins_deploy(api, staff):
    for username in ("jc", "jclead", "auditor", "system"):
        detail = assert_error(deploy(api(username), ("intake.bpmn", INTAKE)), 403)
        assert isinstance(detail, str)
    assert api("auditor").get("/process-definitions").json() == []
    assert deploy(api("admin"), ("intake.bpmn", INTAKE)).status_code == 201
    assert deploy(api("owner"), ("parallel.bpmn", PARALLEL)).status_code == 201


def test_list_definitions(api, users):
    owner = api("owner")
    deploy(owner, ("intake.bpmn", INTAKE.replace(b'name="Afgjort"', b'name="Afgjort 2"')))
    r = api("jc").get("/process-definitions")
    assert r.status_code == 200
    listed = r.json()
    assert all(DEFINITION_FIELDS <= d.keys() for d in listed)
    assert [{k: d[k] for k in DEFINITION_FIELDS} for d in listed] == [
        {"key": "intake", "name": "Test: indtag", "latest_version": 2, "versions": [1, 2]},
        {"key": "parallel", "name": "Parallelle opgaver", "latest_version": 1, "versions": [1]},
    ]
    assert owner.get("/process-definitions", params={"limit": 1}).json() == listed[:1]
    assert owner.get("/process-definitions", params={"limit": 1, "offset": 1}).json() == listed[1:]
    assert owner.get("/process-definitions", params={"offset": 2}).json() == []


def test_show_definition_with_and_without_start_form(api, users):
    owner = api("owner")
    deploy(owner, ("ansoegning.bpmn", WITH_START_FORM))
    r = owner.get("/process-definitions/ansoegning")
    assert r.status_code == 200, r.text
    shown = r.json()
    assert DEFINITION_FIELDS | {"start_form"} <= shown.keys()
    assert (shown["key"], shown["name"], shown["latest_version"], shown["versions"]) == (
        "ansoegning", "Ansøgning med startformular", 1, [1])
    form = shown["start_form"]
    assert form["key"] == "t_note"
    assert [{k: fld[k] for k in FORM_FIELD_FIELDS} for fld in form["fields"]] == [
        {"name": "note", "label": "Notat", "type": "text", "required": False, "choices": None}]

    intake = api("jc").get("/process-definitions/intake").json()
    assert (intake["key"], intake["latest_version"], intake["versions"]) == ("intake", 1, [1])
    assert "start_form" in intake and intake["start_form"] is None


def test_start_form_checks_the_data_a_case_starts_with(api, users):
    deploy(api("owner"), ("ansoegning.bpmn", WITH_START_FORM))
    jc = api("jc")
    case = start(jc, "ansoegning", data={"note": "Ansøgt via borger.dk"})
    assert case["data"] == {"note": "Ansøgt via borger.dk"}
    detail = assert_error(jc.post("/cases", json={"process_key": "ansoegning", "cpr": f.CPR,
                                                  "data": {"note": 17, "ukendt": "x"}}), 422)
    assert {d["field"] for d in detail} == {"note", "ukendt"}
    assert all(d["message"] for d in detail)
    assert [c["id"] for c in api("auditor").get("/cases").json()] == [case["id"]]


def test_bpmn_xml_of_a_version(api, users):
    r = api("jc").get("/process-definitions/intake/versions/1/bpmn")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    assert r.content == INTAKE


@pytest.mark.parametrize("path", [
    "/process-definitions/ukendt",
    "/process-definitions/ukendt/versions/1/bpmn",
    "/process-definitions/intake/versions/2/bpmn",
    "/process-definitions/intake/versions/0/bpmn",
    "/process-definitions/intake/versions/99999999999999999999/bpmn",
])
def test_unknown_key_or_version_is_404(api, users, path):
    assert isinstance(assert_error(api("jc").get(path), 404), str)


def test_a_version_that_is_not_a_number_is_422(api, users):
    assert_error(api("jc").get("/process-definitions/intake/versions/latest/bpmn"), 422)


def test_list_limit_is_at_most_500(api, users):
    owner = api("owner")
    assert owner.get("/process-definitions", params={"limit": 500}).status_code == 200
    for params in ({"limit": 501}, {"limit": 0}, {"offset": -1}, {"limit": "many"}):
        assert_error(owner.get("/process-definitions", params=params), 422)
