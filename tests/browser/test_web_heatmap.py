"""The heatmap page at /oversigt/varmekort over real HTTP and in a browser: figures on the diagram and in a table."""
from __future__ import annotations

import re

import pytest

from tests import factories as f
from tests import report_cases as rc

MARCH = {"forloeb": "rapport", "fra": "2026-03-01", "til": "2026-03-31"}


@pytest.fixture
def generated(session):
    users = f.standard_users(session)
    rc.generate(session, users)
    return users


def _row(html: str, element_id: str) -> list[str]:
    match = re.search(rf'<tr data-element="{element_id}">(.*?)</tr>', html)
    assert match, element_id
    return re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", match.group(1))


def test_the_page_draws_the_figures_and_tables_them(web, generated):
    r = web("auditor").get("/oversigt/varmekort", params=MARCH)
    assert r.status_code == 200, r.text
    assert 'data-element="modtagelse" data-passed="13" data-here="1"' in r.text
    assert "Forbi 13 · Nu 1" in r.text and "Signaturforklaring" in r.text
    assert _row(r.text, "modtagelse") == ["Modtagelse", "Opgave", "13", "1", "40.0", "9", "4", "31 %"]
    assert _row(r.text, "udfald")[2:4] == ["8", "0"]
    assert 'href="/oversigt/varmekort?forloeb=rapport&amp;fra=2026-03-01&amp;til=2026-03-31"' in web(
        "auditor").get("/oversigt", params={"fra": "2026-03-01", "til": "2026-03-31"}).text


def test_a_team_lead_sees_their_units_and_bad_filters_get_a_danish_error(web, generated):
    lead = web("jclead").get("/oversigt/varmekort", params=MARCH)
    assert lead.status_code == 200 and _row(lead.text, "afgoerelse")[2] == "0"
    assert web("jc").get("/oversigt/varmekort", params=MARCH).status_code == 403
    for bad in ({"version": "9"}, {"version": "x"}, {"fra": "2026-13-01"}, {"forloeb": "findes_ikke"}):
        r = web("auditor").get("/oversigt/varmekort", params={**MARCH, **bad})
        assert r.status_code == 422 and "Filteret kan ikke bruges" in r.text, bad
    assert web("auditor").get("/oversigt/varmekort").status_code == 200  # the empty form


def test_the_versions_list_links_to_the_heatmap(web, generated):
    r = web("admin").get("/studio/rapport/versions")
    assert r.status_code == 200, r.text
    assert 'href="/oversigt/varmekort?forloeb=rapport&amp;version=1"' in r.text
    assert 'href="/oversigt/varmekort?forloeb=rapport&amp;version=alle"' in r.text


def test_a_team_lead_opens_a_heatmap_from_the_dashboard_in_a_browser(new_page, generated):
    from .test_studio_browser import _axe, _login, _shot
    page = new_page()
    _login(page, "jclead")
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/")[2] + "/oversigt?fra=2026-03-01&til=2026-03-31")
    page.get_by_role("link", name="Test: rapporter").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Varmekort over et forløb"
    assert page.locator("svg[role=img]").count() == 1
    assert page.get_by_role("table").count() == 1
    assert _axe(page) == []
    _shot(page, "varmekort")
