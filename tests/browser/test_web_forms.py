"""Form errors in the web UI: Danish, at the field, the input kept, nothing in the case history; prefilled fields.

The real kontanthjælp journey (processes/, forms/) is deployed; the steps
before the one under test are done through the engine, the step under test
through the pages over real HTTP (and, for focus and axe-core, in Chromium).
"""
from __future__ import annotations

from datetime import date

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.models import AuditEvent
from tests import factories as f
from tests.journeys.test_kontanthjaelp import at

from .conftest import csrf_of
from .test_studio_browser import AXE, _axe
from .test_web_browser import _login
from .test_web_handovers import journey, text_of, to_application, to_plan  # noqa: F401  (the fixture)
from .test_web_http import _open_task, _valid

ENGLISH = ("Error", "error", "evaluating", "required", "must be", "not found", "may not")


def to_check(j) -> str:
    """The case at Ydelsesservice's "Kontrollér ansøgning og dokumentation"."""
    to_application(j)
    j.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": "2026-09-10"}, at(date(2026, 9, 10)))
    return j.task("kontroller_ansoegning").id


def refused_types(j, task_id: str) -> list[str]:
    return [e.type for e in j.events() if e.task_id == task_id and e.type != "task_created"] + \
        [e.type for e in j.events() if "error" in e.type or "incident" in e.type]


def test_complete_without_the_date_comes_back_in_danish_with_the_input_kept(journey, web, session):
    task_id = to_check(journey)
    ys = web("ys")
    page = ys.get(f"/opgaver/{task_id}")
    r = ys.post(f"/opgaver/{task_id}", data={"csrf_token": csrf_of(page.text), "f.ansoegning_komplet": "ja",
                                             "f.manglende_dokumentation": "Lønsedler <3 mdr."})
    assert r.status_code == 422, r.text
    shown = text_of(r.text)
    assert "Dato hvor ansøgningen blev komplet: skal udfyldes, når »Ansøgningen er komplet« er Ja" in shown, shown
    assert 'href="#felt-ansoegning_komplet_dato"' in r.text and "autofocus" in r.text
    assert 'value="ja" checked' in r.text and "Lønsedler &lt;3 mdr." in r.text
    assert not [w for w in ENGLISH if w in shown]
    session.expire_all()
    assert journey.open_of("ydelsesservice") == ["kontroller_ansoegning"] and refused_types(journey, task_id) == []


@pytest.mark.parametrize(("typed", "said"), [
    ("2026-09-12", "Dato hvor ansøgningen blev komplet: må ikke ligge efter i dag"),
])
def test_a_date_rule_of_the_form_says_what_is_wrong_in_danish(journey, web, session, typed, said):
    task_id = to_check(journey)  # "today" is 11 Sep 2026 (the journey fixture's clock)
    ys = web("ys")
    page = ys.get(f"/opgaver/{task_id}")
    r = ys.post(f"/opgaver/{task_id}", data={"csrf_token": csrf_of(page.text), "f.ansoegning_komplet": "ja",
                                             "f.ansoegning_komplet_dato": typed})
    assert r.status_code == 422 and said in text_of(r.text), text_of(r.text)
    assert f'value="{typed}"' in r.text
    ok = ys.post(f"/opgaver/{task_id}", data={"csrf_token": csrf_of(page.text), "f.ansoegning_komplet": "ja",
                                              "f.ansoegning_komplet_dato": "2026-09-10"})
    assert ok.status_code == 303, text_of(ok.text)
    assert journey.open_of("ydelsesservice") == ["ydelsesafgoerelse"]  # the contact course runs beside (v2)


def to_conversation(j) -> str:
    """A jobparat kontanthjælp case visited on Wednesday 9 September: its first job conversation is open."""
    j.start(at(date(2026, 9, 7)), henvendelsesdato="2026-09-07", forsikret=False)
    j.do("jc", "tilmelding", {"tilmeldingsdato": "2026-09-07", "jobnet_tilmeldt": True}, at(date(2026, 9, 7)))
    j.do("jc", "visitation", {"visitationsdato": "2026-09-09", "til_raadighed": True, "kategori": "jobparat",
                              "problemer_ud_over_ledighed": False, "cv_frist": "2026-09-28",
                              "vurdering": "Står til rådighed"}, at(date(2026, 9, 9)))
    return j.task("jobsamtale_1").id


