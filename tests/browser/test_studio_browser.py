"""The studio's server-rendered pages in a real browser (Playwright + Debian's Chromium, headless).

A process owner logs in and lands in the studio, compares two versions, moves the running cases with
a dry run first and then for real, reads the report per case; edits a form and sees the preview
follow as she types. Every studio page is checked with axe-core (zero serious or critical findings):
its file comes from the npm packages `make install` brings (node_modules/axe-core) or from
TOVHOLDER_AXE_JS; without it that check skips and says why. With TOVHOLDER_SCREENSHOTS=1 the
scenario saves docs/screenshots/studio-*.png.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.models import Case
from tests import factories as f

from .test_studio_http import V2, running  # noqa: F401 - the fixture: three version-1 cases, then version 2

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
AXE = Path(os.environ.get("TOVHOLDER_AXE_JS", ROOT / "node_modules" / "axe-core" / "axe.min.js"))


def _shot(page, name: str) -> None:
    if os.environ.get("TOVHOLDER_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _login(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(f.PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_load_state()


def _axe(page) -> list[str]:
    """Serious and critical axe-core findings on the page, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_a_process_owner_compares_versions_and_moves_the_cases_with_a_dry_run_first(new_page, running, session):
    page = new_page()
    _login(page, "owner")
    assert page.url.endswith("/studio")
    assert page.get_by_role("heading", level=1).inner_text() == "Studio"
    assert page.get_by_role("link", name="Studio").get_attribute("aria-current") == "page"

    page.get_by_role("link", name="Versioner af Test: webindtag").click()
    page.get_by_role("link", name="Sammenlign med version 2").click()
    # expect waits for the compare page (count() alone could read the page the click left; a CI run saw 0)
    expect(page.locator(".mark-removed")).to_have_count(1)
    expect(page.locator(".mark-added")).to_have_count(1)
    _shot(page, "studio-sammenligning")

    page.get_by_role("link", name="Flyt sagerne fra version 1 til version 2").click()
    choice = page.get_by_label(re.compile(r"Vurdering af henvendelse .* 2 kørende sager står her"))
    assert choice.input_value() == "vurdering_ny"            # the diff's suggestion
    choice.select_option("")                                 # none: the cases standing there are refused
    page.get_by_role("button", name="Prøvekørsel (ændrer intet)").click()
    expect(page.get_by_role("status").first).to_contain_text("0 sager kan flyttes, 3 vil blive afvist")
    expect(page.locator("table.report tr.refused")).to_have_count(3)

    page.get_by_label(re.compile(r"Vurdering af henvendelse .* kørende sager står her")).select_option("vurdering_ny")
    page.get_by_role("button", name="Prøvekørsel (ændrer intet)").click()
    expect(page.get_by_role("status").first).to_contain_text("3 sager kan flyttes, 0 vil blive afvist")
    session.expire_all()
    assert {c.version for c in session.scalars(select(Case))} == {1}

    page.get_by_role("button", name="Flyt sagerne").click()
    expect(page.get_by_role("status").first).to_contain_text("3 sager er flyttet til version 2")
    assert page.locator("table.report td.outcome-ok").all_inner_texts() == ["✓ Flyttet"] * 3
    _shot(page, "studio-flytning")
    session.expire_all()
    assert {c.version for c in session.scalars(select(Case))} == {2}


def test_the_form_preview_follows_the_editor_as_the_owner_types(new_page, running):
    page = new_page()
    _login(page, "owner")
    page.goto("/studio/web_intake/forms/t_webvurdering")
    preview = page.locator("#forhaandsvisning")
    assert preview.get_by_label("Resumé af henvendelsen").count() == 1
    page.get_by_label("Etiket (det sagsbehandleren ser)").first.fill("Kort resumé af henvendelsen")
    preview.get_by_label("Kort resumé af henvendelsen").wait_for()   # the script asked the server again
    assert page.get_by_role("status").last.inner_text() == "Forhåndsvisningen er opdateret."
    page.get_by_role("button", name="Afprøv udfyldningen").click()
    assert "Formularen har fejl" in page.locator("#forhaandsvisning .error-summary").inner_text()
    _shot(page, "studio-formular")


STUDIO_PAGES = ["/studio", "/studio/web_intake/versions", "/studio/web_intake/versions/1",
                "/studio/web_intake/compare?from=1&to=2", "/studio/web_intake/migrate?from=1&to=2",
                "/studio/web_intake/forms", "/studio/web_intake/forms/t_webvurdering",
                "/studio/web_intake/publish"]


def test_studio_pages_have_no_serious_or_critical_axe_findings(new_page, running, session):
    if not AXE.is_file():
        pytest.skip(f"axe-core not found at {AXE} (make install brings it from npm; or set TOVHOLDER_AXE_JS)")
    from engine import drafts
    drafts.save_draft(session, "web_intake", bpmn=V2.replace("Afgørelse om ydelsen", "Afgørelse (ny)"), forms={},
                      revision=None, actor="owner")
    session.commit()
    page = new_page()
    _login(page, "owner")
    findings = {}
    for path in STUDIO_PAGES:
        page.goto(path)
        found = _axe(page)
        if found:
            findings[path] = found
    page.goto("/studio/web_intake/migrate?from=1&to=2")
    page.get_by_role("button", name="Prøvekørsel (ændrer intet)").click()   # the report too
    found = _axe(page)
    if found:
        findings["migration report"] = found
    assert not findings, findings
