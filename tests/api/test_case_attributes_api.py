"""The rule set and the koordinerende sagsbehandler over HTTP: start body, task form, GET /api/cases/{id},
the change endpoints, and their bad inputs (tests/data/trial.bpmn; tests/data/deadlines.toml's `forsoeg`)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.settings import Settings
from tests import factories as f
from tests.conftest import DATA, TEST_SECRET

from .helpers import CPR_A, assert_error


@pytest.fixture
def settings(db) -> Settings:
    """The test diagram's deadlines (t_samtale and the rule set forsoeg) live in tests/data/deadlines.toml."""
    return Settings(database_url=db.url, secret_key=TEST_SECRET, forms_dir=DATA / "forms",
                    deadlines_file=DATA / "deadlines.toml", demo_mode=False)


@pytest.fixture
def users(seed, session, live):
    return seed("trial.bpmn") | {"sofcw": f.add_user(session, "sofcw", "caseworker", ["sof"])}


def start(api, **body):
    r = api("jc").post("/cases", json={"process_key": "trial", "cpr": CPR_A, "data": {}, **body})
    assert r.status_code == 201, r.text
    return r.json()


def visitation(api, case, data, who="jc"):
    [task] = case["open_tasks"]
    return api(who).post(f"/tasks/{task['id']}/complete", json={"data": data})


def due_day(task) -> date:
    return date.fromisoformat(task["due_at"][:10])


def test_the_start_body_chooses_the_rule_set_and_the_case_shows_it(api, users):
    case = start(api, rule_set="forsoeg", rule_set_reason="Med i forsøget")
    assert case["rule_set"] == "forsoeg" and case["coordinator"] is None
    ordinary = start(api)
    assert ordinary["rule_set"] == "ordinaer"
    r = visitation(api, case, {"kategori": "jobparat"})
    assert r.status_code == 200, r.text
    r2 = visitation(api, ordinary, {"kategori": "jobparat"})
    samtale = {c["case"]["id"]: next(t for t in c["case"]["open_tasks"] if t["element_id"] == "samtale")
               for c in (r.json(), r2.json())}
    created = date.fromisoformat(samtale[case["id"]]["created_at"][:10])
    assert due_day(samtale[case["id"]]) - created in (timedelta(weeks=8), timedelta(weeks=8, days=1))
    assert due_day(samtale[ordinary["id"]]) - created in (timedelta(weeks=4), timedelta(weeks=4, days=1))
    events = api("jc").get(f"/cases/{case['id']}/audit").json()["events"]
    [chosen] = [e for e in events if e["type"] == "rule_set_chosen"]
    assert chosen["actor"] == "jc" and chosen["details"]["from"] == "ordinaer" and chosen["details"]["to"] == "forsoeg"
    assert chosen["details"]["reason"] == "Med i forsøget"


def test_an_unknown_rule_set_is_refused_with_422_and_nothing_is_started(api, users):
    before = api("jclead").get("/cases", params={"process_key": "trial"}).json()
    r = api("jc").post("/cases", json={"process_key": "trial", "cpr": CPR_A, "data": {}, "rule_set": "frikomune"})
    assert r.status_code == 422, r.text
    [problem] = r.json()["detail"]
    assert problem["field"] == "rule_set" and "'frikomune' er ikke et kendt regelsæt" in problem["message"]
    assert api("jclead").get("/cases", params={"process_key": "trial"}).json() == before
    r = api("jc").post("/cases", json={"process_key": "trial", "cpr": CPR_A, "data": {}, "rule_set": 3})
    assert r.status_code == 422


