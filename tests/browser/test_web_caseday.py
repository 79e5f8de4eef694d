"""A caseworker's day in a real Chromium: find a case by its number or the citizen's CPR, a team lead
cancels a case with a reason, and the lead's workload and assign lists fit a 1366 px screen.

axe-core (npm, node_modules/axe-core) checks the search and case pages: nothing serious or critical.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine import clock
from engine.models import AuditEvent, Case, HumanTask
from tests import factories as f
from tests.journeys.test_kontanthjaelp import at

from .test_studio_browser import AXE, _axe
from .test_web_browser import _login
from .test_web_handovers import PDF, journey, to_application  # noqa: F401 - journey is a fixture

OTHER_CPR = "020285-4321"


def _needs_axe() -> None:
    if not AXE.exists():
        pytest.skip(f"axe-core not found at {AXE} (make install brings it from npm; or set TOVHOLDER_AXE_JS)")


def test_find_a_case_by_its_number_and_by_cpr(web_users, session, new_page):
    _needs_axe()
    wanted = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    other = f.start_case(session, "web_intake", actor=web_users["jc"], cpr=OTHER_CPR, data={})
    page = new_page()
    _login(page, "jc")
    # the inbox shows the number, not a UUID prefix
    assert wanted.number in page.locator("table.tasks").inner_text()
    page.get_by_role("link", name="Find sag").first.click()
    page.wait_for_url(re.compile(r"/sager$"))
    assert _axe(page) == []

    year, sequence = wanted.number.split("-")
    page.get_by_label("Sagsnummer").fill(f"{year}-{int(sequence)}")  # as said on the phone, without zeros
    page.get_by_role("button", name="Vis").click()
    rows = page.locator("table.tasks tbody tr")
    assert rows.count() == 1 and wanted.number in rows.first.inner_text()

    page.get_by_label("Sagsnummer").fill("ikke et nummer")
    page.get_by_role("button", name="Vis").click()
    assert "Sagsnummeret er ikke gyldigt" in page.locator(".error").inner_text()
    assert page.get_by_label("Sagsnummer").input_value() == "ikke et nummer"  # what was typed is kept
    assert _axe(page) == []

    page.get_by_label("Borgerens CPR-nummer").fill(OTHER_CPR)
    page.get_by_role("button", name="Søg på CPR").click()
    assert "020285" not in page.url and "4321" not in page.url  # the CPR travels in the POST body only
    rows = page.locator("table.tasks tbody tr")
    assert rows.count() == 1 and other.number in rows.first.inner_text() and "020285-****" in rows.first.inner_text()
    assert OTHER_CPR not in page.content()

    rows.first.get_by_role("link", name=other.number).click()
    page.wait_for_url(re.compile(f"/sager/{other.id}$"))
    assert other.number in page.get_by_role("heading", level=1).inner_text()
    assert _axe(page) == []


def test_a_team_lead_cancels_a_case_with_a_reason(web_users, session, new_page):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    page = new_page()
    _login(page, "jc")
    page.goto(f"/sager/{case.id}")
    assert page.get_by_role("button", name="Annullér sagen").count() == 0  # a caseworker may not

    page = new_page()
    _login(page, "jclead")
    page.goto(f"/sager/{case.id}")
    page.get_by_role("button", name="Annullér sagen").click()  # no reason: refused in Danish, nothing changes
    assert "Skriv en begrundelse" in page.locator("#annuller-fejl").inner_text()
    session.expire_all()
    assert session.get(Case, case.id).status == "running"

    page.get_by_label("Begrundelse").fill("Borgeren er flyttet til en anden kommune")
    page.get_by_role("button", name="Annullér sagen").click()
    page.wait_for_url(re.compile(f"/sager/{case.id}$"))
    assert page.get_by_role("status").inner_text() == "Sagen er annulleret."
    assert "Annulleret" in page.locator("dl.facts").inner_text()
    assert page.locator("#annulleringsgrund").inner_text() == "Borgeren er flyttet til en anden kommune"
    assert page.get_by_role("button", name="Annullér sagen").count() == 0
    session.expire_all()
    assert session.get(Case, case.id).status == "cancelled"
    event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                    AuditEvent.type == "case_cancelled"))
    assert event.actor == "jclead" and event.details["reason"] == "Borgeren er flyttet til en anden kommune"
    assert session.scalars(select(HumanTask.status).where(HumanTask.case_id == case.id)).all() == ["cancelled"]


def test_workload_across_units_fits_a_1366_screen(web_users, session, browser, live):
    session.expire_all()
    lead = f.add_user(session, "lead2", "teamlead", ["jobcenter", "ydelsesservice"])
    for name in ("Anne-Marie Kristoffersen-Bach", "Mads Peter Østergaard Holm", "Signe Vestergaard Lauridsen"):
        f.add_user(session, name.replace(" ", "."), "caseworker", ["jobcenter"])
    session.commit()
    cases = [f.start_case(session, "web_intake", actor=web_users["jc"], data={}) for _ in range(3)]
    rows = session.scalars(select(HumanTask).where(HumanTask.case_id.in_([c.id for c in cases]))
                           .order_by(HumanTask.created_at)).all()
    rows[0].assignee, rows[0].status, rows[0].due_at = "jc", "claimed", clock.now() - timedelta(days=3)
    rows[1].assignee, rows[1].status, rows[1].due_at = "jc", "claimed", clock.now() + timedelta(days=5)
    session.commit()
    context = browser.new_context(base_url=live, locale="da-DK", viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        _login(page, lead.username)
        table = page.locator("table.workload")
        header = table.locator("thead").inner_text()
        assert all(word in header for word in ("Medarbejder", "Åbne", "Forfaldne", "Ældste frist"))
        jc_row = table.locator("tr", has_text="jc").first.inner_text()
        assert re.search(r"jc\s+2\s+1\s", jc_row) and "Vurdering af henvendelse" in jc_row
        assert "Ikke fordelt" in table.inner_text()
        assert "Jobcenter" in table.locator("caption").inner_text()
        assert "Ydelsesservice" in table.locator("caption").inner_text()
        assert page.locator("form.assign select").count() == 3
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the inbox is {overflow} px wider than a 1366 px screen"
        wide = page.evaluate("""() => [...document.querySelectorAll('table.workload, table.tasks, form.assign')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth).length""")
        assert wide == 0
    finally:
        context.close()


def test_ydelsesservice_uploads_the_citizens_documentation_on_the_kontanthjaelp_task(journey, session, new_page, web):
    """The real kontanthjælp form "Kontrollér ansøgning og dokumentation" takes the citizen's documents."""
    case_id = to_application(journey)
    journey.message("ansoegning_modtaget", {"ansoegning_modtaget_dato": "2026-09-11"}, at(date(2026, 9, 11)))
    task = journey.task("kontroller_ansoegning")
    page = new_page()
    _login(page, "ys")
    page.goto(f"/opgaver/{task.id}")
    session.expire_all()
    assert page.locator("aside .case-number").inner_text() == session.get(Case, case_id).number  # by its number
    upload = page.get_by_label("Dokumentation fra borgeren")
    upload.set_input_files({"name": "program.exe", "mimeType": "application/octet-stream",
                            "buffer": b"MZ\x90\x00" + b"\xff" * 100})
    page.locator("fieldset", has_text="Ansøgningen er komplet").get_by_label("Ja").check()
    page.get_by_label("Dato hvor ansøgningen blev komplet").fill("2026-09-11")
    page.get_by_label("Manglende dokumentation (borgeren får besked)").fill("Intet mangler")
    page.get_by_role("button", name="Udfør opgaven").click()
    assert "Filtypen er ikke tilladt" in page.content()  # refused in Danish, the rest kept, the task still open
    assert page.get_by_label("Manglende dokumentation (borgeren får besked)").input_value() == "Intet mangler"
    session.expire_all()
    assert session.get(HumanTask, task.id).status in ("open", "claimed")

    page.get_by_label("Dokumentation fra borgeren").set_input_files(
        {"name": "kontoudtog.pdf", "mimeType": "application/pdf", "buffer": PDF})
    if not page.locator("fieldset", has_text="Ansøgningen er komplet").get_by_label("Ja").is_checked():
        page.locator("fieldset", has_text="Ansøgningen er komplet").get_by_label("Ja").check()
    if not page.get_by_label("Dato hvor ansøgningen blev komplet").input_value():
        page.get_by_label("Dato hvor ansøgningen blev komplet").fill("2026-09-11")
    page.get_by_role("button", name="Udfør opgaven").click()
    page.wait_for_url(re.compile(r"/$"))
    session.expire_all()
    assert session.get(HumanTask, task.id).status == "completed"
    page.goto(f"/sager/{case_id}")
    link = page.get_by_role("link", name="kontoudtog.pdf")
    href = link.get_attribute("href")
    assert href and href.startswith(f"/sager/{case_id}/bilag/")
    download = web("ys").get(href)
    assert download.status_code == 200 and download.content == PDF


