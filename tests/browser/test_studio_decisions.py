"""Decision tables in the studio's modeler (dmn-js), in Chromium, against the real studio API and engine.

A process owner opens sygedagpenge, opens its decision table (kategori.dmn),
types a bad entry in a rule's cell and sees the deploy's own DMN check say
what is wrong in Danish (a line in the list, the cell outlined with a "!"),
saves the draft with it, fixes the entry, publishes, and a case started on
the new version is decided by the new rule. The bpmn.io watermark of the
table stays visible; axe-core finds no serious or critical problem with the
table open.

Skipped with the reason where Chromium or the built modeler (make install,
which needs npm) is missing.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine import catalog
from engine.models import Case
from tests import factories as f
from tests.browser.test_studio_modeler import AXE, _checked, _login, _shot, modeler_built  # noqa: F401
from tests.journeys.test_sygedagpenge import RULES, SYGEDAGPENGE, complete, oplysninger, ret, sygemelding

ROOT = f.ROOT
TABLE = "sygedagpenge/kategori.dmn"


@pytest.fixture
def sygedagpenge(seed, settings, live):
    settings.forms_dir = ROOT / "forms"
    settings.deadlines_file = ROOT / "config" / "deadlines.toml"
    settings.processes_dir = ROOT / "processes"
    return seed(SYGEDAGPENGE, rules=RULES)


def _open_table(page) -> None:
    page.goto("/studio/sygedagpenge/edit")
    page.wait_for_function("window.tovholderModeler && window.tovholderModeler.get('elementRegistry')"
                           ".get('foreslaa_kategori')")
    _checked(page)
    choice = page.get_by_label("Beslutningstabel", exact=True).and_(page.get_by_role("combobox"))
    expect(choice).to_be_visible()
    choice.select_option(TABLE)
    page.get_by_role("button", name="Åbn tabellen").click()
    expect(page.locator("#studio-dmn-canvas td[data-element-id='r2_out']")).to_contain_text('"1"')


def _type_in_cell(page, element_id: str, text: str) -> None:
    cell = page.locator(f"#studio-dmn-canvas td[data-element-id='{element_id}'] [contenteditable]")
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def _decided(session, users) -> str:
    """A new case through to the decision: expected back within 6 weeks, nothing else wrong."""
    case = sygemelding(session, users, received=date(2026, 1, 12), foerste_fravaersdag=date(2026, 1, 5))
    complete(session, users["ys"], "oplysningsskema", case.id, oplysninger(6, False, False, date(2026, 1, 14)),
             date(2026, 1, 14))
    complete(session, users["ys"], "berettigelse", case.id, ret(date(2026, 1, 16)), date(2026, 1, 16))
    session.expire_all()
    return session.get(Case, case.id).data["foreslaaet_kategori"]


def test_a_process_owner_edits_a_rule_sees_a_bad_entry_fixes_it_publishes_and_cases_decide_by_it(
        new_page, sygedagpenge, modeler_built, session, web):
    assert _decided(session, sygedagpenge) == "1"  # the rule as deployed: back within 8 weeks, category 1
    page = new_page()
    _login(page, "owner")
    _open_table(page)
    assert page.locator("#studio-dmn-canvas .bjs-powered-by").is_visible()  # the bpmn.io watermark stays
    assert page.locator(".studio-work").is_hidden()

    # a bad entry: the deploy's check says so in Danish, in the list and on the cell
    _type_in_cell(page, "r2_out", '"2" +')
    line = page.locator(f"#studio-problems button[data-file='{TABLE}'][data-dmn-element='r2_out']")
    expect(line).to_contain_text("kan ikke læses", timeout=20_000)
    expect(line).to_contain_text("Beslutningstabellen sygedagpenge/kategori.dmn")
    cell = page.locator("#studio-dmn-canvas td[data-element-id='r2_out']")
    expect(cell).to_have_class(re.compile("tov-cell-problem"))
    assert "kan ikke læses" in cell.get_attribute("title")
    expect(page.get_by_role("button", name="Udgiv …")).to_be_disabled()
    _shot(page, "studio-beslutningstabel")

    # a draft with problems can be saved: the table goes with it
    page.get_by_role("button", name="Gem udkast").click()
    page.wait_for_function("document.getElementById('studio-status').textContent.includes('gemt (revision 1)')")
    draft = web("owner").get("/api/studio/drafts/sygedagpenge").json()
    assert '"2" +<' in draft["decisions"][TABLE].replace("&quot;", '"')
    assert any(p.get("file") == TABLE and p["element"] == "r2_out" for p in draft["problems"])

    # the fix: the problem goes, and the draft can be published with the table
    _type_in_cell(page, "r2_out", '"2"')
    expect(line).to_have_count(0, timeout=20_000)
    expect(cell).not_to_have_class(re.compile("tov-cell-problem"))
    page.get_by_role("button", name="Tilbage til diagrammet").click()
    assert page.locator(".studio-work").is_visible()
    page.get_by_role("button", name="Udgiv …").click()
    dialog = page.get_by_role("dialog")
    dialog.locator(".tov-affected").wait_for()
    assert "Ændrede beslutningstabeller (1)" in dialog.inner_text() and TABLE in dialog.inner_text()
    dialog.get_by_role("button", name="Udgiv ny version").click()
    expect(dialog).to_contain_text("Version 2 af sygedagpenge er udgivet")

    # the version keeps the table it was built from, and the engine decides with the new rule
    session.expire_all()
    latest = catalog.latest_definition(session, "sygedagpenge")
    assert latest.version == 2
    assert '"2"' in catalog.stored_decisions(session, latest.id)[TABLE].replace("&quot;", '"')
    assert _decided(session, sygedagpenge) == "2"
    assert session.scalars(select(Case.definition_id)).all().count(latest.id) == 1
    # opened again, the studio shows the published table (from the version, not the older file on disk)
    page.goto("/studio/sygedagpenge/edit")
    page.wait_for_function("window.tovholderDecisions && window.tovholderDecisions.names().length === 1")
    assert '"2"' in page.evaluate(f"window.tovholderDecisions.files[{TABLE!r}]").replace("&quot;", '"')


def test_the_page_with_a_table_open_has_no_serious_accessibility_problems(new_page, sygedagpenge, modeler_built):
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (npm ci installs it)")
    page = new_page()
    _login(page, "owner")
    _open_table(page)
    _type_in_cell(page, "r2_out", '"2" +')  # with a finding listed and marked on its cell
    expect(page.locator(f"#studio-problems button[data-file='{TABLE}']")).to_have_count(1, timeout=20_000)
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("""async () => {
      const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] });
      return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
    }""")
    assert results == []
