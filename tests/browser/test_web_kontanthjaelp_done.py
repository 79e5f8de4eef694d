"""Issue 13's "done when", in a real Chromium: four units take a kontanthjælp case from henvendelse to job.

Version 1 of the journey is deployed first, then processes/ as it is now, so
the case "Opret sag" starts runs on version 2. The jobcenter (jc),
Ydelsesservice (ys), SOF (sofie) and Virksomhedsservice (vs) each log in,
find their step in their inbox (a task, or something from outside the case
waits for) and do it on its page; nothing goes through the API. Time moves
with time_machine (the pages' "now") and, where the employer does not answer
in time, with the worker's fire_due_timers. At each handover the receiving
caseworker reads on her task what the sender wrote; at the end the audit
trail credits every step (tests/journeys/test_kontanthjaelp_handovers.py's
assert_credited) and an auditor reads who did what in the case history.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import Case, Wait
from tests import factories as f
from tests.journeys.kh_v1 import PROCESSES_V1
from tests.journeys.test_kontanthjaelp import PROCESSES, RULES, at
from tests.journeys.test_kontanthjaelp_handovers import assert_credited
from workers.timers import fire_due_timers

from .test_studio_browser import AXE, _axe
from .test_web_browser import _login
from .test_web_handovers import RAW_KEYS

RATE = "12.500"  # the benefit rate as Ydelsesservice types and the pages show it: it must not reach the others


@pytest.fixture
def staff(db, session, seed, live, settings, time_machine):
    """Version 1, then version 2 (processes/) deployed; a caseworker in each of the four units, and the clock."""
    settings.forms_dir, settings.deadlines_file = RULES.forms_dir, RULES.deadlines_file
    users = seed(*PROCESSES_V1, rules=RULES)
    f.deploy_files(session, *PROCESSES, rules=RULES)
    users |= {"vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
              "sof": f.add_user(session, "sofie", "caseworker", ["sof"])}
    session.commit()

    def move_to(day: date, hour: int = 9) -> None:
        time_machine.move_to(at(day, hour), tick=True)

    return users, move_to


def fill(page, values: dict) -> None:
    """Fill a form by field name, as the page names its inputs (`f.<name>`): Ja/Nej, choices, text."""
    for name, value in values.items():
        field = page.locator(f'[name="f.{name}"]')
        kind = field.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind == "input:radio":
            page.locator(f'[name="f.{name}"][value="{value}"]').check()
        elif kind.startswith("select"):
            field.select_option(value)
        else:
            field.fill(value)


def open_task(page, name: str) -> str:
    """From the inbox (the unit's tab), the task by its name; returns what the task page's handover shows."""
    page.goto("/")
    page.locator("table.tasks").get_by_role("link", name=name, exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == name
    return page.get_by_role("region", name="Overdraget til opgaven").inner_text()


def complete(page, name: str, values: dict) -> None:
    fill(page, values)
    page.get_by_role("button", name="Udfør opgaven").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("status").inner_text() == f"Opgaven »{name}« er udført.", name


def register(page, name: str, values: dict, *, axe: bool = False) -> None:
    """What the case waits for from outside, registered from the unit's inbox with the message's form
    (`axe`: axe-core checks the page it is registered on)."""
    page.goto("/")
    page.get_by_role("region", name="Sager der venter på noget udefra") \
        .get_by_role("link", name=f"Registrér »{name}«").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Registrér: {name}"
    assert not axe or _axe(page) == []
    fill(page, values)
    page.get_by_role("button", name="Registrér").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("status").inner_text() == f"»{name}« er registreret."


def history(page, case_id: str) -> list[tuple[str, str]]:
    """(what happened, who) of each step of the case history, as the case page shows it."""
    page.goto(f"/sager/{case_id}")
    steps = []
    for item in page.locator("ol.timeline > li").all():
        head = item.locator(".step-head").inner_text().strip()
        who = item.locator("p.muted").first.inner_text().split(" · ", 1)[1].strip()
        steps.append((head, who))
    return steps


def test_four_units_take_a_kontanthjaelp_case_from_henvendelse_to_job_in_the_browser(staff, session, new_page, db):
    users, move_to = staff
    if not AXE.exists():
        pytest.skip(f"axe-core not found at {AXE} (make install brings it from npm)")
    jc, ys, sof, vs = new_page(), new_page(), new_page(), new_page()
    for page, username in ((jc, "jc"), (ys, "ys"), (sof, "sofie"), (vs, "vs")):
        _login(page, username)

    # -- the jobcenter: henvendelse, tilmelding, visitation (aktivitetsparat, problems: SOF), CV ----------------
    move_to(date(2026, 9, 7))
    jc.get_by_role("link", name="Opret sag").first.click()
    jc.get_by_label("Forløb").select_option("kontanthjaelp")
    jc.get_by_role("button", name="Vælg").click()
    jc.get_by_label("Borgerens CPR-nummer").fill(f.CPR)
    fill(jc, {"henvendelsesdato": "2026-09-07", "forsikret": "nej"})
    jc.get_by_role("button", name="Opret sag").click()
    jc.wait_for_url(re.compile(r"/sager/[0-9a-f-]{36}$"))
    case_id = jc.url.rsplit("/", 1)[1]
    session.expire_all()
    assert session.get(Case, case_id).version == 2  # the version deployed now
    open_task(jc, "Tilmelding som arbejdssøgende")
    complete(jc, "Tilmelding som arbejdssøgende", {"tilmeldingsdato": "2026-09-07", "jobnet_tilmeldt": "ja"})
    move_to(date(2026, 9, 9))
    open_task(jc, "Visitation og rådighedsvurdering")
    complete(jc, "Visitation og rådighedsvurdering", {
        "visitationsdato": "2026-09-09", "til_raadighed": "ja", "kategori": "aktivitetsparat",
        "koordinerende_sagsbehandler": "jc", "problemer_ud_over_ledighed": "ja",
        "problemomraader": "Boligløs siden august, misbrug", "cv_frist": "2026-09-28",
        "vurdering": "Står til rådighed; vil gerne arbejde med hænderne"})
    open_task(jc, "CV på Jobnet")
    complete(jc, "CV på Jobnet", {"cv_paa_jobnet_dato": "2026-09-09"})

    # -- Ydelsesservice: the paper application, the check, the decision on the jobcenter's assessment ----------
    move_to(date(2026, 9, 11))
    register(ys, "Ansøgning modtaget", {"ansoegning_modtaget_dato": "2026-09-11", "ansoegning_kanal": "papir",
                                        "ansoegning_bemaerkning": "Afleveret i borgerservice"}, axe=True)
    handed = open_task(ys, "Kontrollér ansøgning og dokumentation")
    assert "Afleveret i borgerservice" in handed                       # what was registered ...
    assert "vil gerne arbejde med hænderne" in handed                 # ... and the jobcenter's assessment
    complete(ys, "Kontrollér ansøgning og dokumentation", {"ansoegning_komplet": "ja",
                                                            "ansoegning_komplet_dato": "2026-09-11"})
    handed = open_task(ys, "Afgørelse om kontanthjælp")
    assert "Jobcentrets vurdering af rådigheden" in handed and "vil gerne arbejde med hænderne" in handed
    complete(ys, "Afgørelse om kontanthjælp", {"afgoerelse": "bevilget", "sats": RATE, "ydelse_fra": "2026-09-11",
                                               "afgoerelsesdato": "2026-09-11",
                                               "begrundelse": "Betingelser opfyldt, ingen formue"})

    # -- SOF reads the jobcenter's referral, not Ydelsesservice's decision -------------------------------------
    move_to(date(2026, 9, 14))
    handed = open_task(sof, "Socialfaglig vurdering")
    assert "Jobcenter · Visitation og rådighedsvurdering" in handed and "Boligløs siden august, misbrug" in handed
    assert RATE not in handed and "ingen formue" not in handed
    assert _axe(sof) == []  # a task page with its handover
    complete(sof, "Socialfaglig vurdering", {"sof_vurderingsdato": "2026-09-14",
                                             "sof_vurdering": "Har brug for en fast bolig før praktik",
                                             "sof_indsats": "Bostøtte to gange om ugen",
                                             "sof_enkeltydelse_behov": "nej"})

    # -- the jobcenter: SOF's assessment, then the plan ---------------------------------------------------------
    handed = open_task(jc, "Læs SOF's vurdering og tilpas planen")
    assert "SOF" in handed and "Har brug for en fast bolig før praktik" in handed
    assert "Bostøtte to gange om ugen" in handed
    complete(jc, "Læs SOF's vurdering og tilpas planen", {"plan_tilpasning": "Praktik når bostøtten er i gang"})
    open_task(jc, "Plan og tilbud for aktivitetsparat")
    complete(jc, "Plan og tilbud for aktivitetsparat", {
        "aktivitetsparat_forloeb": "tilbud", "tilbud": "praktik", "mentor_behov": "nej",
        "koordinerende_sagsbehandler": "jc", "plan": "Praktik i byggeriet med bostøtte ved siden af"})

    # -- Virksomhedsservice: the plan, not the benefit; the employer answers only after a reminder -------------
    move_to(date(2026, 9, 15))
    handed = open_task(vs, "Match borger og virksomhed")
    assert "Praktik i byggeriet med bostøtte ved siden af" in handed
    assert RATE not in handed and "Sats" not in handed and "ingen formue" not in handed
    assert RATE not in vs.locator("main").inner_text()             # nowhere on the task page
    vs.goto(f"/sager/{case_id}")
    assert RATE not in vs.locator("main").inner_text() and "ingen formue" not in vs.locator("main").inner_text()
    open_task(vs, "Match borger og virksomhed")
    complete(vs, "Match borger og virksomhed", {"virksomhed": "Byggefirma A/S", "cvr": "12345678",
                                                 "kontaktperson": "Mette", "match_begrundelse": "Erfaring fra byggeri"})
    open_task(vs, "Aftale med virksomheden")
    assert vs.locator('[name="f.virksomhed"]').input_value() == "Byggefirma A/S"  # the company chosen in the match
    complete(vs, "Aftale med virksomheden", {"aftale_dato": "2026-09-15", "tilbudstype": "virksomhedspraktik",
                                              "startdato": "2026-09-17", "praktik_ramme": "standard",
                                              "praktik_uger": "4", "mentor_soeges": "nej"})
    session.expire_all()
    [no_answer] = session.scalars(select(Wait).where(Wait.case_id == case_id,
                                                     Wait.element_id == "ingen_bekraeftelse")).all()
    due = clock.as_utc(no_answer.due_at)
    assert fire_due_timers(db.session_factory, rules=RULES, now=due + timedelta(seconds=1)).fired == 1
    move_to(date(2026, 9, 23))
    open_task(vs, "Ryk virksomheden for bekræftelse")
    complete(vs, "Ryk virksomheden for bekræftelse", {"rykket_dato": "2026-09-23", "rykker_note": "Ringet til Mette"})
    vs.goto("/")
    assert _axe(vs) == []  # the inbox with something from outside waiting
    register(vs, "Virksomhedens svar", {"virksomhed_accepterer": "ja", "virksomhed_svar_dato": "2026-09-23",
                                        "virksomhed_bemaerkning": "Start som aftalt"})
    move_to(date(2026, 9, 24))
    open_task(vs, "Ugentlig opfølgning på arbejdspladsen")
    complete(vs, "Ugentlig opfølgning på arbejdspladsen", {
        "besoegsdato": "2026-09-24", "placering_udfald": "ordinaert_job",
        "opfoelgning_notat": "Ansat i fast job fra 1. oktober"})

    # -- Ydelsesservice stops the benefit: the case ends in a job ---------------------------------------------
    move_to(date(2026, 9, 25))
    open_task(ys, "Stop kontanthjælpen")
    complete(ys, "Stop kontanthjælpen", {"ophoersdato": "2026-09-30", "ophoersaarsag": "ordinaert_job"})
    session.expire_all()
    case = session.get(Case, case_id)
    assert case.status == "completed"
    sof_case = session.scalar(select(Case.id).where(Case.process_key == "sof_vurdering"))

    # -- the audit trail names who did each step ---------------------------------------------------------------
    seen = assert_credited(session, (case_id, sof_case), people={u.username for u in users.values()},
                           starter="jc", outside={"ys", "vs"})
    assert ("task_created", "system:timer") in seen and ("gateway_taken", "system:engine") in seen
    auditor = new_page()
    _login(auditor, "auditor")
    steps = history(auditor, case_id)
    for step in [("Sagen er oprettet", "jc"), ("Opgave udført: Tilmelding som arbejdssøgende", "jc"),
                 ("Sendt videre: Henvis til SOF", "Systemet, efter jc"),
                 ("Modtaget: Ansøgning modtaget", "ys"),
                 ("Opgave udført: Afgørelse om kontanthjælp", "ys"),
                 ("Vej valgt: Bevilget? → Bevilget", "Systemet, efter ys"),
                 ("Modtaget: Tilbagemelding fra SOF", "Systemet, efter sofie"),
                 ("Opgave udført: Match borger og virksomhed", "vs"),
                 ("Frist udløbet: 5 arbejdsdage uden svar", "Systemet (en frist udløb)"),
                 ("Modtaget: Virksomhedens svar", "vs"),
                 ("Opgave udført: Stop kontanthjælpen", "ys")]:
        assert step in steps, (step, steps)
    assert {who for _what, who in steps} <= {"jc", "ys", "vs", "Systemet (en frist udløb)"} | {
        f"Systemet, efter {name}" for name in ("jc", "ys", "sofie", "vs")}, steps
    assert not [what for what, _who in steps if what.startswith("Hændelse")], steps  # every step in words
    shown = auditor.locator("ol.timeline").inner_text()              # with every value, as an auditor reads it
    assert re.findall(r"\b[a-z]+_[a-z_]+\b", shown) == [] and not [raw for raw in RAW_KEYS if raw in shown]
    assert ("Opgave udført: Socialfaglig vurdering", "sofie") in history(auditor, sof_case)