def test_a_conversation_dated_before_its_task_was_created_is_refused_on_the_page_and_by_the_api(
        journey, web, live, session):
    """`not_before_task` (issue 14): the conversation a task asks for cannot have been held before the task
    existed, so the legal clock that counts from it cannot be set back; refused in Danish at the field on the
    task page, with 422 naming the field in the API, and nothing happens to the case."""
    task_id = to_conversation(journey)  # created 9 Sep; "today" is 11 Sep
    jc = web("jc")
    page = jc.get(f"/opgaver/{task_id}")
    form = {"csrf_token": csrf_of(page.text), "f.samtale_referat": "Søger job", "f.jobsamtale_udfald": "ny_samtale"}
    r = jc.post(f"/opgaver/{task_id}", data={**form, "f.samtaledato": "2026-09-08"})
    assert r.status_code == 422, r.text
    shown = text_of(r.text)
    assert "Samtalen holdt den: må ikke ligge før opgaven blev oprettet (9. sep. 2026)" in shown, shown
    assert 'value="2026-09-08"' in r.text and "Søger job" in r.text
    assert not [w for w in ENGLISH if w in shown]
    with httpx.Client(base_url=f"{live}/api", headers={"Authorization": f"Bearer {f.token(live, 'jc')}"},
                      timeout=30, verify=f.TLS) as client:
        bad = client.post(f"/tasks/{task_id}/complete", json={"data": {
            "samtaledato": "2026-09-08", "samtale_referat": "Søger job", "jobsamtale_udfald": "ny_samtale"}})
    assert bad.status_code == 422, bad.text
    assert [d["field"] for d in bad.json()["detail"]] == ["samtaledato"]
    assert "before the task was created (2026-09-09)" in bad.json()["detail"][0]["message"]
    future = jc.post(f"/opgaver/{task_id}", data={**form, "f.samtaledato": "2026-09-12"})
    assert future.status_code == 422 and "må ikke ligge efter i dag" in text_of(future.text)
    session.expire_all()
    assert journey.open_of("jobcenter") == ["cv_paa_jobnet", "jobsamtale_1"] and refused_types(journey, task_id) == []
    ok = jc.post(f"/opgaver/{task_id}", data={**form, "f.samtaledato": "2026-09-09"})  # the day it was created
    assert ok.status_code == 303, text_of(ok.text)
    session.expire_all()
    assert "jobsamtale_2" in journey.open_of("jobcenter")


def test_403_and_404_pages_speak_danish(journey, web):
    to_application(journey)
    vs = web("vs")
    forbidden = vs.get(f"/sager/{journey.case_id}")
    missing = vs.get("/sager/00000000-0000-0000-0000-000000000000")
    no_task = vs.get("/opgaver/00000000-0000-0000-0000-000000000000")
    for r, status, title in ((forbidden, 403, "Adgang nægtet"), (missing, 404, "Siden findes ikke"),
                             (no_task, 404, "Siden findes ikke")):
        shown = text_of(r.text)
        assert r.status_code == status and title in shown, (r.status_code, shown)
        assert not [w for w in ENGLISH if w in shown], shown


def test_a_field_the_case_already_holds_is_prefilled(journey, web, session):
    j = journey
    j.start(at(date(2026, 9, 7)), henvendelsesdato="2026-09-07", forsikret=True, akasse="3F A-kasse")
    page = web("jc").get(f"/opgaver/{j.task('henvis_akasse').id}")
    assert page.status_code == 200
    assert 'name="f.akasse" value="3F A-kasse"' in page.text  # given at creation
    assert 'name="f.henvist_dato" value=""' in page.text        # nothing held: empty