def test_the_case_diagram_is_focusable_fits_and_opens_full_size_without_javascript(journey, browser, live):
    _needs_axe()
    case_id = to_application(journey)
    for javascript in (False, True):
        context = browser.new_context(base_url=live, locale="da-DK", viewport={"width": 1366, "height": 768},
                                      java_script_enabled=javascript)
        try:
            page = context.new_page()
            page.goto("/login")
            page.get_by_label("Brugernavn").fill("jc")
            page.get_by_label("Adgangskode").fill(f.PASSWORD)
            page.get_by_role("button", name="Log ind").click()
            page.goto(f"/sager/{case_id}")
            figure = page.locator("figure.diagram")
            assert figure.get_attribute("tabindex") == "0"
            assert "Påmindelse" not in figure.inner_html()  # no reminder box beside every task
            fits = page.evaluate("() => { const f = document.querySelector('figure.diagram');"
                                 " return f.scrollWidth <= f.clientWidth; }")
            assert fits, "the diagram does not fit the page's width"
            page.get_by_label(re.compile("Vis diagrammet i fuld størrelse")).check()
            wide = page.evaluate("() => { const f = document.querySelector('figure.diagram');"
                                 " return f.scrollWidth > f.clientWidth; }")
            assert wide, "full size should be wider than the page, and pan by scrolling"
            figure.focus()
            assert page.evaluate("() => document.activeElement.matches('figure.diagram')")
            page.keyboard.press("ArrowRight")
            if javascript:
                page.add_script_tag(path=str(AXE))
                result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
                bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
                assert bad == [], bad
        finally:
            context.close()


