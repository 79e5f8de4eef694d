"""Rule sets a trial switches per case, and the koordinerende sagsbehandler (engine/rule_sets.py,
engine/case_attributes.py), through the engine's one mutation path on tests/data/trial.bpmn.

tests/data/deadlines.toml: `t_samtale` is P4W; the rule set `forsoeg` makes it P8W."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import case_attributes, clock, runtime
from engine.deadlines import DeadlineError, deadline_file
from engine.errors import Conflict, Forbidden, FormRejected
from engine.models import AuditEvent, Case, HumanTask, Wait
from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

MONDAY = date(2026, 9, 7)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 2, tzinfo=timezone.utc)


def danish_day(moment) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


@pytest.fixture
def users(seed, session):
    users = seed("trial.bpmn")
    return users | {"sofcw": f.add_user(session, "sofcw", "caseworker", ["sof"]),
                    "jclead2": f.add_user(session, "ys_lead", "teamlead", ["ydelsesservice"])}


def task(session, case_id, element):
    return session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.element_id == element,
                                                   HumanTask.status.in_(("open", "claimed")))).one()


def complete(session, case_id, element, user, data, day):
    with clock.at(at(day)):
        runtime.complete_task(session, task_id=task(session, case_id, element).id, data=data, user=user,
                              rules=f.RULES)
    session.commit()


def start(session, users, day=MONDAY, **kwargs):
    with clock.at(at(day)):
        case = runtime.start_case(session, process_key="trial", cpr=f.CPR, data={}, actor=users["jc"],
                                  rules=f.RULES, **kwargs)
    session.commit()
    return case


def events(session, case_id, type_):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.type == type_)
                                .order_by(AuditEvent.seq)))


def through_visitation(session, users, case, **data):
    complete(session, case.id, "visitation", users["jc"], {"kategori": "jobparat", **data}, MONDAY)


def test_a_trial_case_gets_the_trials_cadence_and_an_ordinary_case_the_ordinary_one(session, users, db):
    ordinary = start(session, users)
    trial = start(session, users, rule_set="forsoeg", rule_set_reason="Med i frikommuneforsøget")
    for case in (ordinary, trial):
        through_visitation(session, users, case)
    assert danish_day(task(session, ordinary.id, "samtale").due_at) == MONDAY + timedelta(weeks=4)
    assert danish_day(task(session, trial.id, "samtale").due_at) == MONDAY + timedelta(weeks=8)
    # the timer deadline("t_samtale") resolves through the rule set too; the clock moves to fire it
    for case in (ordinary, trial):
        complete(session, case.id, "samtale", users["jc"], {}, MONDAY)
    waits = {c.id: session.scalars(select(Wait).where(Wait.case_id == c.id, Wait.kind == "timer")).one()
             for c in (ordinary, trial)}
    assert danish_day(waits[ordinary.id].due_at) == MONDAY + timedelta(weeks=4)
    assert danish_day(waits[trial.id].due_at) == MONDAY + timedelta(weeks=8)
    with clock.at(at(MONDAY + timedelta(weeks=4, days=1))):
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 1
    session.expire_all()
    day = MONDAY + timedelta(weeks=4, days=1)
    assert danish_day(task(session, ordinary.id, "samtale_2").due_at) == day + timedelta(weeks=4)
    assert session.scalars(select(HumanTask).where(HumanTask.case_id == trial.id,
                                                   HumanTask.element_id == "samtale_2")).all() == []
    with clock.at(at(MONDAY + timedelta(weeks=8, days=1))):
        assert fire_due_timers(db.session_factory, rules=f.RULES).fired == 1
    session.expire_all()
    assert danish_day(task(session, trial.id, "samtale_2").due_at) == MONDAY + timedelta(weeks=16, days=1)


def test_chosen_at_start_is_audited_with_who_from_to_and_reason(session, users):
    case = start(session, users, rule_set="forsoeg", rule_set_reason="Med i frikommuneforsøget")
    assert case.rule_set == "forsoeg"
    [chosen] = events(session, case.id, "rule_set_chosen")
    assert chosen.actor == "jc"
    # with what the rule set switches on and which forms it swaps (tests/data/deadlines.toml), as configured then
    assert chosen.details == {"from": "ordinaer", "to": "forsoeg", "reason": "Med i frikommuneforsøget",
                              "switches_on": ["t_uden_ekstra"], "forms": {"t_trial_samtale": "t_trial_samtale_forsoeg"}}
    ordinary = start(session, users)
    assert ordinary.rule_set == "ordinaer" and events(session, ordinary.id, "rule_set_chosen") == []


def test_chosen_at_visitation_applies_to_the_tasks_that_visitation_leads_to(session, users):
    case = start(session, users)
    through_visitation(session, users, case, regelsaet="forsoeg")
    session.refresh(case)
    assert case.rule_set == "forsoeg"
    assert danish_day(task(session, case.id, "samtale").due_at) == MONDAY + timedelta(weeks=8)
    [chosen] = events(session, case.id, "rule_set_chosen")
    assert chosen.actor == "jc" and chosen.element_id == "visitation"
    assert chosen.details["from"] == "ordinaer" and chosen.details["to"] == "forsoeg"


def test_a_bad_rule_set_name_is_refused_and_nothing_changes(session, users):
    before = session.scalar(select(Case.id).limit(1))
    with pytest.raises(FormRejected) as refused:
        start(session, users, rule_set="frikomune")
    assert refused.value.detail[0]["field"] == "rule_set"
    assert "ikke et kendt regelsæt" in refused.value.detail[0]["message"]
    assert "forsoeg (Testforsøg)" in refused.value.detail[0]["message"]
    session.rollback()
    assert session.scalar(select(Case.id).limit(1)) == before  # no case was started
    case = start(session, users)
    row = task(session, case.id, "visitation")
    with pytest.raises(FormRejected) as refused:
        runtime.complete_task(session, task_id=row.id, data={"kategori": "jobparat", "regelsaet": "nope"},
                              user=users["jc"], rules=f.RULES)
    assert refused.value.detail == [{"field": "regelsaet", "message": refused.value.detail[0]["message"]}]
    assert refused.value.detail[0]["message"].startswith("Regelsæt: 'nope' er ikke et kendt regelsæt")
    session.rollback()
    assert task(session, case.id, "visitation").status == "open"
    session.refresh(case)
    assert case.rule_set == "ordinaer" and events(session, case.id, "rule_set_chosen") == []
    with pytest.raises(FormRejected):
        case_attributes.change_rule_set(session, case_id=case.id, rule_set="nope", reason=None,
                                        user=users["jclead"], rules=f.RULES)
    session.rollback()
    session.refresh(case)
    assert case.rule_set == "ordinaer"


def test_a_running_case_switched_to_another_rule_set_gets_its_figures_from_then_on(session, users):
    case = start(session, users)
    through_visitation(session, users, case)
    first = task(session, case.id, "samtale")
    assert danish_day(first.due_at) == MONDAY + timedelta(weeks=4)
    with clock.at(at(MONDAY + timedelta(days=1))):
        case_attributes.change_rule_set(session, case_id=case.id, rule_set="forsoeg", reason="Nyt forsøg",
                                        user=users["jclead"], rules=f.RULES)
    session.commit()
    assert danish_day(task(session, case.id, "samtale").due_at) == MONDAY + timedelta(weeks=4)  # kept
    complete(session, case.id, "samtale", users["jc"], {}, MONDAY + timedelta(days=2))
    timer = session.scalars(select(Wait).where(Wait.case_id == case.id, Wait.kind == "timer")).one()
    assert danish_day(timer.due_at) == MONDAY + timedelta(days=2, weeks=8)  # created after the switch
    [chosen] = events(session, case.id, "rule_set_chosen")
    assert chosen.actor == "jclead" and chosen.details["reason"] == "Nyt forsøg"
    with pytest.raises(Forbidden):  # a caseworker may not switch it
        case_attributes.change_rule_set(session, case_id=case.id, rule_set="ordinaer", reason=None,
                                        user=users["jc"], rules=f.RULES)


def test_the_coordinator_is_chosen_at_visitation_and_changed_by_a_jobcenter_team_lead(session, users):
    case = start(session, users)
    complete(session, case.id, "visitation", users["jc"],
             {"kategori": "aktivitetsparat", "koordinerende_sagsbehandler": "jc2"}, MONDAY)
    session.refresh(case)
    assert case_attributes.coordinator_name(session, case) == "jc2"
    [chosen] = events(session, case.id, "coordinator_set")
    assert chosen.actor == "jc" and chosen.details == {"from": None, "to": "jc2", "unit": "jobcenter"}
    case_attributes.change_coordinator(session, case_id=case.id, username="jclead", user=users["jclead"])
    session.commit()
    assert case_attributes.coordinator_name(session, case) == "jclead"
    assert events(session, case.id, "coordinator_set")[-1].details["from"] == "jc2"
    with pytest.raises(Forbidden):
        case_attributes.change_coordinator(session, case_id=case.id, username="jc", user=users["jc"])
    with pytest.raises(Forbidden):  # a team lead of another unit
        case_attributes.change_coordinator(session, case_id=case.id, username="jc", user=users["jclead2"])


@pytest.mark.parametrize(("username", "message"), [
    ("ingen_saadan", "der er ingen bruger 'ingen_saadan'"),
    ("sofcw", "'sofcw' er ikke sagsbehandler eller teamleder i jobcenter"),
    ("owner", "'owner' er ikke sagsbehandler eller teamleder i jobcenter"),
])
def test_a_coordinator_who_is_not_staff_of_the_unit_is_refused(session, users, username, message):
    case = start(session, users)
    row = task(session, case.id, "visitation")
    with pytest.raises(FormRejected) as refused:
        runtime.complete_task(session, task_id=row.id, user=users["jc"], rules=f.RULES,
                              data={"kategori": "aktivitetsparat", "koordinerende_sagsbehandler": username})
    assert refused.value.detail == [{"field": "koordinerende_sagsbehandler",
                                     "message": f"Koordinerende sagsbehandler: {message}"}]
    session.rollback()
    session.refresh(case)
    assert case.coordinator_id is None and task(session, case.id, "visitation").status == "open"
    with pytest.raises(FormRejected):
        case_attributes.change_coordinator(session, case_id=case.id, username=username, user=users["jclead"])


def test_the_coordinator_is_required_for_an_aktivitetsparat_citizen(session, users):
    case = start(session, users)
    row = task(session, case.id, "visitation")
    with pytest.raises(FormRejected) as refused:
        runtime.complete_task(session, task_id=row.id, data={"kategori": "aktivitetsparat"}, user=users["jc"],
                              rules=f.RULES)
    assert [e["field"] for e in refused.value.detail] == ["koordinerende_sagsbehandler"]


def test_a_completed_case_keeps_its_coordinator_and_rule_set(session, users):
    case = start(session, users)
    runtime.cancel_case(session, case_id=case.id, reason="Flyttet", actor="jclead", rules=f.RULES)
    session.commit()
    with pytest.raises(Conflict):
        case_attributes.change_coordinator(session, case_id=case.id, username="jc", user=users["jclead"])


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deadlines.toml"
    path.write_text('[kh_jobsamtale]\nduration = "P6W"\nsource = "x"\n\n' + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "message"), [
    ('[rule_sets.frikommune]\nsource = "x"\n', "needs a label"),
    ('[rule_sets.ordinaer]\nlabel = "x"\n', "other than 'ordinaer'"),
    ('[rule_sets.frikommune]\nlabel = "x"\n[rule_sets.frikommune.deadlines.ukendt]\nduration = "P3M"\n',
     "no ordinary deadline 'ukendt'"),
    ('[rule_sets.frikommune]\nlabel = "x"\n[rule_sets.frikommune.deadlines.kh_jobsamtale]\nduration = "3M"\n',
     "not an ISO 8601 duration"),
    ('[rule_sets.frikommune]\nlabel = "x"\n[rule_sets.frikommune.deadlines.kh_jobsamtale]\nvarighed = "P3M"\n',
     "unknown key(s) varighed"),
])
def test_a_broken_rule_set_in_the_file_is_refused_naming_the_table(tmp_path, text, message):
    with pytest.raises(DeadlineError) as refused:
        deadline_file(_write(tmp_path, text))
    assert message in str(refused.value) and "deadlines.toml: [rule_sets." in str(refused.value)


def test_an_override_keeps_what_it_leaves_out(tmp_path):
    path = _write(tmp_path, '[rule_sets.frikommune]\nlabel = "Frikommune"\n'
                            '[rule_sets.frikommune.deadlines.kh_jobsamtale]\ncounting = "working"\nduration = "P20D"\n')
    rule = deadline_file(path).rule_sets["frikommune"].overrides["kh_jobsamtale"]
    assert (rule.duration, rule.working, rule.name, rule.source) == ("P20D", True, "kh_jobsamtale", "x")
    assert deadline_file(path).rules["kh_jobsamtale"].duration == "P6W"  # the ordinary rule is untouched


def test_the_real_configuration_has_the_frikommune_trial():
    sets = deadline_file(Path(__file__).resolve().parents[2] / "config" / "deadlines.toml").rule_sets
    assert sets["frikommune"].overrides["kh_jobsamtale"].duration == "P3M"
    assert sets["frikommune"].overrides["sdp_opfoelgning"].duration == "P8W"


def test_a_staff_field_naming_no_unit_is_refused_at_deploy(session, users, tmp_path):
    import shutil

    from engine.case_rules import CaseRules
    from engine.errors import InvalidDefinition

    forms = tmp_path / "forms"
    shutil.copytree(f.FORMS, forms)
    form = (forms / "t_trial_visitation.json").read_text(encoding="utf-8").replace('"unit": "jobcenter"',
                                                                                  '"unit": "jobcentret"')
    (forms / "t_trial_visitation.json").write_text(form, encoding="utf-8")
    rules = CaseRules(forms_dir=forms, deadlines_file=f.RULES.deadlines_file)
    with pytest.raises(InvalidDefinition) as refused:
        f.deploy_files_text(session, "trial.bpmn", (f.DATA / "trial.bpmn").read_text(encoding="utf-8")
                            .replace('id="trial"', 'id="trial_x"'), rules=rules)
    [problem] = refused.value.detail
    assert problem["element"] == "visitation"
    assert "staff field 'koordinerende_sagsbehandler' names unit 'jobcentret', which does not exist" in problem["message"]
