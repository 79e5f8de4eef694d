"""A changed kontanthjælp deployed beside running cases: the diff, where the cases stand, forms that hold.

Cases of version 1 (tests/journeys/kh_v1.py) stand on its steps (tilmelding, visitation, waiting for the
application message, jobsamtale, tilbudsplan, and inside the placement call
activity); then tests/journeys/changes.py's version 2 is deployed with its
forms in the upload.
"""
from __future__ import annotations

from datetime import date

import pytest

from engine import bundles, catalog, clock, diff, versions
from engine.errors import FormRejected
from tests import factories as f
from tests.journeys import changes
from tests.journeys.kh_v1 import PROCESSES_V1
from tests.journeys.kh_v1 import JourneyV1 as Journey
from tests.journeys.test_kontanthjaelp import RULES, at

MONDAY = date(2026, 9, 7)
VISITATION = {"visitationsdato": "2026-09-09", "til_raadighed": True, "kategori": "jobparat",
              "problemer_ud_over_ledighed": False, "cv_frist": "2026-09-28", "vurdering": "Står til rådighed"}


class Cases(Journey):
    """Several citizens' cases side by side: `cpr` says whose case the next start is."""

    cpr = f.CPR

    def start(self, when, **data):
        with clock.at(when):
            case = f.start_case(self.session, "kontanthjaelp", actor=self.users["jc"], cpr=self.cpr, data=data,
                                rules=RULES)
        self.case_id = case.id
        return case

    def register(self):
        self.do("jc", "tilmelding", {"tilmeldingsdato": MONDAY.isoformat(), "jobnet_tilmeldt": True}, at(MONDAY))


@pytest.fixture
def users(seed, session):
    """The standard users, with version 1 of kontanthjælp deployed (tests/journeys/kh_v1.py)."""
    return seed(*PROCESSES_V1, rules=RULES) | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
    }


@pytest.fixture
def spread(db, session, users):
    """One v1 case on each of six places; returns the driver and {place: case id}."""
    j = Cases(db, session, users)
    placed = {}
    for place, cpr in (("tilmelding", "010190-1234"), ("visitation", "241182-1111"), ("ansoegning", "290200-4123")):
        j.cpr = cpr
        j.start(at(MONDAY), henvendelsesdato=MONDAY.isoformat(), forsikret=False)
        if place != "tilmelding":
            j.register()
        if place == "ansoegning":
            j.do("jc", "visitation", VISITATION, at(date(2026, 9, 9)))
        placed[place] = j.case_id
    for place, cpr, kategori in (("jobsamtale", "121212-1212", "jobparat"),
                                 ("tilbudsplan", "010101-1111", "aktivitetsparat"),
                                 ("placering", "020202-2222", "aktivitetsparat")):
        j.cpr = cpr
        j.grant(j.to_decision(MONDAY, kategori=kategori))
        if place == "placering":
            j.do("jc", "tilbudsplan", {"aktivitetsparat_forloeb": "tilbud", "tilbud": "praktik", "mentor_behov": False,
                                       "koordinerende_sagsbehandler": "Hanne", "plan": "Praktik"},
                 at(date(2026, 9, 16)))
        placed[place] = j.case_id
    return j, placed


def deploy_v2(session):
    deployed = catalog.deploy(session, changes.deployment(), rules=RULES, actor="procesejer")
    session.commit()
    [v2] = [d for d in deployed if d.key == "kontanthjaelp"]
    assert (v2.version, v2.new) == (2, True)
    return v2


def test_the_diff_of_a_changed_kontanthjaelp_and_the_cases_it_reaches(spread, session):
    j, placed = spread
    assert j.open(placed["placering"]) == ["match"]
    detail = versions.version_detail(session, "kontanthjaelp", 1)
    assert detail.running_cases == 6
    standing = {s.element_id: s.cases for s in detail.waiting_at}
    assert {k: standing.get(k) for k in ("tilmelding", "visitation", "ansoegning_modtaget", "jobsamtale",
                                         "tilbudsplan", "match")} == {
        "tilmelding": 1, "visitation": 1, "ansoegning_modtaget": 1, "jobsamtale": 1, "tilbudsplan": 1, "match": 1}
    deploy_v2(session)
    result = diff.diff_versions(session, "kontanthjaelp", 1, 2)
    assert [(e.element_id, e.name, e.type) for e in result.added] == [
        (changes.NEW_STEP, "Opfølgende samtale", "userTask")]
    assert result.removed == []
    assert {e.element_id: list(e.attributes) for e in result.changed} == changes.EXPECTED_CHANGED
    assert result.forms_changed == ["kh_visitation"] and result.forms_added == ["kh_opfoelgende_samtale"]
    [form_change] = result.form_changes
    assert (form_change["fields_added"], form_change["made_required"]) == (["samtaleform"], ["problemomraader"])
    assert [(a.element_id, a.cases) for a in result.affected] == [
        ("jobsamtale", 1), ("tilbudsplan", 1), ("visitation", 1)]
    assert versions.version_detail(session, "kontanthjaelp", 2).running_cases == 0


def test_the_v1_case_keeps_v1s_visitation_form_and_a_new_case_gets_v2s(spread, session):
    j, placed = spread
    deploy_v2(session)
    old_task = j.task("visitation", placed["visitation"])
    old_form = bundles.task_form(session, old_task, forms_dir=RULES.forms_dir)
    assert "samtaleform" not in [fld.name for fld in old_form.fields]
    j.cpr = "030303-3333"
    new_case = j.start(at(MONDAY), henvendelsesdato=MONDAY.isoformat(), forsikret=False)
    assert new_case.version == 2
    j.register()
    new_task = j.task("visitation", new_case.id)
    new_form = bundles.task_form(session, new_task, forms_dir=RULES.forms_dir)
    assert {fld.name: fld.required for fld in new_form.fields}["samtaleform"] is True
    with pytest.raises(FormRejected) as refused:  # v2's form: the new required fields are missing
        j.do("jc", "visitation", VISITATION, at(date(2026, 9, 9)), case_id=new_case.id)
    session.rollback()
    assert {e["field"] for e in refused.value.detail} == {"samtaleform", "problemomraader"}
    j.do("jc", "visitation", VISITATION, at(date(2026, 9, 9)), case_id=placed["visitation"])  # v1's form holds
    assert j.open(placed["visitation"]) == []  # on v1 there is no new step: it waits for the application
    j.do("jc", "visitation", {**VISITATION, "samtaleform": "telefon", "problemomraader": "ingen"},
         at(date(2026, 9, 9)), case_id=new_case.id)
    assert j.open(new_case.id) == [changes.NEW_STEP]
