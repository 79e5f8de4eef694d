"""The task page of a case whose rule set swaps the form (tests/data/trial_switch.bpmn, tests/data/deadlines.toml's
`forsoeg`), over real HTTP (httpx, no browser): the page shows the trial's form to the trial case and the
ordinary form to the ordinary one, and the posted form is checked against the form the page showed; the
case page lists what the trial case's rule set allows."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import HumanTask
from engine.settings import Settings
from tests import factories as f
from tests.conftest import DATA, TEST_SECRET

from .conftest import csrf_of


@pytest.fixture
def settings(db) -> Settings:
    return Settings(database_url=db.url, secret_key=TEST_SECRET, forms_dir=DATA / "forms",
                    deadlines_file=DATA / "deadlines.toml", demo_mode=False)


@pytest.fixture
def switch_users(seed, live):
    return seed("trial_switch.bpmn")


def _started(web, session, rule_set: str) -> tuple[object, HumanTask]:
    jc = web("jc")
    page = jc.get("/sager/ny?forloeb=trial_switch")
    r = jc.post("/sager/ny", data={"csrf_token": csrf_of(page.text), "forloeb": "trial_switch", "cpr": f.CPR,
                                   "regelsaet": rule_set, "regelsaet_begrundelse": ""})
    assert r.status_code == 303, r.text
    case_id = r.headers["location"].rsplit("/", 1)[1]
    session.expire_all()
    return jc, session.scalars(select(HumanTask).where(HumanTask.case_id == case_id)).one()


def test_the_task_page_shows_the_trials_form_only_to_the_trial_case(switch_users, web, session):
    jc, trial = _started(web, session, "forsoeg")
    _, ordinary = _started(web, session, "")
    trial_page, ordinary_page = jc.get(f"/opgaver/{trial.id}").text, jc.get(f"/opgaver/{ordinary.id}").text
    assert '<option value="telefon">Telefon</option>' in trial_page
    assert 'value="telefon"' not in ordinary_page and "Personligt fremmøde" in ordinary_page
    r = jc.post(f"/opgaver/{ordinary.id}", data={"csrf_token": csrf_of(ordinary_page), "f.samtaleform": "telefon",
                                                  "f.udfald": "videre"})
    assert r.status_code == 422  # the ordinary form offers personal attendance only
    r = jc.post(f"/opgaver/{trial.id}", data={"csrf_token": csrf_of(trial_page), "f.samtaleform": "telefon",
                                               "f.udfald": "videre"})
    assert r.status_code == 303, r.text
    session.expire_all()
    assert session.get(HumanTask, trial.id).status == "completed"


def test_the_case_page_says_what_the_cases_rule_set_allows(switch_users, web, session):
    jc, trial = _started(web, session, "forsoeg")
    _, ordinary = _started(web, session, "")
    page = jc.get(f"/sager/{trial.case_id}").text
    assert '<dd id="regelsaet-undtagelser">' in page
    assert "<li>Test: det ekstra trin kan springes over</li>" in page
    assert "<li>Formularen t_trial_samtale_forsoeg i stedet for t_trial_samtale</li>" in page
    assert 'id="regelsaet-undtagelser"' not in jc.get(f"/sager/{ordinary.case_id}").text  # ordinary: nothing
