"""Engine semantics the journeys need, each shown by a small diagram in tests/data/semantics/.

Every step goes through the real engine: each call loads the case from the
database and saves it again, so every wait state is a save/load round trip.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import clock, runtime
from engine.errors import NotFound, ProcessError
from engine.models import AuditEvent, Case, HumanTask, Wait
from engine.scripting import ScriptLimits
from engine.workdays import DANISH_TIME
from tests import factories as f
from workers.timers import fire_due_timers

SEM = "semantics/"
MONDAY_BEFORE_EASTER = datetime(2026, 3, 30, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def users(seed, session):
    return seed() | {
        "vs": f.add_user(session, "vs", "caseworker", ["virksomhedsservice"]),
        "sof": f.add_user(session, "sofie", "caseworker", ["sof"]),
    }


def tasks_of(session, case_id, status=("open", "claimed")):
    session.expire_all()
    return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status.in_(status))
                                .order_by(HumanTask.created_at, HumanTask.element_id)))


def events(session, case_id, type_=None):
    query = select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    if type_:
        query = query.where(AuditEvent.type == type_)
    return list(session.scalars(query))


def complete(session, user, element, case_id, data=None):
    row = next(t for t in tasks_of(session, case_id) if t.element_id == element)
    runtime.complete_task(session, task_id=row.id, data=data or {}, user=user, rules=f.RULES)
    session.commit()
    return row


def fire(db, now):
    return fire_due_timers(db.session_factory, rules=f.RULES, now=now)


def danish_day(moment) -> date:
    return clock.as_utc(moment).astimezone(DANISH_TIME).date()


# -- deadlines and timers ----------------------------------------------------------------------


def test_deadlines_and_timers_in_calendar_and_working_days(db, session, users):
    f.deploy_data(session, SEM + "timers.bpmn")
    with clock.at(MONDAY_BEFORE_EASTER):
        case = f.start_case(session, "timers", actor=users["jc"], data={"henvendelsesdato": "2026-03-27"})
    [timer] = session.scalars(select(Wait).where(Wait.case_id == case.id)).all()
    assert (timer.element_id, timer.kind) == ("vent_2_dage", "timer")
    assert clock.as_utc(timer.due_at) == MONDAY_BEFORE_EASTER + timedelta(days=2)

    assert fire(db, MONDAY_BEFORE_EASTER + timedelta(days=1)).fired == 0
    wednesday = MONDAY_BEFORE_EASTER + timedelta(days=2, minutes=1)
    assert fire(db, wednesday).fired == 1
    [talk] = tasks_of(session, case.id)
    # 5 working days from Wednesday 1 April 2026: Easter closes 2, 3 and 6 April -> 7, 8, 9, 10, 13
    assert talk.element_id == "samtale" and danish_day(talk.due_at) == date(2026, 4, 13)
    assert talk.deadline_rule == "P5D working"

    # the non-interrupting weekly cycle raises a reminder twice, then stops
    waits = {w.element_id: w for w in session.scalars(select(Wait).where(Wait.case_id == case.id))}
    assert set(waits) == {"paamindelse_hver_uge", "frist_overskredet"}
    first_week = clock.as_utc(waits["paamindelse_hver_uge"].due_at)
    assert first_week == wednesday + timedelta(days=7)
    assert fire(db, first_week + timedelta(minutes=1)).fired == 1
    assert [t.element_id for t in tasks_of(session, case.id)] == ["samtale", "paamindelse"]
    assert fire(db, first_week + timedelta(days=7, minutes=2)).fired == 1
    assert [t.element_id for t in tasks_of(session, case.id)].count("paamindelse") == 2
    assert fire(db, first_week + timedelta(days=14, minutes=3)).fired == 0
    assert len(events(session, case.id, "timer_fired")) == 3

    # completing the talk removes its boundary timers; a timeDate timer counts 3 working days
    with clock.at(first_week + timedelta(days=8)):  # Thursday 16 April
        complete(session, users["jc"], "samtale", case.id)
    [date_timer] = session.scalars(select(Wait).where(Wait.case_id == case.id)).all()
    assert date_timer.element_id == "vent_arbejdsdage"
    assert danish_day(date_timer.due_at) == date(2026, 4, 21)
    assert fire(db, clock.as_utc(date_timer.due_at) + timedelta(seconds=1)).fired == 1
    [last] = [t for t in tasks_of(session, case.id) if t.element_id == "afslut"]
    # a named deadline from configuration: one week after henvendelsesdato
    assert last.deadline_rule == "visitation" and danish_day(last.due_at) == date(2026, 4, 3)


def test_interrupting_boundary_timer_cancels_the_task(db, session, users):
    f.deploy_data(session, SEM + "timers.bpmn")
    start = datetime(2026, 6, 1, 8, tzinfo=timezone.utc)
    with clock.at(start):
        case = f.start_case(session, "timers", actor=users["jc"], data={"henvendelsesdato": "2026-06-01"})
    fire(db, start + timedelta(days=2, seconds=1))
    [talk] = tasks_of(session, case.id)
    result = fire(db, start + timedelta(days=40))
    assert result.fired == 2  # the weekly reminder (one turn per pass) and the 30-day escalation
    session.expire_all()
    assert session.get(HumanTask, talk.id).status == "cancelled"
    assert session.get(Case, case.id).status == "completed"
    assert events(session, case.id, "case_completed")[0].element_id == "eskaleret"
    assert tasks_of(session, case.id) == []


def test_overdue_filter(db, session, users):
    from engine import inbox as task_queries
    f.deploy_data(session, SEM + "timers.bpmn")
    start = datetime(2026, 6, 1, 8, tzinfo=timezone.utc)
    with clock.at(start):
        f.start_case(session, "timers", actor=users["jc"], data={"henvendelsesdato": "2026-06-01"})
    fire(db, start + timedelta(days=2, seconds=1))
    with clock.at(start + timedelta(days=3)):
        assert task_queries.list_tasks(session, users["jc"], overdue=True) == []
    with clock.at(start + timedelta(days=20)):
        [late] = task_queries.list_tasks(session, users["jc"], overdue=True)
        assert late.element_id == "samtale"


# -- structure -------------------------------------------------------------------------------------


def test_gateways_subprocesses_multi_instance_and_scripts(db, session, users):
    f.deploy_data(session, SEM + "structure.bpmn")
    start = datetime(2026, 9, 7, 8, tzinfo=timezone.utc)
    with clock.at(start):
        case = f.start_case(session, "structure", actor=users["jc"], data={"virksomhed": True})
    # inclusive gateway: the condition holds, so the default path is not taken
    assert [(t.element_id, t.unit) for t in tasks_of(session, case.id)] == [("kontakt", "virksomhedsservice")]
    [gateway] = events(session, case.id, "gateway_taken")
    assert gateway.details["taken"] == ["kontakt"]

    with clock.at(start):
        complete(session, users["vs"], "kontakt", case.id)
    waits = {w.element_id: w for w in session.scalars(select(Wait).where(Wait.case_id == case.id))}
    assert waits["svar"].kind == "message" and waits["svar"].message == "arbejdsgiver_svar"
    assert waits["ingen_svar"].kind == "timer" and danish_day(waits["ingen_svar"].due_at) == date(2026, 9, 14)
    assert waits["afbud_start"].message == "afbud"  # the event subprocess listens all along

    # the employer never answers: the event-based gateway takes the timer
    fire(db, start + timedelta(days=8))
    assert [t.element_id for t in tasks_of(session, case.id)] == ["rykker"]
    assert [e.element_id for e in events(session, case.id, "timer_fired")] == ["ingen_svar"]
    assert "svar" not in {w.element_id for w in session.scalars(select(Wait).where(Wait.case_id == case.id))}

    # a non-interrupting event subprocess: an absence is registered beside the main path
    runtime.correlate_message(session, name="afbud", correlation_key=case.id, data={"grund": "syg"},
                              user=users["system"], rules=f.RULES)
    session.commit()
    assert sorted(t.element_id for t in tasks_of(session, case.id)) == ["registrer_afbud", "rykker"]
    complete(session, users["jc"], "registrer_afbud", case.id)

    complete(session, users["vs"], "rykker", case.id)
    visits = [t for t in tasks_of(session, case.id) if t.element_id == "besoeg"]
    assert len(visits) == 2 and {t.unit for t in visits} == {"virksomhedsservice"}  # multi-instance
    for visit in visits:
        runtime.complete_task(session, task_id=visit.id, data={"note": "ok"}, user=users["vs"], rules=f.RULES)
        session.commit()
    # embedded subprocess: its task belongs to the subprocess's lane
    [inner] = tasks_of(session, case.id)
    assert (inner.element_id, inner.unit) == ("samtale", "jobcenter")
    complete(session, users["jc"], "samtale", case.id)
    session.expire_all()
    done = session.get(Case, case.id)
    assert done.status == "completed"
    assert done.data["dage"] == 30 and done.data["ugedag_ok"] is True  # the script's helpers


def test_message_between_cases_starts_sof_and_reports_back(db, session, users):
    f.deploy_data(session, SEM + "referral.bpmn")
    jc_case = f.start_case(session, "jobforloeb", actor=users["jc"], data={"problemer": "bolig"})
    session.expire_all()
    sof_case = session.scalar(select(Case).where(Case.process_key == "sof_vurdering"))
    assert sof_case is not None and sof_case.citizen_id == jc_case.citizen_id
    assert sof_case.data["problemer"] == "bolig"  # the referral carries the jobcenter's data
    [sent] = events(session, jc_case.id, "message_sent")
    assert sent.details == {"name": "sof_henvisning", "element_name": "Henvis til SOF", "to_case": sof_case.id,
                            "started": True, "cause": "jc"}
    assert [(t.element_id, t.unit) for t in tasks_of(session, sof_case.id)] == [("vurdering", "sof")]
    # the jobcenter carries on meanwhile
    assert [t.element_id for t in tasks_of(session, jc_case.id)] == ["kontaktforloeb"]

    complete(session, users["sof"], "vurdering", sof_case.id, {"note": "Bostøtte bevilget"})
    assert session.get(Case, sof_case.id).status == "completed"
    assert sorted(t.element_id for t in tasks_of(session, jc_case.id)) == ["kontaktforloeb", "laes"]
    [received] = events(session, jc_case.id, "message_received")
    # delivered by the system, caused by SOF's caseworker, from SOF's case
    assert received.actor == "system:engine" and received.details["data"]["note"] == "Bostøtte bevilget"
    assert received.details["from_case"] == sof_case.id and received.details["cause"] == users["sof"].username


def test_message_start_from_outside(db, session, users):
    f.deploy_data(session, SEM + "referral.bpmn")
    case = runtime.correlate_message(session, name="sof_henvisning", correlation_key="0101901234",
                                     data={"henvist_af": "egen læge"}, user=users["system"], rules=f.RULES)
    session.commit()
    assert case.process_key == "sof_vurdering" and case.data["henvist_af"] == "egen læge"


def test_decision_table_suggests_the_category(db, session, users):
    f.deploy_data(session, SEM + "kategori.dmn", SEM + "visitation_dmn.bpmn")
    for weeks, clear, category in ((4, True, 1), (12, True, 2), (12, False, 3)):
        case = f.start_case(session, "visitation_dmn", actor=users["jc"],
                            data={"forventede_uger": weeks, "afklaret_behandling": clear})
        assert case.data["kategori"] == category
    passed = events(session, case.id, "element_passed")
    assert any(e.element_id == "foreslaa" and e.details["kind"] == "BusinessRuleTask" for e in passed)


# -- scripts that break the rules ----------------------------------------------------------------


SCRIPT_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="script_{n}" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="jobcenter"><bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>forbered</bpmn:flowNodeRef><bpmn:flowNodeRef>beregn</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="forbered"/>
    <bpmn:userTask id="forbered" name="Forbered" camunda:formKey="t_note"/>
    <bpmn:sequenceFlow id="f2" sourceRef="forbered" targetRef="beregn"/>
    <bpmn:scriptTask id="beregn" name="Beregn"><bpmn:script>ok = 1
{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="beregn" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>"""

