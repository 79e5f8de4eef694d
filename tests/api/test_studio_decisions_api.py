"""Decision tables in studio drafts over real HTTP: the deploy's DMN checks in Danish, saving, publishing.

sygedagpenge (processes/sygedagpenge, with its decision table kategori.dmn)
is deployed as version 1; its table is edited in a draft, checked, saved
with the draft's revision and published with it.
"""
from __future__ import annotations

import pytest

from engine import catalog
from engine.models import DefinitionDecision
from tests import factories as f
from tests.journeys.test_sygedagpenge import RULES, SYGEDAGPENGE

from .helpers import assert_error

TABLE = "sygedagpenge/kategori.dmn"
KATEGORI = (SYGEDAGPENGE / "kategori.dmn").read_text(encoding="utf-8")
NEW_RULE = KATEGORI.replace('<outputEntry id="r2_out"><text>"1"</text>', '<outputEntry id="r2_out"><text>"2"</text>')


@pytest.fixture
def sygedagpenge(seed, settings):
    settings.forms_dir = f.ROOT / "forms"
    settings.deadlines_file = f.ROOT / "config" / "deadlines.toml"
    settings.processes_dir = f.ROOT / "processes"
    return seed(SYGEDAGPENGE, rules=RULES)


def _bpmn(session) -> str:
    return catalog.latest_definition(session, "sygedagpenge").bpmn_xml


def test_the_journeys_tables_come_with_their_source(api, sygedagpenge, session):
    owner = api("owner")
    body = owner.get("/studio/decisions/sygedagpenge").json()
    assert body == {"decisions": {TABLE: KATEGORI}, "edited": []}
    # the deploy keeps the source of the table each version was compiled with
    latest = catalog.latest_definition(session, "sygedagpenge")
    assert [r.content for r in session.query(DefinitionDecision).filter_by(definition_id=latest.id)] == [KATEGORI]
    assert_error(owner.get("/studio/decisions/ukendt"), 404)
    assert_error(api("jc").get("/studio/decisions/sygedagpenge"), 403)


def test_bad_entries_an_unsupported_hit_policy_and_a_missing_input_are_listed_in_danish(api, sygedagpenge, session):
    owner = api("owner")
    bad = (KATEGORI.replace('hitPolicy="UNIQUE"', 'hitPolicy="ANY"')
           .replace("<text>forventede_uger</text>", "<text></text>")
           .replace('<outputEntry id="r2_out"><text>"1"</text>', '<outputEntry id="r2_out"><text>"1</text>')
           .replace('name="foreslaaet_kategori"', 'name=""'))
    answer = owner.post("/studio/check", json={"bpmn": _bpmn(session), "decisions": {TABLE: bad}}).json()
    found = {p["element"]: p for p in answer["problems"] if p.get("file") == TABLE}
    assert "hit policy »ANY« understøttes ikke" in found["sdp_kategori"]["message"]
    assert found["sdp_kategori"]["line"] == 4 and found["sdp_kategori"]["severity"] == "error"
    assert "Inputtet »Forventet varighed (uger)« mangler sit udtryk" in found["in_uger"]["message"]
    assert found["r2_out"]["message"].startswith("Cellen »\"1« kan ikke læses")
    assert "Outputtet »Foreslået kategori« mangler et navn" in found["out_kategori"]["message"]
    # a FEEL "any" is named too
    dash = KATEGORI.replace('<inputEntry id="r1_uger"><text></text>', '<inputEntry id="r1_uger"><text>-</text>')
    answer = owner.post("/studio/check", json={"bpmn": _bpmn(session), "decisions": {TABLE: dash}}).json()
    assert [p["element"] for p in answer["problems"] if p.get("file") == TABLE] == ["r1_uger"]
    # the unchanged table has no findings
    answer = owner.post("/studio/check", json={"bpmn": _bpmn(session), "decisions": {TABLE: KATEGORI}}).json()
    assert [p for p in answer["problems"] if p.get("file")] == []


def test_what_is_no_dmn_is_refused_before_anything_is_written(api, sygedagpenge, session):
    owner = api("owner")
    for decisions in ({TABLE: "<definitions"}, {"../kategori.dmn": KATEGORI}, {TABLE: "<x/>"}, {TABLE: 5}):
        r = owner.put("/studio/drafts/sygedagpenge", json={"bpmn": _bpmn(session), "revision": None,
                                                            "decisions": decisions})
        assert r.status_code == 422, (decisions, r.text)
    assert_error(owner.get("/studio/drafts/sygedagpenge"), 404)


def test_an_edited_table_is_saved_with_the_draft_kept_by_other_saves_and_published_with_it(api, sygedagpenge, session):
    owner = api("owner")
    bpmn = _bpmn(session)
    first = owner.put("/studio/drafts/sygedagpenge", json={"bpmn": bpmn, "revision": None,
                                                            "decisions": {TABLE: NEW_RULE}}).json()
    assert first["revision"] == 1 and first["decisions"] == {TABLE: NEW_RULE}
    # a save that leaves decisions out (the form editor's) keeps the edited table
    second = owner.put("/studio/drafts/sygedagpenge", json={"bpmn": bpmn, "forms": {}, "revision": 1}).json()
    assert second["revision"] == 2 and second["decisions"] == {TABLE: NEW_RULE}
    stale = owner.put("/studio/drafts/sygedagpenge", json={"bpmn": bpmn, "revision": 1, "decisions": {}})
    assert_error(stale, 409)
    assert owner.get("/studio/decisions/sygedagpenge").json() == {"decisions": {TABLE: NEW_RULE}, "edited": [TABLE]}
    preview = owner.post("/studio/drafts/sygedagpenge/publish-preview").json()
    assert preview["decisions_changed"] == [TABLE] and preview["problems"] == []
    published = owner.post("/studio/drafts/sygedagpenge/publish", json={"revision": 2})
    assert published.status_code == 201 and published.json()["version"] == 2
    session.expire_all()
    latest = catalog.latest_definition(session, "sygedagpenge")
    assert catalog.stored_decisions(session, latest.id) == {TABLE: NEW_RULE}
    assert '"2"' in latest.spec_json.replace('\\"', '"')  # what the engine evaluates
    # the next draft builds on the published table, not on the older file on disk
    assert owner.get("/studio/decisions/sygedagpenge").json() == {"decisions": {TABLE: NEW_RULE}, "edited": []}
    renamed = bpmn.replace('name="Foreslå kategori"', 'name="Foreslå en kategori"')
    owner.put("/studio/drafts/sygedagpenge", json={"bpmn": renamed, "revision": None})
    assert owner.post("/studio/drafts/sygedagpenge/publish", json={"revision": 1}).json()["version"] == 3
    session.expire_all()
    latest = catalog.latest_definition(session, "sygedagpenge")
    assert catalog.stored_decisions(session, latest.id) == {TABLE: NEW_RULE}
