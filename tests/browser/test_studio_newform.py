""""Ny formular …" in the modeler's properties panel, in Chromium: a new form file made in the draft and edited in place.

A process owner picks "Ny formular …" in a user task's form list, names the
form in a dialog (a name with forbidden characters and an existing form's
name are refused in Danish), and the form file is created in the draft, the
task's form key set to it, and the form editor opened over the modeler in
the same tab. The editor saves the form into the draft (a new revision); the
modeler's next save is not refused as stale, since that revision was its own
tab's. A second tab saving an older revision is still refused.

Skipped with the reason where Chromium or the built modeler is missing.
"""
from __future__ import annotations

import json

from playwright.sync_api import expect

from engine.validation import parse_tree
from tests.browser.test_studio_modeler import (  # noqa: F401  (fixtures)
    AXE,
    CAMUNDA,
    _login,
    _open,
    _select,
    kontanthjaelp,
    modeler_built,
)


def _saved(page, revision: int) -> None:
    page.wait_for_function(f"document.getElementById('studio-status').textContent.includes('gemt (revision {revision})')")


def test_a_new_form_is_made_in_the_draft_edited_in_the_same_tab_and_the_modeler_saves_after_it(
        new_page, kontanthjaelp, modeler_built, web):
    page = new_page()
    _login(page, "owner")
    other_tab = page.context.new_page()
    _open(page)
    _open(other_tab)
    _select(page, "tilmelding")
    page.locator("select[name='tov-form']").select_option(label="Ny formular …")
    dialog = page.locator("#studio-newform")
    expect(dialog).to_be_visible()
    name = dialog.get_by_label("Formularens navn")
    name.fill("kh screening")
    dialog.get_by_role("button", name="Opret formular").click()
    expect(dialog.locator("#studio-newform-error")).to_contain_text("kun have bogstaver")
    name.fill("kh_visitation")
    dialog.get_by_role("button", name="Opret formular").click()
    expect(dialog.locator("#studio-newform-error")).to_contain_text("findes allerede")
    name.fill("kh_screening")
    dialog.get_by_role("button", name="Opret formular").click()

    # the draft holds the new form and the task names it; the form editor opens in this tab
    _saved(page, 1)
    draft = web("owner").get("/api/studio/drafts/kontanthjaelp").json()
    assert json.loads(draft["forms"]["kh_screening.json"]) == {"title": "kh_screening", "fields": []}
    [task] = [n for n in parse_tree(draft["bpmn"].encode()).iter() if n.get("id") == "tilmelding"]
    assert task.get(f"{CAMUNDA}formKey") == "kh_screening"
    editor = page.frame_locator("#studio-formeditor-frame")
    expect(page.locator("#studio-formeditor")).to_be_visible()
    editor.get_by_role("button", name="Tilføj felt").click()
    editor.get_by_label("Navn (i sagens data)").fill("screening_note")
    editor.get_by_label("Etiket (det sagsbehandleren ser)").fill("Notat fra screeningen")
    editor.get_by_role("button", name="Gem i udkastet").click()
    expect(editor.locator(".flash")).to_contain_text("er gemt i udkastet")
    assert web("owner").get("/api/studio/drafts/kontanthjaelp").json()["revision"] == 2
    page.wait_for_function("window.tovholderStudio.revision === 2")  # the modeler took its own tab's save
    page.get_by_role("button", name="Tilbage til diagrammet").click()
    expect(page.locator("#studio-formeditor")).to_be_hidden()
    assert page.locator("select[name='tov-form']").input_value() == "kh_screening"

    # the modeler saves after the form editor without a conflict, and keeps the form
    page.evaluate("() => { const m = window.tovholderModeler; m.get('modeling').updateLabel("
                  "m.get('elementRegistry').get('tilmelding'), 'Tilmelding og screening'); }")
    page.get_by_role("button", name="Gem udkast").click()
    _saved(page, 3)
    assert page.locator("#studio-alert").is_hidden()
    draft = web("owner").get("/api/studio/drafts/kontanthjaelp").json()
    form = json.loads(draft["forms"]["kh_screening.json"])
    assert [f["name"] for f in form["fields"]] == ["screening_note"]
    assert "Tilmelding og screening" in draft["bpmn"]

    # another tab is still refused: it read no draft (or an older revision)
    other_tab.evaluate("() => { const m = window.tovholderModeler; m.get('modeling').updateLabel("
                       "m.get('elementRegistry').get('tilmelding'), 'Anden fane'); }")
    other_tab.get_by_role("button", name="Gem udkast").click()
    expect(other_tab.locator("#studio-alert")).to_contain_text("Udkastet er ændret i en anden fane")
    assert web("owner").get("/api/studio/drafts/kontanthjaelp").json()["revision"] == 3


def test_the_new_form_dialog_has_no_serious_accessibility_problems(new_page, kontanthjaelp, modeler_built):
    import pytest
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (npm ci installs it)")
    page = new_page()
    _login(page, "owner")
    _open(page)
    _select(page, "tilmelding")
    page.locator("select[name='tov-form']").select_option(label="Ny formular …")
    page.locator("#studio-newform").get_by_role("button", name="Opret formular").click()  # with its error shown
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("""async () => {
      const r = await axe.run(document.getElementById('studio-newform'));
      return r.violations.filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id);
    }""")
    assert results == []