def test_a_refused_form_in_the_browser_focuses_the_danish_summary_and_keeps_the_input(journey, new_page, session):
    task_id = to_check(journey)
    page = new_page()
    _login(page, "ys")
    page.goto(f"/opgaver/{task_id}")
    page.check("#felt-ansoegning_komplet")
    page.fill("#felt-manglende_dokumentation", "Kontoudtog for august")
    page.click("button:has-text('Udfør opgaven')")
    # autofocus is applied by the browser after load: wait for it rather than read it once
    expect(page.locator("#fejlopsummering")).to_be_focused()
    summary = page.inner_text(".error-summary")
    assert "Formularen har fejl" in summary and "skal udfyldes, når »Ansøgningen er komplet« er Ja" in summary
    assert page.is_checked("#felt-ansoegning_komplet")
    assert page.input_value("#felt-manglende_dokumentation") == "Kontoudtog for august"
    page.click(".error-summary a")  # the summary's link goes to the field
    expect(page.locator("#felt-ansoegning_komplet_dato")).to_be_focused()
    if not AXE.exists():
        pytest.skip(f"axe-core not found at {AXE} (make install brings it from npm)")
    assert _axe(page) == []
    session.expire_all()
    assert journey.open_of("ydelsesservice") == ["kontroller_ansoegning"] and refused_types(journey, task_id) == []


def test_opret_sag_says_an_impossible_cpr_date_and_every_other_field_error_at_once(journey, web, session):
    jc = web("jc")
    page = jc.get("/sager/ny?forloeb=kontanthjaelp")
    assert page.status_code == 200
    r = jc.post("/sager/ny", data={"csrf_token": csrf_of(page.text), "forloeb": "kontanthjaelp", "cpr": "3201901234",
                                   "f.forsikret": "ja"})
    assert r.status_code == 422
    shown = text_of(r.text)
    assert "de første 6 cifre skal være en dato, der findes" in shown
    assert "Dato for første henvendelse: skal udfyldes" in shown
    assert "A-kasse: skal udfyldes, når »Forsikret i en a-kasse« er Ja" in shown
    assert 'value="ja" checked' in r.text and "3201901234" not in r.url.query.decode()
    assert not [w for w in ENGLISH if w in shown]


def test_danish_numbers_are_read_and_shown_in_danish(web_users, web, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    task = _open_task(session, case.id)
    jc = web("jc")
    r = jc.post(f"/opgaver/{task.id}", data=_valid(csrf_of(jc.get(f"/opgaver/{task.id}").text), **{"f.timer": "2,5"}))
    assert r.status_code == 303, text_of(r.text)
    task = _open_task(session, case.id)
    ys = web("ys")
    form = ys.get(f"/opgaver/{task.id}").text
    bad = ys.post(f"/opgaver/{task.id}", data={"csrf_token": csrf_of(form), "f.afgoerelse": "bevilget",
                                                 "f.sats": "123.456,50", "f.begrundelse": "x"})
    assert bad.status_code == 422 and "Sats (kr. pr. måned): må højst være 100.000" in text_of(bad.text)
    assert 'value="123.456,50"' in bad.text
    r = ys.post(f"/opgaver/{task.id}", data={"csrf_token": csrf_of(form), "f.afgoerelse": "bevilget",
                                               "f.sats": "12.345,50", "f.begrundelse": "x"})
    assert r.status_code == 303, text_of(r.text)
    session.expire_all()
    data = [e.details["data"] for e in session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.type == "task_completed").order_by(AuditEvent.seq))]
    assert data[0]["timer"] == 2.5 and data[1]["sats"] == 12345.5
    assert "jc (sagsbehandler, Jobcenter)" in text_of(jc.get("/").text)  # the header names the unit
    shown = text_of(web("auditor").get(f"/sager/{case.id}").text)
    assert "12.345,5" in shown and "2,5" in shown and "12345" not in shown


