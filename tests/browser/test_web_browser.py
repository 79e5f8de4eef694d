"""The staff web UI in a real browser (Playwright + Debian's Chromium, headless).

The staff web UI scenario: a jobcenter caseworker logs in, finds the new case's
task, submits an invalid form (messages at the fields, input kept, a <script>
shown as text), submits a valid one; the task leaves her inbox and appears in
Ydelsesservice's; a team lead reassigns; an auditor can read but finds no way
to complete (and a POST by hand is refused); an upload over the limit is
refused with a message. With TOVHOLDER_SCREENSHOTS=1 (or
`python -m tests.browser.screenshots`) it saves docs/screenshots/*.png.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from tests import factories as f

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PNG = b"\x89PNG\r\n\x1a\n"


def _shot(page, name: str) -> None:
    if os.environ.get("TOVHOLDER_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _login(page, username: str) -> None:
    page.goto("/")
    assert page.url.endswith("/login?next=%2F")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(f.PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("status").inner_text() == f"Du er logget ind som {username}."


def _inbox_rows(page) -> list[str]:
    return page.locator("table.tasks tbody tr").all_inner_texts()


def test_caseworker_works_a_task_through_to_ydelsesservice(web_users, session, new_page, settings):
    settings.max_upload_bytes = 2048
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={"note": "Borger ringede"})
    f.start_case(session, "web_intake", actor=web_users["jc"], cpr="020285-4321", data={})
    alerts: list[str] = []
    page = new_page()
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    _login(page, "jc")

    page.get_by_role("link", name=re.compile(r"Min enhed \(2\)")).click()
    rows = _inbox_rows(page)
    assert len(rows) == 2 and all("Vurdering af henvendelse" in r and "-****" in r for r in rows)
    assert "010190-1234" not in page.content()
    _shot(page, "indbakke")

    page.locator(f'tr:has(a[href="/sager/{case.id}"])').get_by_role("link", name="Vurdering af henvendelse").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Vurdering af henvendelse"
    assert "010190-****" in page.locator("aside").inner_text()

    script = "<script>alert('hej')</script>"
    page.get_by_label("Resumé af henvendelsen").fill(script)
    page.get_by_label("Ledige timer pr. uge").fill("mange")
    page.get_by_label("Noter til Ydelsesservice").fill("Æbler, øl og ål")
    page.get_by_role("button", name="Udfør opgaven").click()
    summary = page.get_by_role("alert")
    assert "Formularen har fejl" in summary.inner_text()
    assert page.locator("#felt-timer-fejl").inner_text().endswith("Ledige timer pr. uge: skal være et tal")
    assert "skal udfyldes" in page.locator("#felt-samtaledato-fejl").inner_text()
    assert page.get_by_label("Resumé af henvendelsen").input_value() == script  # kept, and shown as text
    assert page.get_by_label("Noter til Ydelsesservice").input_value() == "Æbler, øl og ål"
    assert page.get_by_label("Ledige timer pr. uge").get_attribute("aria-invalid") == "true"

    page.get_by_label("Dokumentation").set_input_files(
        {"name": "scan.png", "mimeType": "image/png", "buffer": PNG + b"\0" * 4000})
    page.get_by_label("Ledige timer pr. uge").fill("20")
    page.get_by_label("Ja").check()
    page.get_by_label("Dato for samtale").fill("2026-12-01")
    page.get_by_label("Visitationskategori").select_option(label="Jobparat")
    page.get_by_role("button", name="Udfør opgaven").click()
    assert "Filen er for stor" in page.locator("#felt-dokumentation-fejl").inner_text()
    assert page.get_by_label("Visitationskategori").input_value() == "jobparat"
    _shot(page, "opgave")

    page.get_by_label("Dokumentation").set_input_files(
        {"name": "cv.png", "mimeType": "image/png", "buffer": PNG + b"\0" * 100})
    page.get_by_role("button", name="Udfør opgaven").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("status").inner_text() == "Opgaven »Vurdering af henvendelse« er udført."
    assert len(_inbox_rows(page)) == 1  # the other case's task only
    assert alerts == []  # the <script> never ran

    page.goto(f"/sager/{case.id}")
    timeline = page.locator("ol.timeline").inner_text()
    assert script in timeline and "Jobparat" in timeline and "jc" in timeline
    assert "Afgørelse om ydelse" in page.locator("table.tasks").inner_text()
    assert page.get_by_role("link", name="cv.png").count() == 1
    assert page.locator("figure.diagram svg").count() == 1  # drawn inline, no JavaScript needed
    _shot(page, "sag")

    ys = new_page()
    _login(ys, "ys")
    assert any("Afgørelse om ydelse" in r for r in _inbox_rows(ys))
    assert alerts == []


def test_team_lead_reassigns_and_auditor_cannot_complete(web_users, session, new_page):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    lead = new_page()
    _login(lead, "jclead")
    assert "Arbejdsbyrde i enheden" in lead.content()
    row = lead.locator("table.tasks tbody tr").first
    row.get_by_label(re.compile("Tildel »Vurdering af henvendelse« til")).select_option("jc2")
    row.get_by_role("button", name="Tildel").click()
    assert "er tildelt jc2" in lead.get_by_role("status").inner_text()
    assert "jc2" in lead.locator("table.tasks tbody tr").first.inner_text()

    auditor = new_page()
    _login(auditor, "auditor")
    auditor.get_by_role("link", name="Vurdering af henvendelse").click()
    assert auditor.get_by_role("button", name="Udfør opgaven").count() == 0
    assert auditor.get_by_role("button", name="Overtag opgaven").count() == 0
    assert "læseadgang" in auditor.locator("main").inner_text()
    task_url = auditor.url
    csrf = auditor.locator('input[name="csrf_token"]').first.get_attribute("value")
    answer = auditor.request.post(task_url, form={"csrf_token": csrf, "f.resume": "x"}, max_redirects=0)
    assert answer.status == 403
    auditor.goto(f"/sager/{case.id}")
    assert "jc2" in auditor.locator("table.tasks").inner_text()


def test_keyboard_only_login_and_visible_focus(web_users, new_page):
    page = new_page()
    page.goto("/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Gå til indhold"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "username"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.type("jc")
    page.keyboard.press("Tab")
    page.keyboard.type(f.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Indbakke"
