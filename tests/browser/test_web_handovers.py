"""Handovers in the web UI over HTTP: what a task page is handed, steps from outside registered by their unit,
and a case history in Danish that shows other units' values only where they cross.

The real journeys (processes/, forms/) are deployed; the steps before the
one under test are done through the engine (tests/journeys' Journey), the
step under test through the pages, as a caseworker would.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import accounts, clock, escalations
from engine.models import Attachment, AuditEvent, Case, Wait
from tests import factories as f
from tests.journeys.test_kontanthjaelp import PROCESSES, RULES, Journey, at

from .conftest import csrf_of
from .test_web_browser import _login

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
RAW_KEYS = ("system:engine", "system:timer", "case:", "reminder_sent", "escalated", "sof_henvisning",
            "ansoegning_modtaget_dato", "virksomhed_bekraeftelse", "gateway_taken", "message_received")


def text_of(html: str) -> str:
    """What a reader sees: no tags, scripts, styles, diagram, or attribute values (links hold element ids)."""
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def journey(db, session, seed, live, settings, time_machine):
    time_machine.move_to(at(date(2026, 9, 11)), tick=True)  # the pages' "now": the application's day
    settings.forms_dir, settings.deadlines_file = RULES.forms_dir, RULES.deadlines_file
    users = seed(*PROCESSES, rules=RULES) | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
    }
    return Journey(db, session, users)


def to_application(j) -> str:
    """A kontanthjælp case visited by the jobcenter, waiting for the citizen's application in Ydelsesservice."""
    j.start(at(date(2026, 9, 7)), henvendelsesdato="2026-09-07", forsikret=False)
    j.do("jc", "tilmelding", {"tilmeldingsdato": "2026-09-07", "jobnet_tilmeldt": True}, at(date(2026, 9, 7)))
    j.do("jc", "visitation", {"visitationsdato": "2026-09-09", "til_raadighed": True, "kategori": "aktivitetsparat",
                              "problemer_ud_over_ledighed": True, "problemomraader": "bolig, misbrug",
                              "koordinerende_sagsbehandler": "jc", "cv_frist": "2026-09-28",
                              "vurdering": "Står til rådighed"}, at(date(2026, 9, 9)))
    j.do("jc", "cv_paa_jobnet", {"cv_paa_jobnet_dato": "2026-09-09"}, at(date(2026, 9, 9), 11))  # version 2's CV step
    assert "ansoegning_modtaget" in j.waits()
    return j.case_id


def to_plan(j, check=None) -> str:
    """`to_application`, then the application received, checked and granted, and the jobcenter's plan made.
    `check(task)`: how Ydelsesservice checks the application (by default through the engine)."""
    case_id = to_application(j)
    j.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": "2026-09-11"}, at(date(2026, 9, 11)))
    if check is None:
        j.do("ys", "kontroller_ansoegning", {"ansoegning_komplet": True, "ansoegning_komplet_dato": "2026-09-11"},
             at(date(2026, 9, 11)))
    else:
        check(j.task("kontroller_ansoegning"))
    j.grant(date(2026, 9, 11))
    j.do("jc", "tilbudsplan", {"aktivitetsparat_forloeb": "tilbud", "tilbud": "praktik", "mentor_behov": True,
                               "koordinerende_sagsbehandler": "Hanne", "plan": "Praktik med mentor"},
         at(date(2026, 9, 11), 11))
    # version 2 (issue 14): a mentor when needed is a step of its own
    j.do("jc", "bevilg_mentor", {"mentor_navn": "Jens", "mentor_fra": "2026-09-14", "mentor_timer_pr_uge": 3,
                                 "mentor_formaal": "Støtte i praktikken"}, at(date(2026, 9, 11), 12))
    return case_id


