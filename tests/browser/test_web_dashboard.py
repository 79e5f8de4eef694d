"""The dashboard at /oversigt over real HTTP: the engine's report figures, who may see it, bad filters."""
from __future__ import annotations

import pytest

from engine import reports
from tests import factories as f
from tests import report_cases as rc

MARCH = {"fra": "2026-03-01", "til": "2026-03-31"}


@pytest.fixture
def generated(session):
    users = f.standard_users(session)
    rc.generate(session, users)
    return users


def test_the_dashboard_shows_the_report_figures_as_chart_and_table(web, generated, session):
    r = web("auditor").get("/oversigt", params=MARCH)
    assert r.status_code == 200, r.text
    period = reports.period_for(session, generated["auditor"], from_date=rc.MARCH[0], to_date=rc.MARCH[1],
                                unit=None, process_key=None)
    steps = reports.step_rows(session, period)
    assert steps
    assert r.text.count("<svg role=\"img\"") == 5 and "<title id=\"frister-titel\">" in r.text
    for row in steps:
        if row["on_time"] + row["late"]:
            assert f"{round(100 * row['on_time'] / (row['on_time'] + row['late']))} %" in r.text
        assert f"<td>{row['completed']}</td><td>{row['on_time']}</td><td>{row['late']}</td>" in r.text
    assert 'href="/oversigt" aria-current="page"' in r.text


def test_a_team_lead_sees_only_their_units(web, generated, session):
    lead = web("jclead")
    r = lead.get("/oversigt", params=MARCH)
    assert r.status_code == 200, r.text
    assert "<td>ydelsesservice</td>" not in r.text
    assert lead.get("/oversigt", params={**MARCH, "enhed": "ydelsesservice"}).status_code == 403


def test_other_roles_are_refused_and_bad_filters_get_a_danish_error(web, generated):
    assert web("jc").get("/oversigt").status_code == 403
    assert 'href="/oversigt"' not in web("jc").get("/").text
    r = web("auditor").get("/oversigt", params={"fra": "2026-13-01"})
    assert r.status_code == 422 and "Filteret kan ikke bruges" in r.text
    r = web("auditor").get("/oversigt", params={"fra": "2026-03-31", "til": "2026-03-01"})
    assert r.status_code == 422 and "Ret dato" in r.text


def test_a_team_lead_opens_the_dashboard_from_the_header_in_a_browser(new_page, generated):
    from .test_studio_browser import _axe, _login, _shot
    page = new_page()
    _login(page, "jclead")
    page.get_by_role("link", name="Oversigt").click()
    page.get_by_label("Fra (dato)").fill("2026-03-01")
    page.get_by_label("Til (dato)").fill("2026-03-31")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Oversigt"
    assert page.get_by_role("img", name="Andel afgjort inden for fristen pr. trin").count() == 1
    assert page.locator("table").count() == 5
    assert _axe(page) == []
    _shot(page, "oversigt")


def test_the_dashboard_shows_open_overdue_and_soon_due_per_unit(web, generated, session):
    from engine.settings import Settings
    r = web("auditor").get("/oversigt", params=MARCH)
    assert r.status_code == 200, r.text
    period = reports.period_for(session, generated["auditor"], from_date=rc.MARCH[0], to_date=rc.MARCH[1],
                                unit=None, process_key=None)
    soon = Settings().soon_due_working_days
    rows = reports.unit_rows(session, period, soon_days=soon, calendar=f.RULES.calendar)
    assert {row["unit"] for row in rows} == {"jobcenter", "ydelsesservice"}
    for row in rows:
        assert (f'<tr data-unit="{row["unit"]}"><td>{row["unit"]}</td><td>{row["open"]}</td>'
                f'<td>{row["overdue"]}</td><td>{row["soon_due"]}</td></tr>') in r.text
    assert f"Snart forfaldne ({soon} arbejdsdage)" in r.text
    assert "Offentliggjorte frister i perioden" in r.text and "Sygedagpengesager pr. måned" in r.text
    assert "Sygedagpengesager pr. måned" not in web("auditor").get("/oversigt", params={**MARCH,
                                                                                        "forloeb": "rapport"}).text
