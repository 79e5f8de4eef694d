"""The web UI's bad paths over real HTTP (httpx, no browser): login, CSRF, throttling, access, escaping.

Fast; the scenario in a real browser is in test_web_browser.py.
"""
from __future__ import annotations

import re
from datetime import timedelta

import httpx
import time_machine

from engine import clock
from engine.case_rules import CaseRules
from engine.login_throttle import FREE_FAILURES, MAX_LOCK, lock_for
from engine.models import Case, HumanTask, LoginThrottle
from tests import factories as f

from .conftest import csrf_of, web_client

PNG = b"\x89PNG\r\n\x1a\n"


def _open_task(session, case_id: str) -> HumanTask:
    session.expire_all()
    return session.query(HumanTask).filter_by(case_id=case_id, status="open").one()


def _valid(csrf: str, **extra) -> dict:
    return {"csrf_token": csrf, "f.resume": "Borgeren søger hjælp", "f.til_raadighed": "ja",
            "f.samtaledato": "2026-12-01", "f.kategori": "jobparat", **extra}


def test_pages_need_a_session_but_the_api_keeps_bearer_auth_and_json(web_users, web, live):
    anonymous = web()
    r = anonymous.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F"
    r = anonymous.get("/api/tasks")
    assert r.status_code == 401 and r.json()["detail"].startswith("not authenticated")
    r = anonymous.get("/api/no-such-thing")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    jc = web("jc")
    r = jc.get("/no-such-page")
    assert r.status_code == 404 and "Siden findes ikke" in r.text and "text/html" in r.headers["content-type"]
    r = jc.get("/opgaver/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and "Siden findes ikke" in r.text


def test_session_cookie_is_httponly_lax_and_secure_over_https(web_users, live):
    plain = httpx.get(f"{live}/login").headers["set-cookie"]
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1, as behind a TLS-terminating proxy
    https = httpx.get(f"{live}/login", headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert "HttpOnly" in plain and "SameSite=lax" in plain and "Secure" not in plain
    assert "HttpOnly" in https and "Secure" in https


def test_session_cookie_is_no_api_token_and_a_token_is_no_session(web_users, web, live):
    jc = web("jc")
    cookie = jc.cookies["tovholder_session"]
    r = httpx.get(f"{live}/api/tasks", headers={"Authorization": f"Bearer {cookie}"})
    assert r.status_code == 401
    token = f.token(live, "jc")
    r = httpx.get(f"{live}/", cookies={"tovholder_session": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_post_without_or_with_a_wrong_csrf_token_is_refused(web_users, web, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    task = _open_task(session, case.id)
    jc = web("jc")
    for token in (None, "forged"):
        data = _valid(token) if token else {k: v for k, v in _valid("x").items() if k != "csrf_token"}
        r = jc.post(f"/opgaver/{task.id}", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
        r = jc.post(f"/opgaver/{task.id}/overtag", data={"csrf_token": token} if token else {})
        assert r.status_code == 403
    assert _open_task(session, case.id).id == task.id  # still open, unclaimed
    r = web().post("/login", data={"username": "jc", "password": f.PASSWORD})
    assert r.status_code == 403  # the login form is protected too


def test_login_failures_lock_the_name_for_a_growing_time(web_users, live, session):
    assert lock_for(FREE_FAILURES - 1) is None
    assert lock_for(FREE_FAILURES) < lock_for(FREE_FAILURES + 1) <= MAX_LOCK == lock_for(FREE_FAILURES + 20)
    client = web_client(live)
    csrf = csrf_of(client.get("/login").text)

    def attempt(password: str) -> httpx.Response:
        return client.post("/login", data={"username": "jc", "password": password, "csrf_token": csrf})

    for _ in range(FREE_FAILURES):
        r = attempt("wrong password")
        assert r.status_code == 401 and "forkert" in r.text and 'value="jc"' in r.text
    r = attempt(f.PASSWORD)  # the right password, but the name is locked now
    assert r.status_code == 429 and "For mange mislykkede forsøg" in r.text
    assert session.get(LoginThrottle, "jc", populate_existing=True).failures == FREE_FAILURES
    with time_machine.travel(clock.now() + lock_for(FREE_FAILURES) + timedelta(seconds=1), tick=False):
        r = attempt(f.PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert session.get(LoginThrottle, "jc", populate_existing=True) is None  # a success clears the count
    # an unknown name is counted the same way (no hint whether a name exists)
    other = web_client(live)
    csrf = csrf_of(other.get("/login").text)
    answers = [other.post("/login", data={"username": "nobody", "password": "x" * 9, "csrf_token": csrf}).status_code
               for _ in range(FREE_FAILURES + 1)]
    assert answers == [401] * FREE_FAILURES + [429]


def test_login_goes_to_the_page_asked_for_but_never_off_site(web_users, live):
    client = web_client(live)
    csrf = csrf_of(client.get("/login").text)
    for target, expected in (("/sager/ny", "/sager/ny"), ("//evil.example", "/"), ("https://evil.example", "/")):
        r = client.post("/login", data={"username": "jc", "password": f.PASSWORD, "csrf_token": csrf,
                                        "next": target})
        assert r.headers["location"] == expected
        csrf = csrf_of(client.get("/sager/ny").text)


def test_auditor_reads_but_cannot_complete(web_users, web, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    task = _open_task(session, case.id)
    auditor = web("auditor")
    page = auditor.get(f"/opgaver/{task.id}")
    assert page.status_code == 200 and "Vurdering af henvendelse" in page.text
    assert "Udfør opgaven" not in page.text and "Overtag" not in page.text and "læseadgang" in page.text
    r = auditor.post(f"/opgaver/{task.id}", data=_valid(csrf_of(page.text)))
    assert r.status_code == 403 and "Adgang nægtet" in r.text
    assert _open_task(session, case.id).id == task.id
    assert auditor.get(f"/sager/{case.id}").status_code == 200


def test_other_units_task_is_forbidden_in_the_same_look(web_users, web, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    task = _open_task(session, case.id)
    r = web("ys").get(f"/opgaver/{task.id}")
    assert r.status_code == 403 and "Adgang nægtet" in r.text and 'class="top"' in r.text


def test_invalid_form_comes_back_with_messages_and_input_escaped(web_users, web, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    task = _open_task(session, case.id)
    jc = web("jc")
    csrf = csrf_of(jc.get(f"/opgaver/{task.id}").text)
    script = "<script>alert('x')</script>"
    r = jc.post(f"/opgaver/{task.id}", data={"csrf_token": csrf, "f.resume": script, "f.timer": "mange",
                                             "f.noter": "æøå " + script, "f.til_raadighed": "nej"})
    assert r.status_code == 422
    assert "Ledige timer pr. uge: skal være et tal" in r.text
    assert "Dato for samtale: skal udfyldes" in r.text and "Visitationskategori: skal udfyldes" in r.text
    assert script not in r.text  # escaped, never markup
    assert 'value="&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"' in r.text
    assert "æøå &lt;script&gt;" in r.text and 'value="nej" checked' in r.text and 'value="mange"' in r.text
    r = jc.post(f"/opgaver/{task.id}", data=_valid(csrf, **{"f.resume": script, "f.timer": "12,5"}))
    assert r.status_code == 303 and r.headers["location"] == "/"
    flash = jc.get("/")
    assert "Opgaven »Vurdering af henvendelse« er udført." in flash.text
    assert "er udført" not in jc.get("/").text  # shown once
    case_page = jc.get(f"/sager/{case.id}").text
    assert script not in case_page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in case_page
    assert "12,5" in case_page and "Jobparat" in case_page and "Afgørelse om ydelse" in case_page


def test_start_a_case_keeps_the_cpr_out_of_urls(web_users, web, session, caplog):
    jc = web("jc")
    page = jc.get("/sager/ny?forloeb=web_intake")
    assert page.status_code == 200 and "Borgerens CPR-nummer" in page.text
    csrf = csrf_of(page.text)
    r = jc.post("/sager/ny", data={"csrf_token": csrf, "forloeb": "web_intake", "cpr": "3201901234",
                                   "f.note": "første kontakt"})
    assert r.status_code == 422 and "CPR-nummeret er ikke gyldigt" in r.text and "første kontakt" in r.text
    r = jc.post("/sager/ny", data={"csrf_token": csrf, "forloeb": "web_intake", "cpr": f.CPR,
                                   "f.note": "første kontakt"})
    assert r.status_code == 303 and re.fullmatch(r"/sager/[0-9a-f-]{36}", r.headers["location"])
    case_page = jc.get(r.headers["location"]).text
    assert "010190-****" in case_page and "1234" not in case_page.replace("010190-****", "")
    assert "Sagen er oprettet" in case_page and "første kontakt" in case_page
    assert f.CPR not in caplog.text and f.CPR.replace("-", "") not in caplog.text
    r = web("auditor").get("/sager/ny")
    assert r.status_code == 403


def test_a_caseworker_who_starts_another_units_journey_cannot_open_it(web_users, web, session):
    f.add_user(session, "sof1", "caseworker", ["sof"])
    sof = web("sof1")
    page = sof.get("/sager/ny?forloeb=web_intake")
    r = sof.post("/sager/ny", data={"csrf_token": csrf_of(page.text), "forloeb": "web_intake", "cpr": f.CPR,
                                    "f.note": "fortroligt"})
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    inbox = sof.get("/")
    case_id = re.search(r"sagsnummer (\d{4}-\d{6})", inbox.text)
    assert inbox.status_code == 200 and case_id and "en anden enhed" in inbox.text
    session.expire_all()
    [full_id] = [c.id for c in session.query(Case) if c.number == case_id.group(1)]
    r = sof.get(f"/sager/{full_id}")
    assert r.status_code == 403 and "fortroligt" not in r.text
    assert web("jc").get(f"/sager/{full_id}").status_code == 200  # Jobcenter, whose lane it is in, reads it


def test_team_lead_sees_workload_and_reassigns(web_users, web, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    task = _open_task(session, case.id)
    lead = web("jclead")
    inbox = lead.get("/")
    assert "Arbejdsbyrde i enheden" in inbox.text and "Ikke fordelt" in inbox.text
    r = lead.post(f"/opgaver/{task.id}/tildel", data={"csrf_token": csrf_of(inbox.text), "username": "jc2",
                                                      "tilbage": "indbakke"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    inbox = lead.get("/")
    assert "er tildelt jc2" in inbox.text
    session.expire_all()
    assert session.get(HumanTask, task.id).assignee == "jc2"
    r = lead.post(f"/opgaver/{task.id}/tildel", data={"csrf_token": csrf_of(inbox.text), "username": "ys"})
    assert r.status_code == 303
    assert "blev ikke tildelt" in lead.get(r.headers["location"]).text
    mine = web("jc2").get("/?fane=mine")
    assert "Vurdering af henvendelse" in mine.text and "Mine <span class=\"count\">(1)</span>" in mine.text


def test_upload_over_the_limit_is_refused_with_a_message_and_a_good_one_is_kept(web_users, web, session,
                                                                                   settings):
    settings.max_upload_bytes = 2048
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    task = _open_task(session, case.id)
    jc = web("jc")
    csrf = csrf_of(jc.get(f"/opgaver/{task.id}").text)
    big = {"f.dokumentation": ("scan.png", PNG + b"\0" * 3000, "image/png")}
    r = jc.post(f"/opgaver/{task.id}", data=_valid(csrf), files=big)
    assert r.status_code == 413 and "Filen er for stor" in r.text and 'value="Borgeren søger hjælp"' in r.text
    assert _open_task(session, case.id).id == task.id
    wrong = {"f.dokumentation": ("virus.exe", b"MZ\x90\x00" + b"\xff" * 100, "application/octet-stream")}
    r = jc.post(f"/opgaver/{task.id}", data=_valid(csrf), files=wrong)
    assert r.status_code == 415 and "Filtypen er ikke tilladt" in r.text
    good = {"f.dokumentation": ("lægeerklæring.png", PNG + b"\0" * 100, "image/png")}
    r = jc.post(f"/opgaver/{task.id}", data=_valid(csrf), files=good)
    assert r.status_code == 303
    case_page = jc.get(f"/sager/{case.id}").text
    link = re.search(r'href="(/sager/[^"]+/bilag/[^"]+)">lægeerklæring.png<', case_page)
    assert link, case_page
    download = jc.get(link.group(1))
    assert download.status_code == 200 and download.content == PNG + b"\0" * 100
    assert download.headers["content-disposition"].startswith("attachment")
    f.add_user(session, "sofx", "caseworker", ["sof"])
    assert web("sofx").get(link.group(1)).status_code == 403


def test_a_forms_own_html_layout_places_the_fields(web_users, web, session, settings, tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    for path in f.FORMS.glob("*.json"):
        (forms / path.name).write_bytes(path.read_bytes())
    settings.forms_dir = forms
    before = _open_task(session, f.start_case(session, "web_intake", actor=web_users["jc"], data={}).id)
    (forms / "t_webvurdering.html").write_text(
        '<fieldset class="layout"><legend>Borgeren</legend>{{ field("resume") }}{{ field("til_raadighed") }}'
        '</fieldset>{{ field("samtaledato") }}{{ field("kategori") }}<p>{{ "<b>escaped</b>" }}</p>',
        encoding="utf-8")
    jc = web("jc")
    # the layout is part of the next version; the running case keeps its own version's form
    assert '<fieldset class="layout">' not in jc.get(f"/opgaver/{before.id}").text
    [v2] = f.deploy_data(session, "web_intake.bpmn", rules=CaseRules(forms_dir=forms))
    assert (v2.version, v2.new) == (2, True)
    assert '<fieldset class="layout">' not in jc.get(f"/opgaver/{before.id}").text
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    task = _open_task(session, case.id)
    page = jc.get(f"/opgaver/{task.id}")
    assert '<fieldset class="layout"><legend>Borgeren</legend>' in page.text and 'id="felt-resume"' in page.text
    assert 'id="felt-noter"' not in page.text and "&lt;b&gt;escaped&lt;/b&gt;" in page.text
    r = jc.post(f"/opgaver/{task.id}", data={"csrf_token": csrf_of(page.text), "f.resume": "x"})
    assert r.status_code == 422 and 'id="felt-kategori-fejl"' in r.text and 'value="x"' in r.text


def test_inbox_tabs_counts_filters_pages_and_overdue_in_text(web_users, web, session):
    for n in range(27):
        f.start_case(session, "web_intake", actor=web_users["jc"], cpr=f"0101{90 + n % 10:02d}-{1000 + n}", data={})
    f.deploy_data(session, "intake.bpmn")
    f.start_case(session, "intake", actor=web_users["jc"], data={})
    jc = web("jc")
    first = jc.get("/").text
    assert "Min enhed <span class=\"count\">(28)</span>" in first and "Side 1 af 2" in first
    assert first.count('href="/opgaver/') == 25 and "Forfalden" not in first
    assert jc.get("/?side=2").text.count('href="/opgaver/') == 3
    only = jc.get("/?forloeb=intake").text
    assert only.count('href="/opgaver/') == 1 and "Registrering som arbejdssøgende" in only
    assert jc.get("/?opgave=vurdering").text.count('href="/opgaver/') == 25
    assert "Snart forfaldne <span class=\"count\">(27)</span>" in first  # due in 2 days
    with time_machine.travel(clock.now() + timedelta(days=3), tick=False):  # the session has expired by then
        assert jc.get("/").headers["location"] == "/login?next=%2F"
        late = web("jc").get("/?fane=forfaldne").text
    assert "Forfaldne <span class=\"count\">(27)</span>" in late and late.count("Forfalden</span>") == 25
    assert jc.get("/?side=abc").status_code == 422  # a page in the UI's look, not JSON