def test_ydelsesservice_registers_a_paper_application_from_its_inbox_and_the_case_moves_on(journey, web, session):
    case_id = to_application(journey)
    ys = web("ys")
    inbox = ys.get("/")
    assert inbox.status_code == 200 and "Sager der venter på noget udefra" in inbox.text
    link = f"/sager/{case_id}/registrer/ansoegning_modtaget"
    assert f'href="{link}?tilbage=indbakke"' in inbox.text and "Registrér »Ansøgning modtaget«" in inbox.text
    page = ys.get(link + "?tilbage=indbakke")
    assert page.status_code == 200 and "Ansøgningen er modtaget den" in page.text  # the message's own form
    # refused: the date is missing; the page comes back in Danish with what was typed, and nothing changes
    typed = {"csrf_token": csrf_of(page.text), "tilbage": "indbakke", "f.ansoegning_kanal": "papir",
             "f.ansoegning_bemaerkning": "Kom med posten <b>i dag</b>"}
    refused = ys.post(link, data=typed)
    assert refused.status_code == 422
    assert "Ansøgningen er modtaget den: skal udfyldes" in refused.text and "(required)" not in refused.text
    assert "Kom med posten &lt;b&gt;i dag&lt;/b&gt;" in refused.text and 'value="papir" selected' in refused.text
    session.expire_all()
    # version 2: the jobcenter's plan (contact course) is open beside Ydelsesservice's wait
    assert "ansoegning_modtaget" in journey.waits() and journey.open_of("ydelsesservice") == []
    # registered: the case moves on to Ydelsesservice's check, and the audit names the caseworker
    r = ys.post(link, data={**typed, "f.ansoegning_modtaget_dato": "2026-09-11"})
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    assert journey.open_of("ydelsesservice") == ["kontroller_ansoegning"] and "ansoegning_modtaget" not in journey.waits()
    [received] = journey.events("message_received")
    assert received.actor == "ys" and received.details["from_unit"] == "ydelsesservice"
    assert received.details["data"] == {"ansoegning_modtaget_dato": "2026-09-11", "ansoegning_kanal": "papir",
                                        "ansoegning_bemaerkning": "Kom med posten <b>i dag</b>"}
    after = ys.get("/")
    assert f'href="{link}?tilbage=indbakke"' not in after.text and "Kontrollér ansøgning og dokumentation" in after.text
    # the check is handed what was registered, and the jobcenter's assessment its diagram lists
    task = text_of(ys.get(f"/opgaver/{journey.task('kontroller_ansoegning').id}").text)
    assert "Ydelsesservice · Ansøgning modtaget" in task and "Ansøgning på papir" in task
    assert "Jobcenter · Visitation og rådighedsvurdering" in task and "Står til rådighed" in task
    assert "Frist for CV på Jobnet" not in task  # the jobcenter's own business


def test_only_the_waiting_unit_may_register_and_only_what_the_case_waits_for(journey, web, session):
    case_id = to_application(journey)
    jc = web("jc")
    jc_inbox = jc.get("/").text
    assert f"/sager/{case_id}/registrer/ansoegning_modtaget" not in jc_inbox
    assert "registrer/fravaer_meldt" not in jc_inbox  # it may come any time: the case is not stopped at it
    assert f"/sager/{case_id}/registrer/ansoegning_modtaget" not in jc.get(f"/sager/{case_id}").text
    assert jc.get(f"/sager/{case_id}/registrer/ansoegning_modtaget").status_code == 403
    page = jc.get(f"/sager/{case_id}")
    assert f'href="/sager/{case_id}/registrer/fravaer_meldt"' in page.text  # the jobcenter's may come any time
    form = web("ys").get(f"/sager/{case_id}/registrer/ansoegning_modtaget")
    r = jc.post(f"/sager/{case_id}/registrer/ansoegning_modtaget",
                data={"csrf_token": csrf_of(page.text), "f.ansoegning_modtaget_dato": "2026-09-11"})
    assert r.status_code == 403 and form.status_code == 200
    ys = web("ys")
    assert ys.get(f"/sager/{case_id}/registrer/tilbagemelding_fra_sof").status_code == 404
    assert ys.get(f"/sager/{case_id}/registrer/sof_tilbagemelding").status_code == 404  # not waiting, no form
    session.expire_all()
    assert [e.type for e in journey.events("message_received")] == []


