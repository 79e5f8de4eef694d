"""The studio's modeler (/studio/{key}/edit) in Chromium, against the real studio API and database.

A process owner opens kontanthjælp, adds a SOF lane and a user task in it
(drawn through bpmn-js' modeling API, as pointer drawing is impractical in a
test), sees the check's marker for its missing form, picks the lane's unit,
the form and a named deadline through the properties panel, saves, publishes
after the confirmation that shows the diff and the running cases affected,
and is offered the migration page. Two tabs saving one draft: the second
save is refused with a message, nothing is overwritten. axe-core finds no
serious or critical problem on the page. Other roles get 403.

Skipped with the reason where Chromium or the built modeler (make install,
which needs npm) is missing.
"""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from engine import catalog
from engine.case_rules import CaseRules
from engine.validation import parse_tree
from tests import factories as f

ROOT = f.ROOT
BUNDLE = ROOT / "api" / "static" / "studio" / "modeler.js"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
KH_RULES = CaseRules(forms_dir=ROOT / "forms", deadlines_file=ROOT / "config" / "deadlines.toml")
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
SHOTS = ROOT / "docs" / "screenshots"


def _shot(page, name: str) -> None:
    """With TOVHOLDER_SCREENSHOTS=1 (python -m tests.browser.screenshots): the README's pictures."""
    if os.environ.get("TOVHOLDER_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def modeler_built():
    if not BUNDLE.is_file():
        pytest.skip(f"the studio modeler is not built ({BUNDLE.relative_to(ROOT)} missing: make install, with npm)")


@pytest.fixture
def kontanthjaelp(seed, session, settings, live):
    """Units and users, kontanthjælp (with the process it calls) deployed from processes/, two running cases."""
    settings.forms_dir = ROOT / "forms"
    settings.deadlines_file = ROOT / "config" / "deadlines.toml"
    users = seed(*(ROOT / "processes" / name for name in ("shared", "kontanthjaelp", "rehabiliteringsteam",
                                                          "langvarig_aktivitetsparat")), rules=KH_RULES)
    for cpr in ("010190-1234", "020290-2345"):
        f.start_case(session, "kontanthjaelp", actor=users["jc"], cpr=cpr, rules=KH_RULES,
                     data={"henvendelsesdato": "2026-11-23", "forsikret": False})
    return users


def _login(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(f.PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _open(page, key: str = "kontanthjaelp") -> None:
    page.goto(f"/studio/{key}/edit")
    page.wait_for_function("window.tovholderModeler && window.tovholderModeler.get('elementRegistry').get('tilmelding')")
    _checked(page)


def _checked(page) -> None:
    """Wait until the check that the last change started has answered."""
    page.wait_for_function("document.getElementById('studio-problems-region').getAttribute('aria-busy') === 'false'")


def _select(page, element_id: str) -> None:
    page.evaluate("id => { const m = window.tovholderModeler; m.get('selection').select(m.get('elementRegistry').get(id)); }",
                  element_id)


# Adds a lane below the last one, a user task in it, and puts the task between tilmelding and
# visitation (the flow f_tilmeldt now ends at the task; a new flow goes on to visitation), so
# the cases waiting at tilmelding stand on a changed step.
DRAW = """() => {
  const m = window.tovholderModeler;
  const registry = m.get('elementRegistry'), modeling = m.get('modeling');
  const lanes = registry.filter(e => e.type === 'bpmn:Lane' && e.parent.id === 'kontanthjaelp');
  const lane = modeling.addLane(lanes[lanes.length - 1], 'bottom');
  modeling.resizeLane(lane, { x: lane.x, y: lane.y, width: lane.width, height: 160 });
  const task = modeling.createShape({ type: 'bpmn:UserTask' }, { x: lane.x + 400, y: lane.y + 80 }, lane.parent);
  modeling.updateLabel(task, 'Socialfaglig screening');
  const flow = registry.get('f_tilmeldt');
  modeling.reconnectEnd(flow, task, { x: task.x, y: task.y + task.height / 2 });
  modeling.connect(task, registry.get('visitation'));
  return { lane: lane.id, task: task.id };
}"""


def _problem_lines(page) -> list[str]:
    return page.locator("#studio-problems li").all_inner_texts()


def test_a_process_owner_adds_a_task_sets_its_properties_saves_and_publishes(
        new_page, kontanthjaelp, modeler_built, session):
    page = new_page()
    _login(page, "owner")
    _open(page)
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays
    assert "Version 1 åbnet" in page.locator("#studio-status").inner_text()
    drawn = page.evaluate(DRAW)
    task, lane = drawn["task"], drawn["lane"]
    _checked(page)
    # the check marks the new task (no form yet) on the diagram and in the list
    marker = page.locator(f".djs-element[data-element-id='{task}']")
    assert re.search(r"tov-(problem|warning)", marker.get_attribute("class"))
    line = page.locator(f"#studio-problems button[data-element='{task}']").filter(has_text="formular")
    assert line.count() == 1
    assert page.locator(f".djs-overlay-container [data-element='{task}']").count() == 1  # the badge, not colour alone
    page.evaluate("id => window.tovholderModeler.get('canvas').scrollToElement("
                  "window.tovholderModeler.get('elementRegistry').get(id))", task)
    _shot(page, "studio-modeller")

    # the new lane's unit, chosen in the panel (the check refuses an empty lane name until then)
    _select(page, lane)
    page.locator("select[name='tov-unit']").select_option("sof")
    # clicking the problem's line selects its element: the task's properties come up
    line.click()
    assert page.evaluate("window.tovholderModeler.get('selection').get().map(e => e.id)") == [task]
    form = page.locator("select[name='tov-form']")
    form.select_option("kh_visitation")
    deadline = page.locator("select[name='tov-deadline']")
    option = deadline.locator("option[value='sof_vurdering']")
    assert "P4W" in option.inner_text()  # the rule, in the option
    deadline.select_option("sof_vurdering")
    assert "SOF's socialfaglige vurdering" in page.locator("[data-entry-id='tov-deadline']").inner_text()  # its text
    _checked(page)
    # the check after the last change may start only after its debounce: wait for its answer, not the previous one
    expect(page.locator(f"#studio-problems button[data-element='{task}']")).to_have_count(0, timeout=20_000)
    assert "tov-problem" not in marker.get_attribute("class") and "tov-warning" not in marker.get_attribute("class")

    page.get_by_role("button", name="Gem udkast").click()
    page.wait_for_function("document.getElementById('studio-status').textContent.includes('gemt (revision 1)')")

    page.get_by_role("button", name="Udgiv …").click()
    dialog = page.get_by_role("dialog")
    dialog.locator(".tov-affected").wait_for()
    assert dialog.locator(".tov-affected").inner_text() == "2 kørende sager står på trin, du har ændret."
    assert "Socialfaglig screening" in dialog.inner_text()  # the diff: the added task
    assert "Tilføjet" in dialog.inner_text() and "Ændret" in dialog.inner_text()
    # a new lane leaves the event subprocess's own lanes alone (bpmn-js would put the subprocess in
    # an outer lane, and so its Ydelsesservice steps in the jobcenter's inbox)
    assert "sanktion_afgoerelse" not in dialog.inner_text() and "fravaer_og_sanktion" not in dialog.inner_text()
    _shot(page, "studio-udgiv")
    dialog.get_by_role("button", name="Udgiv ny version").click()
    link = dialog.get_by_role("link", name=re.compile("Flyt de kørende sager"))
    link.wait_for()
    assert link.get_attribute("href") == "/studio/kontanthjaelp/migrate?from=1&to=2"
    assert "Version 2 af kontanthjaelp er udgivet" in dialog.inner_text()

    # version 2 holds what the panel wrote, the way the engine reads it
    session.expire_all()
    root = parse_tree(catalog.get_definition(session, "kontanthjaelp", 2).bpmn_xml.encode())
    [user_task] = [t for t in root.iter(f"{BPMN}userTask") if t.get("id") == task]
    assert user_task.get(f"{CAMUNDA}formKey") == "kh_visitation"
    props = {p.get("name"): p.get("value") for p in user_task.iter(f"{CAMUNDA}property")}
    assert props == {"deadline": "sof_vurdering"}
    [sof_lane] = [x for x in root.iter(f"{BPMN}lane") if x.get("id") == lane]
    assert sof_lane.get("name") == "sof"
    assert task in [ref.text for ref in sof_lane.iter(f"{BPMN}flowNodeRef")]
    main_lanes = root.find(f".//{BPMN}process[@id='kontanthjaelp']/{BPMN}laneSet")
    assert "fravaer_og_sanktion" not in [ref.text for ref in main_lanes.iter(f"{BPMN}flowNodeRef")
                                         if ref.getparent().getparent() is main_lanes]


def test_a_second_tab_saving_the_same_draft_is_refused(new_page, kontanthjaelp, modeler_built, web):
    first = new_page()
    _login(first, "owner")
    second = first.context.new_page()
    _open(first)
    _open(second)
    first.evaluate("() => { const m = window.tovholderModeler; m.get('modeling').updateLabel("
                   "m.get('elementRegistry').get('tilmelding'), 'Tilmelding (første fane)'); }")
    first.get_by_role("button", name="Gem udkast").click()
    first.wait_for_function("document.getElementById('studio-status').textContent.includes('gemt (revision 1)')")
    second.evaluate("() => { const m = window.tovholderModeler; m.get('modeling').updateLabel("
                    "m.get('elementRegistry').get('tilmelding'), 'Tilmelding (anden fane)'); }")
    second.get_by_role("button", name="Gem udkast").click()
    alert = second.locator("#studio-alert")
    alert.wait_for()
    assert "Udkastet er ændret i en anden fane eller af en kollega" in alert.inner_text()
    assert "Udkastet er ikke gemt" in second.locator("#studio-status").inner_text()
    # nothing was overwritten: the server keeps the first tab's draft
    draft = web("owner").get("/api/studio/drafts/kontanthjaelp").json()
    assert draft["revision"] == 1 and "Tilmelding (første fane)" in draft["bpmn"]
    # fetching the newest draft in the second tab shows the first tab's work
    alert.get_by_role("button", name="Hent nyeste udkast").click()
    second.wait_for_function("document.getElementById('studio-status').textContent.includes('revision 1')")
    assert second.evaluate("window.tovholderModeler.get('elementRegistry').get('tilmelding').businessObject.name") \
        == "Tilmelding (første fane)"


def test_the_modeler_page_has_no_serious_accessibility_problems(new_page, kontanthjaelp, modeler_built):
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (npm ci installs it)")
    page = new_page()
    _login(page, "owner")
    _open(page)
    drawn = page.evaluate(DRAW)  # with problems in the list and their badges on the diagram
    _checked(page)
    _select(page, "tilmelding")  # the panel showing Tovholder's properties
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("""async () => {
      const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] });
      return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
    }""")
    assert results == []
    # the publish dialog too (once the new lane names a unit, so that the draft can be published)
    page.evaluate("id => { const m = window.tovholderModeler; m.get('modeling').updateLabel("
                  "m.get('elementRegistry').get(id), 'sof'); }", drawn["lane"])
    _checked(page)
    page.get_by_role("button", name="Gem udkast").click()
    page.get_by_role("button", name="Udgiv …").click()
    page.get_by_role("dialog").locator(".tov-affected").wait_for()
    results = page.evaluate("""async () => {
      const r = await axe.run(document.getElementById('studio-dialog'));
      return r.violations.filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id);
    }""")
    assert results == []


def test_keyboard_works_the_page_controls_and_the_diagram(new_page, kontanthjaelp, modeler_built):
    page = new_page()
    _login(page, "owner")
    _open(page)
    _select(page, "tilmelding")
    page.locator("#studio-canvas .djs-container > svg").focus()  # the canvas takes focus (tabindex 0)
    page.keyboard.press("Delete")  # bpmn-js' keyboard binding: the selected task is removed
    assert page.evaluate("window.tovholderModeler.get('elementRegistry').get('tilmelding')") is None
    undo = page.get_by_role("button", name="Fortryd")
    undo.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("!!window.tovholderModeler.get('elementRegistry').get('tilmelding')")


def test_a_new_journey_starts_from_a_pool_with_a_lane_per_unit(new_page, kontanthjaelp, modeler_built, web):
    page = new_page()
    _login(page, "owner")
    page.goto("/studio/new")
    page.get_by_label("Nøgle").fill("Bolig støtte")
    page.get_by_role("button", name="Opret forløb").click()
    assert "små bogstaver" in page.locator("#studio-new-error").inner_text()
    page.get_by_label("Nøgle").fill("boligstoette")
    page.get_by_label("Navn", exact=True).fill("Boligstøtte")
    page.get_by_label("Rehabiliteringsteam (rehabiliteringsteam)").uncheck()
    page.get_by_role("button", name="Opret forløb").click()
    page.wait_for_function("window.tovholderModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane').length === 4")
    lanes = page.evaluate("window.tovholderModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane')"
                          ".map(e => e.businessObject.name)")
    assert lanes == ["jobcenter", "sof", "virksomhedsservice", "ydelsesservice"]
    page.get_by_role("button", name="Gem udkast").click()
    page.wait_for_url(re.compile(r"/studio/boligstoette/edit$"))
    draft = web("owner").get("/api/studio/drafts/boligstoette").json()
    assert draft["revision"] == 1 and 'isExecutable="true"' in draft["bpmn"]
    # a key that is taken is refused before anything is drawn
    page.goto("/studio/new")
    page.get_by_label("Nøgle").fill("kontanthjaelp")
    page.get_by_role("button", name="Opret forløb").click()
    assert "findes allerede" in page.locator("#studio-new-error").inner_text()


@pytest.mark.parametrize("username", ["jc", "jclead", "auditor"])
def test_only_process_owners_and_admins_open_the_modeler(kontanthjaelp, web, username):
    client = web(username)
    for path in ("/studio/kontanthjaelp/edit", "/studio/new"):
        r = client.get(path)
        assert r.status_code == 403 and "Adgang nægtet" in r.text
    assert web("admin").get("/studio/kontanthjaelp/edit").status_code == 200


def test_the_modeler_page_says_when_the_modeler_is_not_built(kontanthjaelp, web, monkeypatch, tmp_path):
    from api.web import studio_edit
    monkeypatch.setattr(studio_edit, "BUNDLE", tmp_path / "modeler.js")
    page = web("owner").get("/studio/kontanthjaelp/edit")
    assert page.status_code == 200
    assert "Modelleringsværktøjet er ikke bygget" in page.text and "modeler.js" not in page.text


def test_unknown_journeys_and_versions(kontanthjaelp, web):
    owner = web("owner")
    assert owner.get("/studio/kontanthjaelp/edit?version=9").status_code == 404
    assert owner.get("/studio/kontanthjaelp/edit?version=0").status_code == 422
    page = owner.get("/studio/ukendt/edit")  # no version: it may still have a draft, which the page looks for
    assert page.status_code == 200 and '"bpmn": null' in page.text


def _saved_element(page, element_id: str):
    xml = page.evaluate("async () => (await window.tovholderModeler.saveXML()).xml")
    root = parse_tree(xml.encode())
    [node] = [n for n in root.iter() if n.get("id") == element_id]
    return node, {p.get("name"): p.get("value") for p in node.iter(f"{CAMUNDA}property")}


def test_the_panel_writes_durations_audience_payloads_and_called_processes(new_page, kontanthjaelp, modeler_built):
    page = new_page()
    _login(page, "owner")
    _open(page)
    _select(page, "tilmelding")
    page.locator("select[name='tov-deadline']").select_option("__egen")
    page.get_by_label("Varighed").fill("P3W")
    page.get_by_label("Regnes fra datofelt (valgfrit)").fill("henvendelsesdato")
    page.get_by_label("Tæl kun arbejdsdage").check()
    page.locator("select[name='tov-audience']").select_option("teamlead")
    page.wait_for_function("window.tovholderModeler.get('elementRegistry').get('tilmelding').businessObject"
                           ".extensionElements.values[0].values.some(p => p.value === 'P3W working from henvendelsesdato')")
    _, props = _saved_element(page, "tilmelding")
    assert props == {"deadline": "P3W working from henvendelsesdato", "audience": "teamlead"}
    # a field name the engine could not read is refused at the field, and nothing is written
    page.get_by_label("Regnes fra datofelt (valgfrit)").fill("henvendelses dato")
    error = page.locator("[data-entry-id='tov-deadline-from'] .bio-properties-panel-error")
    error.wait_for()
    assert "kun have bogstaver" in error.inner_text()
    assert _saved_element(page, "tilmelding")[1]["deadline"] == "P3W working from henvendelsesdato"
    page.get_by_label("Regnes fra datofelt (valgfrit)").fill("henvendelsesdato")
    # the whole duration the engine reads (weeks and days together), not only one number and one unit
    page.get_by_label("Varighed").fill("P2W3D")
    page.wait_for_function("window.tovholderModeler.get('elementRegistry').get('tilmelding').businessObject"
                           ".extensionElements.values[0].values.some(p => p.value === 'P2W3D working from henvendelsesdato')")
    assert "2 uger og 3 dage" in page.locator("[data-entry-id='tov-deadline-duration']").inner_text()
    # what the engine refuses is refused at the field in Danish, and the saved deadline stays
    duration_error = page.locator("[data-entry-id='tov-deadline-duration'] .bio-properties-panel-error")
    for bad, words in (("14 dage", "P efterfulgt af tal"), ("P1D2W", "rækkefølge"), ("P1M", "arbejdsdage")):
        page.get_by_label("Varighed").fill(bad)
        expect(duration_error).to_contain_text(words)
        assert _saved_element(page, "tilmelding")[1]["deadline"] == "P2W3D working from henvendelsesdato"
    page.get_by_label("Varighed").fill("P2W3D")
    # no audience removes the property (and an empty list of properties goes too)
    page.locator("select[name='tov-audience']").select_option("")
    page.locator("select[name='tov-deadline']").select_option("")
    node, props = _saved_element(page, "tilmelding")
    assert props == {} and node.find(f"{BPMN}extensionElements") is None

    _select(page, "henvis_sof")  # a message throw event: what the message carries
    assert page.locator("select[name='tov-message']").input_value() == "sof_henvisning"
    page.get_by_label("Beskedens indhold (felter)").fill("kategori, vurdering")
    page.wait_for_function("window.tovholderModeler.get('elementRegistry').get('henvis_sof').businessObject"
                           ".extensionElements.values[0].values[0].value === 'kategori, vurdering'")
    _select(page, "virksomhedsplacering")  # a call activity: the processes that are deployed
    called = page.locator("select[name='tov-called']")
    assert called.input_value() == "virksomhedsplacering"
    assert "kontanthjaelp" in called.locator("option").all_inner_texts()