def test_the_api_refuses_what_the_form_rules_refuse_per_field_and_nothing_changes(journey, web, session):
    task_id = to_check(journey)
    api = web()
    token = api.post("/api/auth/token", data={"username": "ys", "password": f.PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    r = api.post(f"/api/tasks/{task_id}/complete", json={"data": {"ansoegning_komplet": True}}, headers=auth)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [{"field": "ansoegning_komplet_dato", "message":
                                   "Dato hvor ansøgningen blev komplet: skal udfyldes "
                                   "(required when »Ansøgningen er komplet« is Ja)"}]
    rules = {f["name"]: f for f in api.get(f"/api/tasks/{task_id}", headers=auth).json()["form"]["fields"]}
    assert rules["ansoegning_komplet_dato"]["required_when"] == {"field": "ansoegning_komplet", "in": [True]}
    session.expire_all()
    assert journey.open_of("ydelsesservice") == ["kontroller_ansoegning"] and refused_types(journey, task_id) == []
    r = api.post(f"/api/tasks/{task_id}/complete", json={"data": {"ansoegning_komplet": True,
                                                                  "ansoegning_komplet_dato": "2026-09-11"}},
                 headers=auth)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("note", "field_said", "general_said"), [
    ("", "Notat: skal udfyldes, før sagen kan gå videre.", None),
    ("måske", None, "Sagen kan ikke gå videre med disse oplysninger"),
])
def test_what_the_diagram_still_refuses_comes_back_on_the_form_in_danish_and_not_in_the_history(
        seed, live, web, session, note, field_said, general_said):
    users = seed("web_refuse.bpmn")
    case = f.start_case(session, "web_refuse", actor=users["jc"], data={})
    task = _open_task(session, case.id)
    jc = web("jc")
    r = jc.post(f"/opgaver/{task.id}", data={"csrf_token": csrf_of(jc.get(f"/opgaver/{task.id}").text),
                                             "f.note": note})
    assert r.status_code == 422, r.text
    shown = text_of(r.text)
    assert "Formularen har fejl" in shown and not [w for w in ENGLISH if w in shown], shown
    if field_said:
        assert field_said in shown and 'href="#felt-note"' in r.text
    else:
        assert general_said in shown and f'value="{note}"' in r.text
    session.expire_all()
    assert _open_task(session, case.id).id == task.id
    types = [e.type for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))]
    assert "task_completed" not in types and "process_error" not in types



def test_a_step_from_outside_the_diagram_cannot_take_comes_back_on_its_form_in_danish(seed, live, web, session):
    users = seed("web_refuse_message.bpmn")
    case = f.start_case(session, "web_refuse_message", actor=users["jc"], data={})
    jc = web("jc")
    url = f"/sager/{case.id}/registrer/svar"
    r = jc.post(url, data={"csrf_token": csrf_of(jc.get(url).text), "f.note": "måske"})
    assert r.status_code == 422, r.text
    shown = text_of(r.text)
    assert "Sagen kan ikke gå videre med disse oplysninger" in shown and 'value="måske"' in r.text
    assert not [w for w in ENGLISH if w in shown], shown
    session.expire_all()
    types = [e.type for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id))]
    assert "message_received" not in types and "process_error" not in types  # nothing happened to the case

def test_the_company_chosen_in_the_match_is_prefilled_on_the_agreement(journey, web, session):
    j = journey
    to_plan(j)
    j.do("vs", "match", {"virksomhed": "Byggefirma A/S", "cvr": "12345678", "kontaktperson": "Mette",
                         "match_begrundelse": "Erfaring fra byggeri"}, at(date(2026, 9, 11), 12))
    if "aftale" not in j.open():
        j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 9, 11), 13))
    page = web("vs").get(f"/opgaver/{j.task('aftale').id}").text
    assert 'name="f.virksomhed" value="Byggefirma A/S"' in page and 'name="f.cvr" value="12345678"' in page
    assert 'name="f.startdato" value=""' in page


def test_a_field_the_process_owner_keeps_from_prefill_stays_empty(journey, web, session):
    """vp_opfoelgning says `"prefill": false` for the visit's date and outcome: each weekly visit is new."""
    j = journey
    to_plan(j)
    j.agree(date(2026, 9, 14))
    j.message("virksomhed_bekraeftelse", {"virksomhed_accepterer": True}, at(date(2026, 9, 15)))
    j.fire(at(date(2026, 9, 30), 8))  # past the agreed start: the weekly visits have begun
    j.follow_up("fortsaetter", date(2026, 10, 2))
    page = web("vs").get(f"/opgaver/{j.task('opfoelgning').id}").text
    assert "Besøg på arbejdspladsen</textarea>" in page  # the unit's own last note: prefilled
    assert 'name="f.besoegsdato" value=""' in page and 'value="fortsaetter" selected' not in page