REFUSED_AT_DEPLOY = [
    "x = ().__class__.__bases__[0].__subclasses__()",
    "x = __import__('os').system('true')",
    "x = (lambda: 0).__globals__",
    "x = [c for c in ().__class__.__mro__]",
    "x = eval('1+1')",
    "import os",
    "x = 10 ** 10 ** 9",
    "x = 1 +",
]

FAIL_WHEN_RUN = [
    "x = open('/etc/passwd').read()",
    "x = getattr(ok, '__class__')",
    "x = type(ok)",
    "x = '{0.__class__}'.format(ok)",
    "x = globals()",
    "x = 1 / 0",
    "x = undefined_name + 1",
    "while True:\n    ok = ok + 1",
]


@pytest.mark.parametrize("index,script", list(enumerate(REFUSED_AT_DEPLOY)))
def test_scripts_that_break_the_rules_are_refused_at_deploy(session, users, index, script):
    from engine import catalog
    from engine.errors import InvalidDefinition
    with pytest.raises(InvalidDefinition) as err:
        catalog.deploy(session, [(f"script_{index}.bpmn", SCRIPT_PROCESS.format(n=index, script=script).encode())],
                       rules=f.RULES, actor="test")
    [problem] = err.value.detail
    assert problem["element"] == "beregn" and problem["line"] == 10 and problem["file"] == f"script_{index}.bpmn"


