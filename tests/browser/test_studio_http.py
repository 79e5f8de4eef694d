"""The studio's server-rendered pages over real HTTP (httpx, no browser): who may, what they show, the
migration's dry run and run, the forms editor, publishing a draft; bad input and CSRF.

The journey is tests/data/web_intake.bpmn (it has a layout, so its diagrams are drawn).
"""
from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from engine import drafts
from engine.models import Case, HumanTask
from tests import factories as f

from .conftest import csrf_of

WEB_INTAKE = (f.DATA / "web_intake.bpmn").read_text(encoding="utf-8")
# version 2 renames the first task's id (its cases need a mapping) and renames the decision task
V2 = (WEB_INTAKE.replace('"vurdering"', '"vurdering_ny"').replace(">vurdering<", ">vurdering_ny<")
      .replace('name="Afgørelse om ydelse"', 'name="Afgørelse om ydelsen"'))


def deploy_v2(session):
    [deployed] = f.deploy_files_text(session, "web_intake.bpmn", V2)
    assert deployed.version == 2
    return deployed


@pytest.fixture
def running(web_users, session):
    """Two version-1 cases at `vurdering`, one at `afgoerelse`; then version 2."""
    cases = [f.start_case(session, "web_intake", actor=web_users["jc"], data={}) for _ in range(3)]
    last = session.scalar(select(HumanTask).where(HumanTask.case_id == cases[2].id, HumanTask.status == "open"))
    from engine import runtime
    runtime.complete_task(session, task_id=last.id, data={"resume": "x", "til_raadighed": True,
                                                          "samtaledato": "2026-12-01", "kategori": "jobparat"},
                          user=web_users["jc"], rules=f.RULES)
    session.commit()
    deploy_v2(session)
    return [c.id for c in cases]


STUDIO_PAGES = ["/studio", "/studio/web_intake/versions", "/studio/web_intake/versions/1",
                "/studio/web_intake/compare?from=1&to=2", "/studio/web_intake/migrate?from=1&to=2",
                "/studio/web_intake/forms", "/studio/web_intake/forms/t_webvurdering",
                "/studio/web_intake/publish"]


@pytest.mark.parametrize("username", ["jc", "jclead", "auditor", "system"])
def test_other_roles_get_403_pages(web, running, username):
    client = web(username)
    for path in STUDIO_PAGES:
        r = client.get(path)
        assert r.status_code == 403, (path, r.status_code)
        assert "Adgang nægtet" in r.text and "text/html" in r.headers["content-type"]
    page = client.get("/studio/web_intake/forms/t_webvurdering")
    r = client.post("/studio/web_intake/migrate", data={"csrf_token": csrf_of(page.text) if "csrf_token" in page.text
                                                        else "x", "from": "1", "to": "2", "handling": "flyt"})
    assert r.status_code == 403
    assert web().get("/studio").status_code == 303   # not logged in: to the login page


def test_a_process_owner_lands_in_the_studio_and_sees_the_journeys(web, running, session):
    owner = web("owner")
    r = owner.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/studio"
    page = owner.get("/studio").text
    assert 'href="/studio"' in page and "Studio" in page and "ingen opgaveindbakke" not in page
    assert 'href="/studio/web_intake/edit"' in page and 'href="/studio/new"' in page
    row = re.search(r"Test: webindtag.*?</tr>", page, re.S).group(0)
    assert ">2<" in row and ">3<" in row and "Intet udkast" in row    # latest version 2, three running cases
    drafts.save_draft(session, "web_intake", bpmn=V2, forms={}, revision=None, actor="admin")
    session.commit()
    page = owner.get("/studio").text
    assert "Udkast" in page and "af admin" in page and 'href="/studio/web_intake/publish"' in page
    admin_page = web("admin").get("/").text          # an admin keeps the inbox, with a Studio entry
    assert "Indbakke" in admin_page and 'href="/studio"' in admin_page


def test_versions_show_who_when_and_the_cases_on_each_with_count_badges(web, running):
    owner = web("owner")
    page = owner.get("/studio/web_intake/versions").text
    assert "Version 2" in page and "Version 1" in page and "test" in page   # deployed by the factories' "test"
    assert 'href="/studio/web_intake/migrate?from=1&amp;to=2"' in page
    one = owner.get("/studio/web_intake/versions/1").text
    assert 'data-element="vurdering" data-cases="2"' in one and 'data-element="afgoerelse" data-cases="1"' in one
    assert "2 kørende sager står her: Vurdering af henvendelse" in one
    assert "<svg" in one and 'role="img"' in one
    assert owner.get("/studio/web_intake/versions/9").status_code == 404
    assert owner.get("/studio/nothing/versions").status_code == 404
    assert owner.get("/studio/web_intake/versions/x").status_code == 422