def test_sof_sees_the_referral_and_virksomhedsservice_not_the_rate(journey, web, session):
    j = journey
    to_plan(j)
    sof_case = session.scalar(select(Case).where(Case.process_key == "sof_vurdering")).id
    sof_task = text_of(web("sofie").get(f"/opgaver/{j.task('socialfaglig_vurdering', sof_case).id}").text)
    assert "Overdraget til opgaven" in sof_task and "Jobcenter · Visitation og rådighedsvurdering" in sof_task
    assert "Problemer ud over ledighed (misbrug, psykisk, bolig, familie …) bolig, misbrug" in sof_task
    assert "12.000" not in sof_task and "Sats" not in sof_task

    vs = web("vs")
    match = text_of(vs.get(f"/opgaver/{j.task('match').id}").text)
    assert "Praktik med mentor" in match and "Virksomhedspraktik" in match
    assert "12.000" not in match and "Sats" not in match and "Betingelser opfyldt" not in match
    case_page = text_of(vs.get(f"/sager/{j.case_id}").text)
    assert "Afgørelse om kontanthjælp" in case_page                         # that it happened ...
    assert "12.000" not in case_page and "Sats pr. måned" not in case_page   # ... not the rate
    assert "Betingelser opfyldt" not in case_page and "bolig, misbrug" not in case_page
    assert "kun for den enhed, der udførte det" in case_page
    # the auditor reads everything
    assert "12.000" in text_of(web("auditor").get(f"/sager/{j.case_id}").text)


def test_the_citizens_documents_for_the_benefit_stay_with_ydelsesservice(journey, web, session, live):
    ys = web("ys")

    def check_with_a_bank_statement(task):
        page = ys.get(f"/opgaver/{task.id}")
        r = ys.post(f"/opgaver/{task.id}", data={"csrf_token": csrf_of(page.text), "f.ansoegning_komplet": "ja",
                                                 "f.ansoegning_komplet_dato": "2026-09-11"},
                    files={"f.dokumentation": ("kontoudtog.pdf", PDF, "application/pdf")})
        assert r.status_code == 303, r.text

    case_id = to_plan(journey, check=check_with_a_bank_statement)
    session.expire_all()
    [statement] = session.scalars(select(Attachment).where(Attachment.case_id == case_id)).all()
    download = f"/sager/{case_id}/bilag/{statement.id}"
    assert "kontoudtog.pdf" in ys.get(f"/sager/{case_id}").text and ys.get(download).content == PDF
    vs = web("vs")  # Virksomhedsservice works on the case (the match), but the benefit's documents are not theirs
    assert "kontoudtog.pdf" not in vs.get(f"/sager/{case_id}").text
    assert "kontoudtog.pdf" not in vs.get(f"/opgaver/{journey.task('match').id}").text
    assert vs.get(download).status_code == 403
    with f.client(live, "vs") as api:
        assert "kontoudtog.pdf" not in api.get(f"/cases/{case_id}/attachments").text
        assert api.get(f"/attachments/{statement.id}").status_code == 403
    assert "kontoudtog.pdf" in web("auditor").get(f"/sager/{case_id}").text  # the auditor reads everything


def test_the_case_history_says_which_way_a_gateway_went_in_danish_words(journey, web, session):
    j = journey
    to_application(j)
    j.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": "2026-09-11"}, at(date(2026, 9, 11)))
    j.do("ys", "kontroller_ansoegning", {"ansoegning_komplet": True, "ansoegning_komplet_dato": "2026-09-11"},
         at(date(2026, 9, 11)))
    j.grant(date(2026, 9, 11))
    page = text_of(web("jc").get(f"/sager/{j.case_id}").text)
    assert "Vej valgt: Bevilget? → Bevilget" in page and "Vej valgt: Til rådighed? → Ja" in page
    assert "Systemet, efter ys" in page                       # the engine's steps after ys's decision
    assert "Modtaget: Ansøgning modtaget" in page and "Ansøgningen er modtaget den" not in page  # not jc's
    ys_page = text_of(web("ys").get(f"/sager/{j.case_id}").text)
    assert "Ansøgningen er modtaget den 11. sep. 2026" in ys_page   # what the message carried, to its unit
    assert "Sendt videre: Henvis til SOF" in page and "SOF: socialfaglig vurdering og enkeltydelser" in page
    for raw in RAW_KEYS:
        assert raw not in page and raw not in ys_page, raw
    sof_case = session.scalar(select(Case).where(Case.process_key == "sof_vurdering")).id
    sof_page = text_of(web("auditor").get(f"/sager/{sof_case}").text)
    assert "Dato for visitationssamtalen" in sof_page  # what the referral carried, with the jobcenter's labels
    for raw in RAW_KEYS:
        assert raw not in sof_page, raw