@pytest.mark.parametrize("index,script", list(enumerate(FAIL_WHEN_RUN)))
def test_scripts_that_fail_when_run_leave_the_case_as_it_was(db, session, users, index, script):
    from engine import catalog
    rules = replace(f.RULES, script_limits=ScriptLimits(cpu_seconds=0.2))  # a CPU-bound loop is stopped soon
    catalog.deploy(session, [(f"script_{index}.bpmn", SCRIPT_PROCESS.format(n=index, script=script).encode())],
                   rules=rules, actor="test")
    session.commit()
    case = f.start_case(session, f"script_{index}", actor=users["jc"], rules=rules)
    [task] = tasks_of(session, case.id)
    before = session.get(Case, case.id).state_json
    with pytest.raises(ProcessError) as err:
        runtime.complete_task(session, task_id=task.id, data={}, user=users["jc"], rules=rules)
    session.rollback()
    assert err.value.detail["element"] == "beregn"
    assert err.value.detail["line"] in (2, 3)
    runtime.record_failure(session, case_id=case.id, error=err.value, actor="jc")
    session.commit()
    session.expire_all()
    assert session.get(Case, case.id).state_json == before
    assert session.get(HumanTask, task.id).status == "open"
    [failure] = events(session, case.id, "process_error")
    assert failure.element_id == "beregn" and failure.details["message"]


