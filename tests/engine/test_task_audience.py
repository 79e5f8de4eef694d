"""A reminder drawn for the team lead (`audience=teamlead`) reaches the team leads of the unit, not its caseworkers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine import catalog, clock, runtime
from engine import inbox as tasks
from engine.errors import Forbidden, Invalid, InvalidDefinition
from tests import factories as f
from workers.timers import fire_due_timers

START = datetime(2026, 9, 7, 8, tzinfo=timezone.utc)  # a Monday


@pytest.fixture
def reminder(db, seed, session):
    users = seed("semantics/audience.bpmn")
    with clock.at(START):
        case = f.start_case(session, "audience", actor=users["jc"])
    fire_due_timers(db.session_factory, rules=f.RULES, now=START + timedelta(days=2, hours=1))
    session.expire_all()
    [row] = [t for t in tasks.list_tasks(session, users["jclead"], case_id=case.id) if t.element_id == "paamindelse"]
    return users, case, row


def test_the_reminder_is_in_the_team_leads_inbox_only(session, reminder):
    users, case, row = reminder
    assert row.audience == "teamlead" and row.unit == "jobcenter"
    assert [t.element_id for t in tasks.list_tasks(session, users["jc"], case_id=case.id)] == ["behandl"]
    assert [t.element_id for t in tasks.list_tasks(session, users["jclead"], audience="teamlead")] == ["paamindelse"]
    assert {t.element_id for t in tasks.list_tasks(session, users["jclead"], case_id=case.id)} == {
        "behandl", "paamindelse"}
    with pytest.raises(Invalid, match="audience must be"):
        tasks.list_tasks(session, users["jclead"], audience="boss")


def test_only_a_team_lead_works_the_reminder(session, reminder):
    users, case, row = reminder
    with pytest.raises(Forbidden, match="team leads"):
        runtime.complete_task(session, task_id=row.id, data={}, user=users["jc"], rules=f.RULES)
    session.rollback()
    with pytest.raises(Forbidden, match="team leads"):
        tasks.claim(session, task_id=row.id, user=users["jc"])
    session.rollback()
    with pytest.raises(Invalid, match="not a team lead"):
        tasks.assign(session, task_id=row.id, username="jc", user=users["jclead"])
    session.rollback()
    runtime.complete_task(session, task_id=row.id, data={"note": "Omfordelt"}, user=users["jclead"], rules=f.RULES)
    session.commit()
    assert [t.element_id for t in tasks.list_tasks(session, users["jclead"], case_id=case.id, status="open")] == [
        "behandl"]


@pytest.mark.parametrize("where, value, message", [
    ("paamindelse", "chef", "audience must be one of: teamlead (got 'chef')"),
    ("frist", "teamlead", "audience belongs on a user task"),
])
def test_a_wrong_audience_is_refused_at_deploy(session, where, value, message):
    f.standard_users(session)
    raw = (f.DATA / "semantics/audience.bpmn").read_text()
    if where == "paamindelse":
        raw = raw.replace('value="teamlead"', f'value="{value}"')
    else:
        raw = raw.replace('cancelActivity="false">', 'cancelActivity="false"><bpmn:extensionElements><camunda:properties>'
                          f'<camunda:property name="audience" value="{value}"/></camunda:properties>'
                          '</bpmn:extensionElements>')
    with pytest.raises(InvalidDefinition) as refused:
        catalog.deploy(session, [("audience.bpmn", raw.encode())], rules=f.RULES)
    assert [(p["element"], p["message"]) for p in refused.value.detail] == [(where, message)]