OVERLAPS = """() => { const t = [...document.querySelectorAll('svg text')].map(e => {
    const b = e.getBoundingClientRect(); return [b.x, b.y, b.width, b.height, e.textContent]; });
  const out = [];
  for (let i = 0; i < t.length; i++) for (let j = i + 1; j < t.length; j++) { const a = t[i], b = t[j];
    if (a[0] < b[0] + b[2] - 1 && b[0] < a[0] + a[2] - 1 && a[1] < b[1] + b[3] - 1 && b[1] < a[1] + a[3] - 1)
      out.push(a[4] + ' | ' + b[4]); }
  return out; }"""


@pytest.mark.parametrize("path", ["kontanthjaelp/kontanthjaelp.bpmn", "sygedagpenge/sygedagpenge.bpmn",
                                  "sof/sof_vurdering.bpmn", "shared/virksomhedsplacering.bpmn"])
@pytest.mark.database_free
def test_no_two_labels_of_a_case_diagram_overlap(browser, path):
    from engine.diagram.svg import render
    raw = (f.ROOT / "processes" / path).read_bytes()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(render(raw, hide_reminders=True))
        assert page.evaluate(OVERLAPS) == []
    finally:
        context.close()


def test_the_inbox_and_the_start_page_pass_axe(web_users, session, new_page):
    """The two pages a caseworker opens first: nothing serious or critical, with a task in the inbox."""
    _needs_axe()
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    page = new_page()
    _login(page, "jc")
    assert case.number in page.locator("table.tasks").inner_text()  # the inbox, with its task
    assert _axe(page) == []
    page.get_by_role("link", name="Opret sag").first.click()
    page.wait_for_url(re.compile(r"/sager/ny"))
    assert _axe(page) == []
