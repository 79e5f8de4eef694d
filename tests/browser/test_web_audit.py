"""The auditor's pages: the case page says whether the audit trail verifies and (for auditors and admins) who
read the case; "Find sag" finds closed cases too, by status and journey, or by CPR in a POST body.

Over real HTTP (httpx) for the paths, and once in Chromium for the auditor's way through.
"""
from __future__ import annotations

import re

from tests import audit_tamper as tamper
from tests import factories as f

from .conftest import csrf_of


def _closed_case(session, users):
    case = f.start_case(session, "web_intake", actor=users["jc"], data={})
    from engine import runtime
    runtime.cancel_case(session, case_id=case.id, reason="oprettet ved en fejl", actor="jclead", rules=f.RULES)
    session.commit()
    return case


def test_the_case_page_shows_the_chain_and_the_access_log_to_an_auditor(web_users, web, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    assert web("jc").get(f"/sager/{case.id}").status_code == 200
    page = web("auditor").get(f"/sager/{case.id}")
    assert page.status_code == 200
    assert "Verificeret" in page.text and "Brudt" not in page.text
    log = page.text.split('id="adgangslog"')[1]
    assert re.search(r"<td>jc</td><td>Åbnede sagen</td>", log)
    assert re.search(r"<td>auditor</td><td>Åbnede sagen</td>", log)  # the page's own read, newest first
    assert log.index("<td>auditor</td>") < log.index("<td>jc</td>")


def test_a_caseworker_sees_the_verdict_but_not_the_access_log(web_users, web, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    page = web("jc").get(f"/sager/{case.id}")
    assert "Verificeret" in page.text and 'id="adgangslog"' not in page.text


def test_a_tampered_trail_shows_as_broken(web_users, web, db, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    tamper.change(db, case.id, 1, actor="mallory")
    page = web("auditor").get(f"/sager/{case.id}")
    assert "Brudt" in page.text and "ved hændelse nr. 1" in page.text


def test_find_sag_lists_closed_cases_by_status(web_users, web, session):
    closed = _closed_case(session, web_users)
    running = f.start_case(session, "web_intake", actor=web_users["jc"], cpr="020285-4321", data={})
    auditor = web("auditor")
    everything = auditor.get("/sager").text
    assert closed.id[:8] in everything and running.id[:8] in everything
    cancelled = auditor.get("/sager", params={"status": "cancelled"}).text
    assert f'href="/sager/{closed.id}"' in cancelled and running.id[:8] not in cancelled
    assert "Annulleret" in cancelled
    odd = auditor.get("/sager", params={"status": "gisp", "side": "-4"})
    assert odd.status_code == 200 and closed.id[:8] in odd.text  # an unknown status is no filter


def test_find_sag_by_cpr_keeps_the_number_out_of_the_url_and_logs_the_search(web_users, web, session):
    closed = _closed_case(session, web_users)
    f.start_case(session, "web_intake", actor=web_users["jc"], cpr="020285-4321", data={})
    auditor = web("auditor")
    form = auditor.get("/sager")
    assert 'method="post" action="/sager"' in form.text
    found = auditor.post("/sager", data={"csrf_token": csrf_of(form.text), "cpr": f.CPR})
    assert found.status_code == 200
    assert closed.id[:8] in found.text and "020285" not in found.text and "010190-1234" not in found.text
    log = auditor.get(f"/sager/{closed.id}").text.split('id="adgangslog"')[1]
    assert "Fandt sagen ved CPR-søgning" in log
    bad = auditor.post("/sager", data={"csrf_token": csrf_of(form.text), "cpr": "123"})
    assert bad.status_code == 422 and "CPR-nummeret er ikke gyldigt" in bad.text
    assert auditor.post("/sager", data={"cpr": f.CPR}).status_code == 403  # no CSRF token


def test_find_sag_follows_the_read_rules(web_users, web, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    assert case.id[:8] not in web("ys").get("/sager").text  # not ydelsesservice's case
    assert web("owner").get("/sager").status_code == 403


def test_an_auditor_finds_a_closed_case_and_sees_who_read_it(web_users, session, new_page, web):
    closed = _closed_case(session, web_users)
    web("jc").get(f"/sager/{closed.id}")
    page = new_page()
    page.goto("/")
    page.get_by_label("Brugernavn").fill("auditor")
    page.get_by_label("Adgangskode").fill(f.PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.get_by_role("link", name="Find sag").click()
    page.get_by_label("Status").select_option("cancelled")
    page.get_by_role("button", name="Vis").click()
    page.get_by_role("link", name=closed.number).click()  # the case number people say on the phone
    assert page.locator("#revisionsspor").inner_text().startswith("Verificeret")
    log = page.locator("table.access-log tbody tr").all_inner_texts()
    assert any("jc" in row and "Åbnede sagen" in row for row in log)


def test_staff_find_their_units_closed_cases_by_status_and_journey(web_users, web, session):
    closed = _closed_case(session, web_users)
    f.deploy_data(session, "intake.bpmn")
    other_journey = f.start_case(session, "intake", actor=web_users["jc"], cpr="020285-4321", data={})
    jc = web("jc")
    cancelled = jc.get("/sager", params={"status": "cancelled"}).text
    assert f'href="/sager/{closed.id}"' in cancelled and f'href="/sager/{other_journey.id}"' not in cancelled
    intake = jc.get("/sager", params={"forloeb": "intake"}).text
    assert f'href="/sager/{other_journey.id}"' in intake and f'href="/sager/{closed.id}"' not in intake
    both = jc.get("/sager", params={"forloeb": "web_intake", "status": "cancelled"}).text
    assert f'href="/sager/{closed.id}"' in both and closed.number in both
    assert f'href="/sager/{closed.id}"' not in web("ys").get("/sager", params={"status": "cancelled"}).text