def test_compare_marks_added_removed_and_changed_and_lists_the_attributes(web, running):
    page = web("owner").get("/studio/web_intake/compare?from=1&to=2").text
    assert 'class="mark mark-removed" data-element="vurdering"' in page
    assert 'class="mark mark-added" data-element="vurdering_ny"' in page
    assert page.count('class="mark mark-changed" data-element="afgoerelse"') == 2   # on both sides
    assert "Fjernet: Vurdering af henvendelse" in page and "Tilføjet: Vurdering af henvendelse" in page
    assert "Afgørelse om ydelsen" in page and "navn (name)" in page
    assert re.search(r"<strong>3</strong> af version 1s 3 kørende sager", page)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "an id is used twice on the page"
    assert 'id="fra-hatch"' in page and 'id="til-hatch"' in page and 'url(#hatch)' not in page
    assert web("owner").get("/studio/web_intake/compare?from=1&to=7").status_code == 404
    assert web("owner").get("/studio/web_intake/compare?from=x&to=2").status_code == 422


def _migrate(client, data):
    page = client.get("/studio/web_intake/migrate?from=1&to=2")
    return client.post("/studio/web_intake/migrate", data={"csrf_token": csrf_of(page.text), "from": "1", "to": "2",
                                                           **data})


def test_the_migration_plan_dry_run_and_run_with_a_report_per_case(web, running, session):
    owner = web("owner")
    plan = owner.get("/studio/web_intake/migrate?from=1&to=2").text
    assert 'name="map.vurdering"' in plan and "2 kørende sager står her" in plan
    assert re.search(r'<option value="vurdering_ny" selected>', plan)   # the diff's suggestion
    refused = _migrate(owner, {"handling": "proev", "map.vurdering": ""})
    assert refused.status_code == 200 and "Prøvekørslen ændrede ingenting" in refused.text
    assert refused.text.count("Afvist: Sagen står på »vurdering«") == 2
    assert refused.text.count("Afvist: Sagen har passeret »vurdering«") == 1   # its history needs the mapping too
    assert "0 sager kan flyttes, 3 vil blive afvist" in refused.text
    dry = _migrate(owner, {"handling": "proev", "map.vurdering": "vurdering_ny"})
    assert "3 sager kan flyttes, 0 vil blive afvist" in dry.text
    for case_id in running:
        assert f'href="/sager/{case_id}"' in dry.text
    session.expire_all()
    assert {c.version for c in session.scalars(select(Case))} == {1}        # a dry run changes nothing
    done = _migrate(owner, {"handling": "flyt", "map.vurdering": "vurdering_ny"})
    assert "3 sager er flyttet til version 2" in done.text and done.text.count("Flyttet") >= 3
    session.expire_all()
    assert {c.version for c in session.scalars(select(Case))} == {2}
    moved = session.scalars(select(HumanTask).where(HumanTask.status == "open")).all()
    assert sorted(t.element_id for t in moved) == ["afgoerelse", "vurdering_ny", "vurdering_ny"]


