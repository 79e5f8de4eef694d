"""The rule set and the koordinerende sagsbehandler in the web UI over real HTTP (httpx, no browser):
Opret sag with a rule set, the task form's staff and rule-set fields, the case page header and the team
lead's change (CSRF, Danish errors), and the name on another unit's task page; the last test does the
visitation and the change in Chromium. tests/data/trial.bpmn."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, Case, HumanTask
from engine.settings import Settings
from tests import factories as f
from tests.conftest import DATA, TEST_SECRET

from .conftest import csrf_of
from .test_web_handovers import text_of


@pytest.fixture
def settings(db) -> Settings:
    return Settings(database_url=db.url, secret_key=TEST_SECRET, forms_dir=DATA / "forms",
                    deadlines_file=DATA / "deadlines.toml", demo_mode=False)


@pytest.fixture
def trial_users(seed, session, live):
    return seed("trial.bpmn") | {"sofcw": f.add_user(session, "sofcw", "caseworker", ["sof"])}


def _start(web, rule_set: str = "", reason: str = ""):
    jc = web("jc")
    page = jc.get("/sager/ny?forloeb=trial")
    assert page.status_code == 200 and "Regelsæt" in page.text and "Testforsøg" in page.text
    return jc, jc.post("/sager/ny", data={"csrf_token": csrf_of(page.text), "forloeb": "trial", "cpr": f.CPR,
                                          "regelsaet": rule_set, "regelsaet_begrundelse": reason})


def _task(session, case_id, element) -> HumanTask:
    session.expire_all()
    return session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.element_id == element,
                                                   HumanTask.status == "open")).one()


def test_opret_sag_chooses_a_rule_set_the_case_page_shows(trial_users, web, session):
    jc, r = _start(web, "forsoeg", "Med i forsøget")
    assert r.status_code == 303, r.text
    page = jc.get(r.headers["location"]).text
    assert re.search(r'<dd id="regelsaet">Testforsøg</dd>', page)
    assert '<dd id="koordinator">Ikke udpeget</dd>' in page
    case_id = r.headers["location"].rsplit("/", 1)[1]
    assert session.get(Case, case_id).rule_set == "forsoeg"


def test_opret_sag_with_an_unknown_rule_set_comes_back_in_danish_and_starts_nothing(trial_users, web, session):
    before = session.scalar(select(Case.id).limit(1))
    _, r = _start(web, "frikomune")
    assert r.status_code == 422
    assert "Regelsæt: &#39;frikomune&#39; er ikke et kendt regelsæt" in r.text
    assert 'href="#felt-regelsaet"' in r.text
    session.expire_all()
    assert session.scalar(select(Case.id).limit(1)) == before


def test_the_visitation_form_chooses_the_coordinator_every_unit_then_sees(trial_users, web, session):
    jc, r = _start(web)
    case_id = r.headers["location"].rsplit("/", 1)[1]
    task = _task(session, case_id, "visitation")
    page = jc.get(f"/opgaver/{task.id}").text
    assert '<option value="jc2">jc2</option>' in page and '<option value="forsoeg">Testforsøg</option>' in page
    r = jc.post(f"/opgaver/{task.id}", data={"csrf_token": csrf_of(page), "f.kategori": "aktivitetsparat",
                                             "f.koordinerende_sagsbehandler": "sofcw"})
    assert r.status_code == 422
    assert "Koordinerende sagsbehandler: &#39;sofcw&#39; er ikke sagsbehandler eller teamleder i jobcenter" in r.text
    r = jc.post(f"/opgaver/{task.id}", data={"csrf_token": csrf_of(page), "f.kategori": "aktivitetsparat",
                                             "f.koordinerende_sagsbehandler": "jc2", "f.regelsaet": "forsoeg"})
    assert r.status_code == 303, r.text
    sof_task = _task(session, case_id, "sof_vurdering")
    sof_page = web("sofcw").get(f"/opgaver/{sof_task.id}").text
    assert '<dd id="koordinator">jc2</dd>' in sof_page and '<dd id="regelsaet">Testforsøg</dd>' in sof_page


def test_the_case_history_names_the_rule_set_and_the_coordinator_chosen_in_danish(trial_users, web, session):
    jc, r = _start(web, "forsoeg", "Med i forsøget")
    case_id = r.headers["location"].rsplit("/", 1)[1]
    task = _task(session, case_id, "visitation")
    r = jc.post(f"/opgaver/{task.id}", data={"csrf_token": csrf_of(jc.get(f"/opgaver/{task.id}").text),
                                             "f.kategori": "aktivitetsparat", "f.koordinerende_sagsbehandler": "jc2"})
    assert r.status_code == 303, r.text
    history = text_of(jc.get(f"/sager/{case_id}").text).split("Forløbet indtil nu", 1)[1]
    assert "Regelsæt valgt: Testforsøg" in history and "Begrundelse Med i forsøget" in history
    assert "Koordinerende sagsbehandler valgt: jc2" in history
    assert "Hændelse" not in history and "forsoeg" not in history  # a Danish title, the rule set's label


def test_a_jobcenter_team_lead_changes_the_coordinator_on_the_case_page(trial_users, web, session):
    case = f.start_case(session, "trial", actor=trial_users["jc"])
    lead = web("jclead")
    page = lead.get(f"/sager/{case.id}").text
    assert "Gem koordinerende sagsbehandler" in page
    r = lead.post(f"/sager/{case.id}/koordinator", data={"koordinator": "jc2"})  # no CSRF token
    assert r.status_code == 403
    r = lead.post(f"/sager/{case.id}/koordinator", data={"csrf_token": csrf_of(page), "koordinator": "ingen"})
    assert r.status_code == 422 and "Koordinerende sagsbehandler: der er ingen bruger &#39;ingen&#39;" in r.text
    r = lead.post(f"/sager/{case.id}/koordinator", data={"csrf_token": csrf_of(page), "koordinator": ""})
    assert r.status_code == 422 and "vælg en medarbejder" in r.text
    session.expire_all()
    assert session.get(Case, case.id).coordinator_id is None
    r = lead.post(f"/sager/{case.id}/koordinator", data={"csrf_token": csrf_of(page), "koordinator": "jc2"})
    assert r.status_code == 303
    assert '<dd id="koordinator">jc2</dd>' in lead.get(f"/sager/{case.id}").text
    audit = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                     AuditEvent.type == "coordinator_set")).one()
    assert audit.actor == "jclead" and audit.details["to"] == "jc2"
    caseworker = web("jc")
    assert "Gem koordinerende sagsbehandler" not in caseworker.get(f"/sager/{case.id}").text
    r = caseworker.post(f"/sager/{case.id}/koordinator",
                        data={"csrf_token": csrf_of(caseworker.get(f"/sager/{case.id}").text), "koordinator": "jc"})
    assert r.status_code == 403


def test_in_a_browser_the_visitation_names_the_coordinator_and_a_team_lead_changes_it(trial_users, session,
                                                                                      new_page):
    case = f.start_case(session, "trial", actor=trial_users["jc"])
    task = _task(session, case.id, "visitation")
    page = new_page()
    _login(page, "jc")
    page.goto(f"/opgaver/{task.id}")
    page.get_by_label("Kategori").select_option(label="Aktivitetsparat")
    page.get_by_role("button", name="Udfør opgaven").click()
    assert "skal udfyldes" in page.locator("#felt-koordinerende_sagsbehandler-fejl").inner_text()
    page.get_by_label("Koordinerende sagsbehandler").select_option(label="jc2")
    page.get_by_label("Regelsæt").select_option(label="Testforsøg")
    page.get_by_role("button", name="Udfør opgaven").click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/sager/{case.id}")
    assert page.locator("#koordinator").inner_text() == "jc2"
    assert page.locator("#regelsaet").inner_text() == "Testforsøg"
    lead = new_page()
    _login(lead, "jclead")
    lead.goto(f"/sager/{case.id}")
    lead.get_by_label("Medarbejder i jobcentret").select_option(label="jc")
    lead.get_by_role("button", name="Gem koordinerende sagsbehandler").click()
    assert lead.locator("#koordinator").inner_text() == "jc"
    assert "Koordinerende sagsbehandler er nu jc." in lead.get_by_role("status").inner_text()


def _login(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(f.PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(re.compile(r"/$"))