def test_a_process_may_name_a_further_correlation_key(db, session, users):
    xml = (f.DATA / "intake.bpmn").read_text(encoding="utf-8").replace(
        '<bpmn:intermediateCatchEvent id="ansoegning_modtaget" name="Ansøgning modtaget">',
        '<bpmn:intermediateCatchEvent id="ansoegning_modtaget" name="Ansøgning modtaget"><bpmn:extensionElements>'
        '<camunda:properties><camunda:property name="correlation_key" value="journalnummer"/></camunda:properties>'
        '</bpmn:extensionElements>')
    from engine import catalog
    catalog.deploy(session, [("intake.bpmn", xml.encode())], rules=f.RULES, actor="test")
    session.commit()
    case = f.start_case(session, "intake", actor=users["jc"], data={"journalnummer": "J-2026-117"})
    complete(session, users["jc"], "registrering", case.id, {"forsikret": False, "henvendelsesdato": "2026-11-23"})
    complete(session, users["jc"], "visitation", case.id, {"til_raadighed": True, "kategori": "jobparat",
                                                           "problemer_ud_over_ledighed": False, "vurdering": "ok"})
    received = runtime.correlate_message(session, name="ansoegning_modtaget", correlation_key="J-2026-117",
                                         data={}, user=users["system"], rules=f.RULES)
    session.commit()
    assert received.id == case.id
    assert [t.element_id for t in tasks_of(session, case.id)] == ["afgoerelse"]


def test_timer_start_event_waits_before_the_first_task(db, session, users):
    f.deploy_data(session, SEM + "timer_start.bpmn")
    start = datetime(2026, 5, 4, 8, tzinfo=timezone.utc)
    with clock.at(start):
        case = f.start_case(session, "timer_start", actor=users["jc"])
    assert tasks_of(session, case.id) == []
    [wait] = session.scalars(select(Wait).where(Wait.case_id == case.id)).all()
    assert (wait.element_id, clock.as_utc(wait.due_at)) == ("om_to_uger", start + timedelta(days=14))
    assert fire(db, start + timedelta(days=13)).fired == 0
    assert fire(db, start + timedelta(days=14, seconds=1)).fired == 1
    assert [t.element_id for t in tasks_of(session, case.id)] == ["opfoelg"]


# -- interrupting event subprocesses ---------------------------------------------------------------


def test_an_interrupting_event_subprocess_cancels_the_main_flow_and_ends_the_case(db, session, users):
    f.deploy_data(session, "placement.bpmn", SEM + "interrupting.bpmn")
    case = f.start_case(session, "interrupting", actor=users["jc"])
    assert {t.element_id for t in tasks_of(session, case.id)} == {"behandl", "match"}

    # a non-interrupting event subprocess runs beside the main flow and leaves it alone
    runtime.correlate_message(session, name="noter", correlation_key=case.id, data={}, user=users["system"],
                              rules=f.RULES)
    session.commit()
    assert {t.element_id for t in tasks_of(session, case.id)} == {"behandl", "match"}

    runtime.correlate_message(session, name="stop", correlation_key=case.id, data={}, user=users["system"],
                              rules=f.RULES)
    session.commit()
    # the main flow's task and the called process's task are cancelled at once
    assert [t.element_id for t in tasks_of(session, case.id)] == ["afslut"]
    assert {t.element_id for t in tasks_of(session, case.id, status=("cancelled",))} == {"behandl", "match"}
    # and the process listens for no further events
    assert session.scalars(select(Wait).where(Wait.case_id == case.id)).all() == []
    with pytest.raises(NotFound, match="no case waits|no process starts"):
        runtime.correlate_message(session, name="noter", correlation_key=case.id, data={}, user=users["system"],
                                  rules=f.RULES)
    session.rollback()

    complete(session, users["jc"], "afslut", case.id)
    done = session.get(Case, case.id)
    assert done.status == "completed"
    assert events(session, case.id, "case_completed")[0].element_id == "stop_slut"
