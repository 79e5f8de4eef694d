"""Scripts and expressions under limits: runaways stopped in a worker process, results stored as JSON or refused.

Real worker processes (engine.script_pool), real database; each failure must be a
ProcessError naming the element, leave the case as it was and be auditable.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from engine import catalog, clock, runtime, scripting
from engine.errors import ProcessError
from engine.models import AuditEvent, Case, HumanTask
from engine.scripting import ScriptLimits
from tests import factories as f

LANE = "jobcenter"


def script_process(key: str, script: str) -> bytes:
    """start -> user task `forbered` -> script task `beregn` (the script) -> user task `efter` -> end."""
    script = script.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="{LANE}"><bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>forbered</bpmn:flowNodeRef><bpmn:flowNodeRef>beregn</bpmn:flowNodeRef><bpmn:flowNodeRef>efter</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="forbered"/>
    <bpmn:userTask id="forbered" name="Forbered" camunda:formKey="t_note"/>
    <bpmn:sequenceFlow id="f2" sourceRef="forbered" targetRef="beregn"/>
    <bpmn:scriptTask id="beregn" name="Beregn"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="beregn" targetRef="efter"/>
    <bpmn:userTask id="efter" name="Efter" camunda:formKey="t_note"/>
    <bpmn:sequenceFlow id="f4" sourceRef="efter" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def condition_process(key: str, condition: str) -> bytes:
    """start -> user task `forbered` -> exclusive gateway `vej` (condition, else default) -> end."""
    condition = condition.replace("<", "&lt;").replace(">", "&gt;")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="{LANE}"><bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>forbered</bpmn:flowNodeRef><bpmn:flowNodeRef>vej</bpmn:flowNodeRef><bpmn:flowNodeRef>ja</bpmn:flowNodeRef><bpmn:flowNodeRef>nej</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="forbered"/>
    <bpmn:userTask id="forbered" name="Forbered" camunda:formKey="t_note"/>
    <bpmn:sequenceFlow id="f2" sourceRef="forbered" targetRef="vej"/>
    <bpmn:exclusiveGateway id="vej" default="f_nej"/>
    <bpmn:sequenceFlow id="f_ja" sourceRef="vej" targetRef="ja"><bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_nej" sourceRef="vej" targetRef="nej"/>
    <bpmn:endEvent id="ja"/>
    <bpmn:endEvent id="nej"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


@pytest.fixture
def users(seed):
    return seed()


def deploy(session, name: str, xml: bytes, rules=f.RULES) -> None:
    catalog.deploy(session, [(name, xml)], rules=rules, actor="test")
    session.commit()


def open_tasks(session, case_id):
    session.expire_all()
    return list(session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                        HumanTask.status.in_(("open", "claimed")))))


def fail_forbered(session, users, key: str, rules=f.RULES) -> tuple[ProcessError, Case, str]:
    """Start the case, complete `forbered`, expect the next step to fail; audit the failure as the API does."""
    case = f.start_case(session, key, actor=users["jc"], rules=rules)
    [task] = open_tasks(session, case.id)
    before = session.get(Case, case.id).state_json
    with pytest.raises(ProcessError) as err:
        runtime.complete_task(session, task_id=task.id, data={}, user=users["jc"], rules=rules)
    session.rollback()
    runtime.record_failure(session, case_id=case.id, error=err.value, actor="jc")
    session.commit()
    session.expire_all()
    assert session.get(Case, case.id).state_json == before
    assert [t.element_id for t in open_tasks(session, case.id)] == ["forbered"]
    [audited] = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                         AuditEvent.type == "process_error")).all()
    assert audited.element_id == err.value.detail["element"]
    return err.value, case, before


# -- which expressions stay in the server process ---------------------------------------------------

@pytest.mark.parametrize("expression", [
    'kategori == "jobparat"', 'forventede_uger > 8 and not afklaret', 'tilbud in ["praktik", "loentilskud"]',
    'deadline("visitation")', "parse_date(frist) < today()", "x is None", "(forventede_uger) == (3)",
    'data["a"][0] != -1', "len(liste) >= 2 if liste else False",
])
def test_expressions_that_provably_run_briefly_stay_in_process(expression):
    assert scripting.is_cheap(expression)


@pytest.mark.parametrize("expression", [
    "sum(range(10**9)) > 0", "'x' * n", "'%0999999999d' % 1", "sats * 12 > 100000", "[c for c in x]",
    'f"{x:>999999999}"', 'deadline("P9999999D working")', "str(liste)", "x.upper()", "a[::-1]", "max(a)",
    " or ".join(["a == 1"] * 40),
])
def test_every_other_expression_goes_to_a_worker_process(expression):
    assert not scripting.is_cheap(expression)


# -- runaways ---------------------------------------------------------------------------------------

def test_a_runaway_condition_is_stopped_and_names_the_gateway(db, session, users):
    rules = replace(f.RULES, script_limits=ScriptLimits(cpu_seconds=0.5))
    deploy(session, "runaway_vej.bpmn", condition_process("runaway_vej", "sum(range(10**9)) > 0"), rules)
    error, _, _ = fail_forbered(session, users, "runaway_vej", rules)
    assert error.detail["element"] == "vej"
    assert "0.5 s of CPU time" in error.detail["message"]


def test_a_memory_bomb_is_stopped_and_the_next_script_runs(db, session, users):
    rules = replace(f.RULES, script_limits=ScriptLimits(memory_bytes=64 * scripting.MIB))
    deploy(session, "bombe.bpmn", script_process("bombe", "x = 'x' * 10**9"), rules)
    error, _, _ = fail_forbered(session, users, "bombe", rules)
    assert error.detail["element"] == "beregn" and "64 MiB" in error.detail["message"]
    deploy(session, "efter_bomben.bpmn", script_process("efter_bomben", "x = len('x' * 1000)"), rules)
    case = f.start_case(session, "efter_bomben", actor=users["jc"], rules=rules)
    [task] = open_tasks(session, case.id)
    runtime.complete_task(session, task_id=task.id, data={}, user=users["jc"], rules=rules)
    session.commit()
    assert session.get(Case, case.id).data["x"] == 1000


# -- what a script leaves behind --------------------------------------------------------------------

def test_dates_from_the_helpers_are_stored_as_iso_strings(db, session, users):
    script = ("idag = today()\nnu = now()\nfrist = add_working_days('2026-03-27', 5)\n"
              "slut = deadline('P5D working')\npar = (1, 2)\ndage = days_between(idag, frist)")
    deploy(session, "datoer.bpmn", script_process("datoer", script))
    monday = datetime(2026, 3, 30, 8, 0, tzinfo=timezone.utc)
    with clock.at(monday):
        case = f.start_case(session, "datoer", actor=users["jc"])
        [task] = open_tasks(session, case.id)
        runtime.complete_task(session, task_id=task.id, data={}, user=users["jc"], rules=f.RULES)
        session.commit()
    data = session.get(Case, case.id).data
    # Easter 2026 closes 2, 3 and 6 April: five working days after Friday 27 March end on 8 April
    assert (data["idag"], data["frist"], data["dage"]) == ("2026-03-30", "2026-04-08", 9)
    assert data["nu"] == monday.isoformat() and data["slut"] == "2026-04-09T23:59:59+02:00"
    assert data["par"] == [1, 2]
    assert [t.element_id for t in open_tasks(session, case.id)] == ["efter"]


@pytest.mark.parametrize("index,script,words", [
    (0, "x = {1, 2}", "set"),
    (1, "x = {(1, 2): 'a'}", "key of type tuple"),
    (2, "x = 10**1000 * 10**1000 * 10**1000 * 10**1000 * 10**1000", "4300 digits"),
    (3, "x = [timedelta(days=1)]", "timedelta"),
    (4, "x = 1e308 * 10", "finite"),
])
def test_results_without_a_json_form_fail_naming_the_element(db, session, users, index, script, words):
    deploy(session, f"ikke_json_{index}.bpmn", script_process(f"ikke_json_{index}", script))
    error, _, _ = fail_forbered(session, users, f"ikke_json_{index}")
    assert error.detail["element"] == "beregn"
    assert words in error.detail["message"] and "x" in error.detail["message"]


def _decision(output: str) -> bytes:
    dmn = (f.DATA / "semantics" / "kategori.dmn").read_text(encoding="utf-8")
    return dmn.replace('<outputEntry id="r1_out"><text>1</text>', f'<outputEntry id="r1_out"><text>{output}</text>').encode()


def test_a_decision_cell_giving_a_date_stores_it_as_an_iso_string(db, session, users):
    catalog.deploy(session, [("kategori.dmn", _decision("today()")),
                             ("visitation_dmn.bpmn", (f.DATA / "semantics" / "visitation_dmn.bpmn").read_bytes())],
                   rules=f.RULES, actor="test")
    session.commit()
    with clock.at(datetime(2026, 3, 30, 8, 0, tzinfo=timezone.utc)):
        case = f.start_case(session, "visitation_dmn", actor=users["jc"],
                            data={"forventede_uger": 4, "afklaret_behandling": True})
    assert session.get(Case, case.id).data["kategori"] == "2026-03-30"


def test_a_decision_cell_giving_a_set_fails_naming_the_task(db, session, users):
    catalog.deploy(session, [("kategori.dmn", _decision("{1, 2}")),
                             ("visitation_dmn.bpmn", (f.DATA / "semantics" / "visitation_dmn.bpmn").read_bytes())],
                   rules=f.RULES, actor="test")
    session.commit()
    with pytest.raises(ProcessError) as err:
        f.start_case(session, "visitation_dmn", actor=users["jc"],
                     data={"forventede_uger": 4, "afklaret_behandling": True})
    session.rollback()
    assert err.value.detail["element"] == "foreslaa" and "set" in err.value.detail["message"]
    assert session.scalars(select(Case)).all() == []