def test_the_task_form_offers_the_rule_sets_and_the_units_staff(api, users):
    case = start(api)
    [task] = case["open_tasks"]
    view = api("jc").get(f"/tasks/{task['id']}").json()
    fields = {f["name"]: f for f in view["form"]["fields"]}
    assert [c["value"] for c in fields["regelsaet"]["choices"]] == ["ordinaer", "forsoeg"]
    staff = fields["koordinerende_sagsbehandler"]
    assert staff["type"] == "staff" and staff["unit"] == "jobcenter" and staff["case_role"] == "coordinator"
    assert [c["value"] for c in staff["choices"]] == ["jc", "jc2", "jclead"]
    assert view["rule_set"] == "ordinaer" and view["coordinator"] is None


def test_the_visitation_names_the_coordinator_whom_every_unit_sees(api, users):
    case = start(api)
    r = visitation(api, case, {"kategori": "aktivitetsparat", "koordinerende_sagsbehandler": "jc2",
                               "regelsaet": "forsoeg"})
    assert r.status_code == 200, r.text
    assert r.json()["case"]["coordinator"] == "jc2" and r.json()["case"]["rule_set"] == "forsoeg"
    sof_task = next(t for t in r.json()["case"]["open_tasks"] if t["unit"] == "sof")
    assert api("sofcw").get(f"/tasks/{sof_task['id']}").json()["coordinator"] == "jc2"
    assert api("sofcw").get(f"/cases/{case['id']}").json()["coordinator"] == "jc2"
    types = [e["type"] for e in api("auditor").get(f"/cases/{case['id']}/audit").json()["events"]]
    assert "coordinator_set" in types and "rule_set_chosen" in types


@pytest.mark.parametrize(("username", "message"), [
    ("ingen", "der er ingen bruger 'ingen'"), ("sofcw", "'sofcw' er ikke sagsbehandler eller teamleder i jobcenter")])
def test_a_coordinator_outside_the_unit_is_refused_at_the_field(api, users, username, message):
    case = start(api)
    r = visitation(api, case, {"kategori": "aktivitetsparat", "koordinerende_sagsbehandler": username})
    assert r.status_code == 422
    assert r.json()["detail"] == [{"field": "koordinerende_sagsbehandler",
                                   "message": f"Koordinerende sagsbehandler: {message}"}]
    again = api("jc").get(f"/cases/{case['id']}").json()
    assert again["coordinator"] is None and [t["status"] for t in again["open_tasks"]] == ["open"]
    r = api("jclead").post(f"/cases/{case['id']}/coordinator", json={"username": username})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "username"


def test_a_jobcenter_team_lead_changes_the_coordinator_and_others_may_not(api, users):
    case = start(api)
    r = api("jclead").post(f"/cases/{case['id']}/coordinator", json={"username": "jc"})
    assert r.status_code == 200, r.text
    assert r.json()["coordinator"] == "jc"
    assert_error(api("jc").post(f"/cases/{case['id']}/coordinator", json={"username": "jc2"}), 403)
    assert_error(api("jclead").post(f"/cases/{case['id']}/coordinator", json={}), 422)
    assert api("jc").get(f"/cases/{case['id']}").json()["coordinator"] == "jc"


def test_a_team_lead_switches_the_rule_set_of_a_running_case(api, users):
    case = start(api)
    r = api("jclead").post(f"/cases/{case['id']}/rule-set", json={"rule_set": "forsoeg", "reason": "Forsøg"})
    assert r.status_code == 200 and r.json()["rule_set"] == "forsoeg"
    r = api("jclead").post(f"/cases/{case['id']}/rule-set", json={"rule_set": "nope"})
    assert r.status_code == 422 and "ikke et kendt regelsæt" in r.json()["detail"][0]["message"]
    assert_error(api("jc").post(f"/cases/{case['id']}/rule-set", json={"rule_set": "ordinaer"}), 403)
    assert api("jc").get(f"/cases/{case['id']}").json()["rule_set"] == "forsoeg"
    listed = {s["name"]: s for s in api("jc").get("/rule-sets").json()}
    assert listed["forsoeg"]["deadlines"]["t_samtale"]["rule"] == "P8W fra oprettelse"
    assert list(listed) == ["ordinaer", "forsoeg"]