def test_migration_bad_input_and_csrf(web, running, session):
    owner = web("owner")
    r = owner.post("/studio/web_intake/migrate", data={"csrf_token": "forged", "from": "1", "to": "2",
                                                       "handling": "flyt", "map.vurdering": "vurdering_ny"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = _migrate(owner, {"handling": "flyt", "map.vurdering": "no_such_element"})
    assert r.status_code == 422 and "Planen kan ikke bruges" in r.text and "»no_such_element« er ikke et trin" in r.text
    assert owner.get("/studio/web_intake/migrate?from=2&to=2").status_code == 422
    assert owner.get("/studio/web_intake/migrate?from=5&to=2").status_code == 422
    assert owner.get("/studio/nothing/migrate").status_code == 404
    session.expire_all()
    assert {c.version for c in session.scalars(select(Case))} == {1}


def _form_page(client, name="t_webvurdering"):
    return client.get(f"/studio/web_intake/forms/{name}")


def _attrs(tag: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)} | {
        k: "" for k in re.findall(r"\s(checked|selected)(?=[\s>])", tag)}


def _editor_data(page_html: str, **changes) -> dict:
    """The editor form's fields as a browser would post them (no button), with changes."""
    form = page_html[page_html.index('id="editor"'):]
    form = form[:form.index("</form>")]
    data = {}
    for tag in re.findall(r"<input[^>]*>", form):
        a = _attrs(tag)
        if "name" not in a or a.get("type") in ("submit", "file") or (a.get("type") == "checkbox" and "checked" not in a):
            continue
        if a.get("type") == "radio" and "checked" not in a:
            continue
        data[a["name"]] = a.get("value", "")
    for tag, text in re.findall(r"(<textarea[^>]*>)(.*?)</textarea>", form, re.S):
        data[_attrs(tag)["name"]] = html.unescape(text)
    for tag, body in re.findall(r"(<select[^>]*>)(.*?)</select>", form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        first = re.search(r'<option value="([^"]*)"', body)
        data[_attrs(tag)["name"]] = html.unescape((chosen or first).group(1)) if (chosen or first) else ""
    data.update(changes)
    return data


def test_the_forms_editor_previews_with_the_task_pages_code_and_saves_into_the_draft(web, running, session):
    owner = web("owner")
    page = _form_page(owner).text
    assert 'value="Resumé af henvendelsen"' in page                 # the field's label, editable
    assert 'id="felt-resume"' in page                               # the preview: the task page's own markup
    shown = owner.post("/studio/web_intake/forms/t_webvurdering",
                       data=_editor_data(page, **{"felt-0-etiket": "Kort resumé", "handling": "vis"}))
    assert shown.status_code == 200 and '<label for="felt-resume">Kort resumé' in shown.text
    assert drafts.find_draft(session, "web_intake") is None          # showing saves nothing
    saved = owner.post("/studio/web_intake/forms/t_webvurdering",
                       data=_editor_data(shown.text, **{"felt-0-etiket": "Kort resumé", "handling": "gem"}))
    assert saved.status_code == 303
    draft = drafts.find_draft(session, "web_intake")
    assert draft.revision == 1 and draft.bpmn == V2                  # begun from the latest version
    form = json.loads(draft.forms["t_webvurdering.json"])
    assert form["fields"][0]["label"] == "Kort resumé" and form["fields"][0]["name"] == "resume"
    again = _form_page(owner).text
    assert 'value="Kort resumé"' in again and "Udkastet (ikke udgivet endnu)" in again


def test_a_stale_form_save_is_refused_and_the_edits_are_kept_on_the_page(web, running, session):
    owner = web("owner")
    page = _form_page(owner).text
    first = owner.post("/studio/web_intake/forms/t_webvurdering",
                       data=_editor_data(page, **{"felt-0-etiket": "Første", "handling": "gem"}))
    assert first.status_code == 303
    stale = owner.post("/studio/web_intake/forms/t_webvurdering",     # the first page still says "no draft"
                       data=_editor_data(page, **{"felt-0-etiket": "Anden fane", "handling": "gem"}))
    assert stale.status_code == 409 and "ikke gemt" in stale.text and 'value="Anden fane"' in stale.text
    form = json.loads(drafts.find_draft(session, "web_intake").forms["t_webvurdering.json"])
    assert form["fields"][0]["label"] == "Første"


def test_the_forms_editor_adds_fields_and_refuses_bad_ones_without_losing_them(web, running, session):
    owner = web("owner")
    page = _form_page(owner, "t_ny_formular")
    assert page.status_code == 200 and "Ny formular" in page.text
    added = owner.post("/studio/web_intake/forms/t_ny_formular",
                       data=_editor_data(page.text, **{"titel": "Ny", "handling": "tilfoej"}))
    assert 'name="felt-0-navn"' in added.text
    bad = owner.post("/studio/web_intake/forms/t_ny_formular", data=_editor_data(added.text, **{
        "felt-0-navn": "valg", "felt-0-etiket": "Vælg", "felt-0-type": "choice", "felt-0-valg": "",
        "felt-0-min": "ti", "handling": "gem"}))
    assert bad.status_code == 422 and "valgmuligheder" in bad.text and 'value="Vælg"' in bad.text
    assert "Skal være et tal" in bad.text
    assert drafts.find_draft(session, "web_intake") is None
    good = owner.post("/studio/web_intake/forms/t_ny_formular", data=_editor_data(bad.text, **{
        "felt-0-valg": "ja = Ja\nnej = Nej", "felt-0-min": "", "felt-0-kraevet": "ja", "handling": "vis"}))
    assert good.status_code == 200 and '<option value="ja">Ja</option>' in good.text
    huge = owner.post("/studio/web_intake/forms/t_ny_formular", data=_editor_data(good.text, **{
        "felt-0-hjaelp": "x" * 600_000, "titel": "y" * 600_000, "handling": "gem"}))  # each part < 1 MiB
    assert huge.status_code == 422 and "ikke gemt" in huge.text and "større end 1048576 bytes" in huge.text
    assert drafts.find_draft(session, "web_intake") is None
    assert owner.get("/studio/web_intake/forms/..%2Fetc").status_code in (404, 422)
    r = owner.post("/studio/web_intake/forms/t_ny_formular", data={"handling": "gem"})
    assert r.status_code == 403


def test_publishing_a_draft_from_its_page_offers_to_move_the_cases(web, running, session):
    owner = web("owner")
    changed = V2.replace('name="Afgørelse om ydelsen"', 'name="Afgørelse (v3)"')
    drafts.save_draft(session, "web_intake", bpmn=changed, forms={}, revision=None, actor="owner")
    session.commit()
    page = owner.get("/studio/web_intake/publish").text
    assert "Afgørelse (v3)" in page and "kørende sager står på trin, du har ændret" in page
    assert "3 kørende sager er på ældre versioner" in page            # version 2 has none; version 1 three
    r = owner.post("/studio/web_intake/publish", data={"csrf_token": csrf_of(page), "revision": "1"})
    assert r.status_code == 303 and r.headers["location"] == "/studio/web_intake/versions"
    assert drafts.find_draft(session, "web_intake") is None
    stale = owner.post("/studio/web_intake/publish", data={"csrf_token": csrf_of(page), "revision": "1"})
    assert stale.status_code == 404


def test_publishing_over_running_cases_goes_on_to_move_them_and_a_draft_can_be_discarded(web, web_users, session):
    case = f.start_case(session, "web_intake", actor=web_users["jc"], data={})
    owner = web("owner")
    drafts.save_draft(session, "web_intake", bpmn=V2, forms={}, revision=None, actor="owner")
    session.commit()
    page = owner.get("/studio/web_intake/publish").text
    assert re.search(r"<strong>1</strong> kørende sag står på trin, du har ændret", page)
    assert "Vurdering af henvendelse" in page and "Fjernede trin (1)" in page
    r = owner.post("/studio/web_intake/publish", data={"csrf_token": csrf_of(page), "revision": "1"})
    assert r.status_code == 303 and r.headers["location"] == "/studio/web_intake/migrate?from=1&to=2"
    plan = owner.get(r.headers["location"]).text
    assert "Version 2 af »web_intake« er udgivet" in plan and 'name="map.vurdering"' in plan
    assert session.get(Case, case.id).version == 1                    # moved only when the owner says so

    drafts.save_draft(session, "web_intake", bpmn=WEB_INTAKE, forms={}, revision=None, actor="owner")
    drafts.save_draft(session, "web_intake", bpmn=V2, forms={}, revision=1, actor="admin")   # a colleague saves
    session.commit()
    stale = owner.post("/studio/web_intake/discard", data={"csrf_token": csrf_of(page), "revision": "1"})
    assert stale.status_code == 303 and stale.headers["location"] == "/studio/web_intake/publish"
    assert drafts.find_draft(session, "web_intake").revision == 2
    gone = owner.post("/studio/web_intake/discard", data={"csrf_token": csrf_of(page), "revision": "2"})
    assert gone.status_code == 303 and gone.headers["location"] == "/studio"
    session.expire_all()
    assert drafts.find_draft(session, "web_intake") is None
    with_errors = WEB_INTAKE.replace('name="ydelsesservice"', 'name="ydelser"')
    drafts.save_draft(session, "web_intake", bpmn=with_errors, forms={}, revision=None, actor="owner")
    session.commit()
    page = owner.get("/studio/web_intake/publish").text
    assert "Fejl, der skal rettes før udgivelse" in page and "Udgiv som ny version" not in page
    r = owner.post("/studio/web_intake/publish", data={"csrf_token": csrf_of(page), "revision": "1"})
    assert r.status_code == 422 and "intet er udgivet" in r.text
    assert owner.post("/studio/web_intake/publish", data={"csrf_token": "x", "revision": "1"}).status_code == 403