def test_a_sygedagpenge_case_started_from_opret_sag_does_not_wait_for_the_report_it_took(journey, web, session):
    # sygedagpenge (version 2) calls the rehabiliteringsteam journey: deployed with it
    f.deploy_files(session, f.ROOT / "processes" / "sygedagpenge", f.ROOT / "processes" / "rehabiliteringsteam",
                   rules=RULES)
    ys = web("ys")
    start = ys.get("/sager/ny?forloeb=sygedagpenge")
    assert start.status_code == 200 and "Første fraværsdag" in start.text
    r = ys.post("/sager/ny", data={"csrf_token": csrf_of(start.text), "forloeb": "sygedagpenge", "cpr": f.CPR,
                                   "f.foerste_fravaersdag": "2026-09-01", "f.arbejdsgiver_cvr": "12345678"})
    assert r.status_code == 303, r.text
    case_id = r.headers["location"].rsplit("/", 1)[1]
    session.expire_all()
    waits = {w.message for w in session.scalars(select(Wait).where(Wait.case_id == case_id))}
    assert "sygemelding_fra_arbejdsgiver" not in waits
    page = text_of(ys.get(f"/sager/{case_id}").text)
    assert "Send oplysningsskema og registrér borgerens svar" in page
    assert "Registrér »Sygemelding" not in page
    started = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                      AuditEvent.type == "case_started"))
    assert started.actor == "ys" and started.details["message_data"]["foerste_fravaersdag"] == "2026-09-01"


def test_in_a_browser_ydelsesservice_registers_the_paper_application_and_sof_reads_the_referral(
        journey, new_page, session):
    j = journey
    to_application(j)
    ys = new_page()
    _login(ys, "ys")
    waiting = ys.get_by_role("region", name="Sager der venter på noget udefra")
    waiting.get_by_role("link", name="Registrér »Ansøgning modtaget«").click()
    assert ys.get_by_role("heading", level=1).inner_text() == "Registrér: Ansøgning modtaget"
    ys.get_by_label("Modtaget som").select_option("papir")
    ys.get_by_role("button", name="Registrér").click()
    summary = ys.get_by_role("alert")                                  # refused: the date is missing
    assert "Ansøgningen er modtaget den: skal udfyldes" in summary.inner_text()
    assert ys.get_by_label("Modtaget som").input_value() == "papir"   # what was chosen is kept
    ys.get_by_label("Ansøgningen er modtaget den").fill("2026-09-11")
    ys.get_by_role("button", name="Registrér").click()
    ys.wait_for_url(re.compile(r"/$"))
    assert ys.get_by_role("status").inner_text() == "»Ansøgning modtaget« er registreret."
    assert "Kontrollér ansøgning og dokumentation" in ys.locator("table.tasks").inner_text()
    assert ys.get_by_role("region", name="Sager der venter på noget udefra").count() == 0

    j.do("ys", "kontroller_ansoegning", {"ansoegning_komplet": True, "ansoegning_komplet_dato": "2026-09-11"},
         at(date(2026, 9, 11)))
    j.grant(date(2026, 9, 11))
    sof = new_page()
    _login(sof, "sofie")
    sof.get_by_role("link", name="Socialfaglig vurdering").click()
    handed = sof.get_by_role("region", name="Overdraget til opgaven").inner_text()
    assert "Jobcenter · Visitation og rådighedsvurdering" in handed and "bolig, misbrug" in handed
    assert "Sats" not in handed


def test_reminders_and_escalations_read_in_danish_in_the_case_history(journey, web, session):
    j = journey
    accounts.set_email(session, "jc", "jc@kommune.example")
    accounts.set_email(session, "jclead", "jclead@kommune.example")
    session.commit()
    j.start(at(date(2026, 9, 7)), henvendelsesdato="2026-09-07", forsikret=False)
    task = j.task("tilmelding")
    for now in (clock.as_utc(task.due_at) + timedelta(minutes=1), clock.as_utc(task.due_at) + timedelta(days=10)):
        escalations.handle_task(session, task_id=task.id, now=now, rules=RULES, default_grace="P2D working")
        session.commit()
    assert {e.type for e in j.events()} >= {"reminder_sent", "escalated"}
    page = text_of(web("jc").get(f"/sager/{j.case_id}").text)
    assert "Påmindelse sendt: Tilmelding som arbejdssøgende" in page
    assert "Sendt til teamlederen: Tilmelding som arbejdssøgende" in page
    assert "Systemet (fristovervågning)" in page
    for raw in RAW_KEYS + ("system:deadlines",):
        assert raw not in page, raw
