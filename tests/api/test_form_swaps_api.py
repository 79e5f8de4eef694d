"""A rule set's form swap and switches over HTTP (tests/data/trial_switch.bpmn; tests/data/deadlines.toml's
`forsoeg` swaps t_trial_samtale for t_trial_samtale_forsoeg and turns on t_uden_ekstra): GET /api/tasks/{id}
shows the swapped form, POST completion checks against it, GET /api/rule-sets lists switches and swaps."""
from __future__ import annotations

import pytest

from engine.settings import Settings
from tests.conftest import DATA, TEST_SECRET

from .helpers import CPR_A


@pytest.fixture
def settings(db) -> Settings:
    return Settings(database_url=db.url, secret_key=TEST_SECRET, forms_dir=DATA / "forms",
                    deadlines_file=DATA / "deadlines.toml", demo_mode=False)


@pytest.fixture
def users(seed, live):
    return seed("trial_switch.bpmn")


def start(api, **body) -> dict:
    r = api("jc").post("/cases", json={"process_key": "trial_switch", "cpr": CPR_A, "data": {}, **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_the_task_shows_and_the_completion_checks_the_swapped_form(api, users):
    trial, ordinary = start(api, rule_set="forsoeg"), start(api)
    views = {}
    for case in (trial, ordinary):
        [task] = case["open_tasks"]
        views[case["id"]] = api("jc").get(f"/tasks/{task['id']}").json()
    form = {cid: {f["name"]: f for f in v["form"]["fields"]} for cid, v in views.items()}
    assert views[trial["id"]]["form_key"] == views[trial["id"]]["form"]["key"] == "t_trial_samtale_forsoeg"
    assert views[ordinary["id"]]["form_key"] == "t_trial_samtale"
    assert [c["value"] for c in form[trial["id"]]["samtaleform"]["choices"]] == ["fremmoede", "telefon"]
    assert [c["value"] for c in form[ordinary["id"]]["samtaleform"]["choices"]] == ["fremmoede"]
    by_phone = {"data": {"samtaleform": "telefon", "udfald": "videre"}}
    r = api("jc").post(f"/tasks/{views[ordinary['id']]['id']}/complete", json=by_phone)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "samtaleform"
    assert api("jc").get(f"/tasks/{views[ordinary['id']]['id']}").json()["status"] == "open"  # unchanged
    r = api("jc").post(f"/tasks/{views[trial['id']]['id']}/complete", json=by_phone)
    assert r.status_code == 200, r.text
    # the switch t_uden_ekstra is on under forsoeg: no extra step, the case ends
    assert r.json()["case"]["status"] == "completed" and r.json()["case"]["open_tasks"] == []


def test_the_rule_sets_list_their_switches_and_form_swaps(api, users):
    listed = {s["name"]: s for s in api("jc").get("/rule-sets").json()}
    assert listed["ordinaer"]["switches"]["t_uden_ekstra"]["on"] is False and listed["ordinaer"]["forms"] == {}
    switch = listed["forsoeg"]["switches"]["t_uden_ekstra"]
    assert switch["on"] is True and switch["label"] == "Test: det ekstra trin kan springes over"
    assert switch["source"] == "Test: forsøget springer det ekstra trin over"
    assert listed["forsoeg"]["forms"] == {"t_trial_samtale": "t_trial_samtale_forsoeg"}
