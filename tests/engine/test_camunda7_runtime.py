"""Camunda 7 semantics when a case runs: local input parameters, call-activity mappings, assignees.

Through the engine's own calls, with the state saved and loaded between every step (each call below
loads the case from the database).
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine import catalog, runtime
from engine.bpmn.parser import EVENT_FORM_KEY, FLOW_NAMES
from engine.models import AuditEvent, HumanTask
from tests import factories as f

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
        '20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:modeler="http://camunda.org/'
        'schema/modeler/1.0" id="d" targetNamespace="http://bpmn.io/schema/bpmn" '
        'modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">')


def process(pid: str, body: str) -> bytes:
    return (f'{HEAD}<bpmn:process id="{pid}" isExecutable="true">{body}</bpmn:process>'
            '</bpmn:definitions>').encode("utf-8")


def chain(*elements: str) -> str:
    """start → elements… → end, each element's id being the first id="…" in it."""
    ids = ["s"] + [e.split('id="', 1)[1].split('"', 1)[0] for e in elements] + ["e"]
    flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                    for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    return '<bpmn:startEvent id="s"/>' + "".join(elements) + '<bpmn:endEvent id="e"/>' + flows


def task(tid: str, extra: str = "", inner: str = "") -> str:
    return (f'<bpmn:userTask id="{tid}" camunda:candidateGroups="jobcenter" camunda:formKey="t_note"{extra}>'
            f'{inner}</bpmn:userTask>')


def io(*parameters: tuple[str, str, str]) -> str:
    items = "".join(f'<camunda:{kind}Parameter name="{name}">{value}</camunda:{kind}Parameter>'
                    for kind, name, value in parameters)
    return f"<bpmn:extensionElements><camunda:inputOutput>{items}</camunda:inputOutput></bpmn:extensionElements>"


@pytest.fixture
def staff(seed):
    return seed()


def deploy(session, *files):
    result = catalog.deploy(session, list(files), rules=f.RULES, actor="test")
    session.commit()
    return result


def open_task(session, case_id: str) -> HumanTask:
    [row] = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                    HumanTask.status.in_(("open", "claimed")))).all()
    return row


def complete(session, row: HumanTask, user, data: dict | None = None):
    _, case = runtime.complete_task(session, task_id=row.id, data=data or {}, user=user, rules=f.RULES)
    session.commit()
    return case


def audit_types(session, case_id: str) -> list[str]:
    return list(session.scalars(select(AuditEvent.type).where(AuditEvent.case_id == case_id)
                                .order_by(AuditEvent.seq)))


def test_input_parameters_are_local_and_outputs_reach_the_case(session, staff):
    inner = io(("input", "note", "${'fra input'}"), ("input", "navn", "Ny"), ("input", "tom", ""),
               ("output", "resultat", "${navn}"))
    deploy(session, ("io.bpmn", process("io", chain(task("t", inner=inner)))))
    case = f.start_case(session, "io", actor=staff["jc"], data={"navn": "Gammel"})
    row = open_task(session, case.id)
    workflow_data = runtime.CaseRun(session, case, actor=None, rules=f.RULES).workflow.get_next_task(
        spec_name="t").data
    assert (workflow_data["navn"], workflow_data["note"], workflow_data["tom"]) == ("Ny", "fra input", None)
    done = complete(session, row, staff["jc"])
    assert done.status == "completed"
    assert done.data["navn"] == "Gammel"  # the input covered it while the task ran; afterwards it is back
    assert "note" not in done.data and "tom" not in done.data  # local to the task
    assert done.data["resultat"] == "Ny"  # outputs are evaluated while the inputs are still there


def test_mapped_call_activity_passes_only_what_is_named(session, staff):
    called = process("kaldt", chain(task("t_kaldt")))
    mappings = ('<bpmn:extensionElements><camunda:in source="a" target="x"/><camunda:in source="mangler" '
                'target="y"/><camunda:in sourceExpression="${b == 2}" target="z"/>'
                '<camunda:out source="svar" target="fra_kaldt"/></bpmn:extensionElements>')
    caller = process("kalder", chain(f'<bpmn:callActivity id="kald" calledElement="kaldt">{mappings}</bpmn:callActivity>'))
    deploy(session, ("kaldt.bpmn", called), ("kalder.bpmn", caller))
    case = f.start_case(session, "kalder", actor=staff["jc"], data={"a": 1, "b": 2, "hemmelig": "x"})
    run = runtime.CaseRun(session, case, actor=None, rules=f.RULES)
    inside = run.workflow.get_next_task(spec_name="t_kaldt")
    assert inside.data == {"x": 1, "y": None, "z": True}
    session.rollback()
    done = complete(session, open_task(session, case.id), staff["jc"])
    assert done.data == {"a": 1, "b": 2, "hemmelig": "x", "fra_kaldt": None}


def test_variables_all_passes_everything_both_ways(session, staff):
    called = process("kaldt", chain(task("t_kaldt")))
    caller = process("kalder", chain('<bpmn:callActivity id="kald" calledElement="kaldt"><bpmn:extensionElements>'
                                     '<camunda:in variables="all"/><camunda:out variables="all"/>'
                                     '</bpmn:extensionElements></bpmn:callActivity>'))
    deploy(session, ("kaldt.bpmn", called), ("kalder.bpmn", caller))
    case = f.start_case(session, "kalder", actor=staff["jc"], data={"a": 1})
    done = complete(session, open_task(session, case.id), staff["jc"])
    assert done.data == {"a": 1}


def test_an_assignee_outside_the_unit_is_not_applied_and_the_trail_says_why(session, staff):
    deploy(session, ("a.bpmn", process("a", chain(task("t", ' camunda:assignee="ys"')))))
    case = f.start_case(session, "a", actor=staff["jc"])
    row = open_task(session, case.id)
    assert (row.assignee, row.status) == (None, "open")
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                       AuditEvent.type == "assignee_not_applied")).all()
    assert event.details == {"assignee": "ys", "reason": "'ys' is not a member of unit 'jobcenter'", "cause": "jc"}
    assert event.actor == "system:engine"  # the engine tried it, after jc started the case


def test_a_literal_assignee_in_the_unit_gets_the_task(session, staff):
    deploy(session, ("a.bpmn", process("a", chain(task("t", ' camunda:assignee="jc2"')))))
    case = f.start_case(session, "a", actor=staff["jc"])
    row = open_task(session, case.id)
    assert (row.assignee, row.status) == ("jc2", "claimed")
    assert audit_types(session, case.id).count("task_assigned") == 1


def test_the_initiator_is_whoever_started_the_case(session, staff):
    body = chain(task("t")).replace('<bpmn:startEvent id="s"/>',
                                    '<bpmn:startEvent id="s" camunda:initiator="starter"/>')
    deploy(session, ("i.bpmn", process("i", body)))
    case = f.start_case(session, "i", actor=staff["jc"])
    assert case.data["starter"] == "jc"


def test_a_tovholder_diagram_keeps_its_library_classes(session, staff):
    """Without Camunda 7 attributes nothing changes: the stored spec names only the library's classes."""
    [d] = f.deploy_data(session, "intake.bpmn")
    spec = catalog.get_definition(session, d.key).spec_json
    assert '"typename": "IO' not in spec and "MappedCallActivity" not in spec
    # of Tovholder's own extension keys, only those every diagram may get (flow names, event forms)
    assert set(re.findall(r'"(tovholder:[a-z_]+)"', spec)) <= {FLOW_NAMES, EVENT_FORM_KEY}
