"""Deploy: versions by content hash, and every kind of bad diagram refused with file, element and line."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import catalog
from engine.errors import InvalidDefinition, NotFound
from engine.models import ProcessDefinition
from tests import factories as f

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="https://tovholder.dk/test">
  <bpmn:process id="{pid}" name="Lille forløb" isExecutable="{exe}">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane" name="{lane}"><bpmn:flowNodeRef>{start}</bpmn:flowNodeRef><bpmn:flowNodeRef>{task}</bpmn:flowNodeRef><bpmn:flowNodeRef>{end}</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="{start}"/>
    <bpmn:sequenceFlow id="f1" sourceRef="{start}" targetRef="{task}"/>
    <bpmn:userTask id="{task}" name="Sagsbehandling" camunda:formKey="{form}"/>
    <bpmn:sequenceFlow id="f2" sourceRef="{task}" targetRef="{target}"/>
    <bpmn:endEvent id="{end}"/>
    {extra}
  </bpmn:process>
</bpmn:definitions>
"""


def bpmn(**overrides) -> bytes:
    values = dict(pid="lille", exe="true", lane="jobcenter", start="start", task="opgave", end="slut",
                  form="t_note", target=None, extra="")
    values.update(overrides)
    values["target"] = values["target"] or values["end"]
    return GOOD.format(**values).encode("utf-8")


@pytest.fixture
def units(session):
    f.add_units(session)


def deploy(session, *files):
    result = catalog.deploy(session, list(files), rules=f.RULES, actor="test")
    session.commit()
    return result


def refused(session, *files) -> list[dict]:
    with pytest.raises(InvalidDefinition) as err:
        catalog.deploy(session, list(files), rules=f.RULES, actor="test")
    session.rollback()
    assert session.scalars(select(ProcessDefinition)).all() == [], "a refused deployment must store nothing"
    problems = err.value.detail
    assert problems and all(set(p) == {"file", "element", "line", "message"} for p in problems)
    return problems


def test_versions_follow_content(session, units):
    [first] = deploy(session, ("lille.bpmn", bpmn()))
    assert (first.key, first.version, first.new, first.name) == ("lille", 1, True, "Lille forløb")
    [again] = deploy(session, ("lille.bpmn", bpmn()))
    assert (again.version, again.new, again.hash) == (1, False, first.hash)
    [changed] = deploy(session, ("lille.bpmn", bpmn(extra="<!-- ændret -->")))
    assert (changed.version, changed.new) == (2, True) and changed.hash != first.hash
    assert catalog.get_definition(session, "lille").version == 2
    assert catalog.get_definition(session, "lille", 1).hash == first.hash
    with pytest.raises(NotFound):
        catalog.get_definition(session, "lille", 3)
    assert catalog.list_definitions(session) == [
        {"key": "lille", "name": "Lille forløb", "latest_version": 2, "versions": [1, 2]}]


def test_broken_xml_names_the_line(session, units):
    [problem] = refused(session, ("brudt.bpmn", b"<?xml version='1.0'?>\n<bpmn:definitions>\n<oops>\n"))
    assert problem["file"] == "brudt.bpmn" and problem["line"] in (2, 3, 4)
    assert "XML" in problem["message"]


def test_no_executable_process(session, units):
    [problem] = refused(session, ("ikke.bpmn", bpmn(exe="false")))
    assert "executable" in problem["message"]


@pytest.mark.parametrize("field,value", [("start", "Start"), ("end", "End"), ("task", "Root"),
                                         ("task", "lille.EndJoin"), ("task", "x.BoundaryEventSplit")])
def test_ids_the_library_mishandles_are_refused(session, units, field, value):
    problems = refused(session, ("reserveret.bpmn", bpmn(**{field: value})))
    assert any(p["element"] == value and "reserved" in p["message"] and p["line"] for p in problems)


def test_lane_must_name_a_unit(session, units):
    problems = refused(session, ("bane.bpmn", bpmn(lane="Jobcentret")))
    assert any(p["element"] == "lane" and "Jobcentret" in p["message"] and p["line"] == 6 for p in problems)


def test_user_task_outside_every_lane(session, units):
    xml = bpmn().replace(b"<bpmn:flowNodeRef>opgave</bpmn:flowNodeRef>", b"")
    problems = refused(session, ("uden.bpmn", xml))
    assert any(p["element"] == "opgave" and "no lane" in p["message"] for p in problems)


def test_unknown_form_is_refused(session, units):
    problems = refused(session, ("form.bpmn", bpmn(form="findes_ikke")))
    assert any(p["element"] == "opgave" and "findes_ikke" in p["message"] for p in problems)


def test_unknown_called_process(session, units):
    problems = refused(session, ("caller.bpmn", (f.DATA / "caller.bpmn").read_bytes()))
    assert any(p["element"] == "call_sub" and "placement" in p["message"] and p["line"] for p in problems)


def test_call_activity_across_files_and_against_stored_definitions(session, units):
    deployed = deploy(session, ("placement.bpmn", (f.DATA / "placement.bpmn").read_bytes()),
                      ("caller.bpmn", (f.DATA / "caller.bpmn").read_bytes()))
    assert {d.key for d in deployed} == {"placement", "caller"}
    # later the caller alone: the called process is found among stored definitions
    [again] = deploy(session, ("caller.bpmn", (f.DATA / "caller.bpmn").read_bytes().replace(b"Kalder", b"Kalder 2")))
    assert (again.key, again.version) == ("caller", 2)


def test_dangling_sequence_flow(session, units):
    problems = refused(session, ("dingler.bpmn", bpmn(target="ingen_steder")))
    assert any(p["element"] == "f2" and "ingen_steder" in p["message"] for p in problems)


def test_duplicate_ids(session, units):
    problems = refused(session, ("dobbelt.bpmn", bpmn(extra='<bpmn:endEvent id="slut"/>')))
    assert any(p["element"] == "slut" and "twice" in p["message"] for p in problems)


def test_condition_syntax_and_unquoted_timer_are_refused_at_deploy(session, units):
    extra = """<bpmn:boundaryEvent id="frist" attachedToRef="opgave" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P7D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="frist" targetRef="slut"/>
    <bpmn:exclusiveGateway id="gw"/>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="slut">
      <bpmn:conditionExpression>forsikret ==</bpmn:conditionExpression></bpmn:sequenceFlow>"""
    problems = refused(session, ("udtryk.bpmn", bpmn(extra=extra)))
    messages = {p["element"]: p["message"] for p in problems}
    assert "quoted" in messages["frist"]  # in Tovholder's own diagrams timer values are Python
    assert "not a valid expression" in messages["f4"]


def test_a_diagram_with_camunda_expressions_reads_timers_and_conditions_as_camunda_does(session, units):
    """`${…}` makes it a Camunda 7 diagram: a bare P7D is text, and a JUEL condition is translated (and here
    refused: on a flow out of a boundary event the engine would ignore it)."""
    extra = """<bpmn:boundaryEvent id="frist" attachedToRef="opgave" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P7D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="frist" targetRef="slut">
      <bpmn:conditionExpression>${forsikret}</bpmn:conditionExpression></bpmn:sequenceFlow>"""
    [found] = refused(session, ("udtryk.bpmn", bpmn(extra=extra)))
    assert found["element"] == "f3" and "flow out of a boundaryEvent" in found["message"], found


def test_not_a_bpmn_file(session, units):
    [problem] = refused(session, ("noter.txt", b"hello"))
    assert ".bpmn" in problem["message"]
    [problem] = refused(session, ("svg.bpmn", b"<svg xmlns='http://www.w3.org/2000/svg'/>"))
    assert "BPMN" in problem["message"]


def test_external_entities_are_not_resolved(session, units):
    xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           + bpmn().split(b"?>", 1)[1].replace(b'name="Lille forl\xc3\xb8b"', b'name="&x;"'))
    [problem] = refused(session, ("xxe.bpmn", xxe))
    assert "entity" in problem["message"] and "root:" not in problem["message"]


def test_whole_deployment_refused_when_one_file_is_bad(session, units):
    refused(session, ("god.bpmn", bpmn()), ("bad.bpmn", bpmn(pid="anden", lane="ukendt")))


def test_unicode_names_survive(session, units):
    [d] = deploy(session, ("æøå.bpmn", bpmn().replace(b"Lille forl\xc3\xb8b", "Sygedagpenge – opfølgning ÆØÅ".encode())))
    assert d.name == "Sygedagpenge – opfølgning ÆØÅ"
    assert "ÆØÅ" in catalog.get_definition(session, "lille").bpmn_xml


def test_same_content_from_another_path_is_the_same_version(session, units):
    [first] = deploy(session, ("lille.bpmn", bpmn()))
    [again] = deploy(session, ("processes/andet/sted/lille.bpmn", bpmn()))
    assert (again.version, again.new) == (first.version, False)


def test_a_broken_form_file_is_refused_at_deploy(session, units, tmp_path):
    from engine.case_rules import CaseRules
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "t_note.json").write_text('{"fields": [{"name": "a", "type": "colour"}]}', encoding="utf-8")
    with pytest.raises(InvalidDefinition) as err:
        catalog.deploy(session, [("lille.bpmn", bpmn())], rules=CaseRules(forms_dir=forms), actor="test")
    [problem] = err.value.detail
    assert problem["element"] == "opgave" and "colour" in problem["message"]


@pytest.mark.parametrize("value,expected", [("P5D working", None), ("visitation", None),
                                            ("P3M arbejdsdage", "working days"), ("ukendt_frist", "no deadline named"),
                                            ("7 dage", "ISO 8601")])
def test_deadline_property_is_checked_at_deploy(session, units, value, expected):
    extra_props = (f'<bpmn:extensionElements><camunda:properties><camunda:property name="deadline" value="{value}"/>'
                   '</camunda:properties></bpmn:extensionElements>')
    xml = bpmn().replace(b'camunda:formKey="t_note"/>', f'camunda:formKey="t_note">{extra_props}</bpmn:userTask>'.encode())
    if expected is None:
        [d] = deploy(session, ("frist.bpmn", xml))
        assert d.new
    else:
        problems = refused(session, ("frist.bpmn", xml))
        assert any(p["element"] == "opgave" and expected in p["message"] for p in problems), problems


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="t">
  <decision id="beslutning" name="B">
    <decisionTable id="tabel" hitPolicy="{policy}"{aggregation}>
      <input id="i1" label="x"><inputExpression id="ie1"><text>x</text></inputExpression></input>
      <output id="o1" name="y"/>
      <rule id="r1"><inputEntry id="e1"><text>{cell}</text></inputEntry><outputEntry id="oe1"><text>1</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


@pytest.mark.parametrize("policy,aggregation,cell,expected", [
    ("ANY", "", "1", "hit policy ANY"), ("PRIORITY", "", "1", "hit policy PRIORITY"),
    ("RULE ORDER", "", "1", "hit policy RULE ORDER"), ("COLLECT", ' aggregation="SUM"', "1", "aggregation SUM"),
    ("UNIQUE", "", "-", "leave the cell empty"), ("UNIQUE", "", "[1..5]", "not a Python expression"),
])
def test_decision_tables_the_engine_would_get_wrong_are_refused(session, units, policy, aggregation, cell, expected):
    dmn = DMN.format(policy=policy, aggregation=aggregation, cell=cell).encode()
    problems = refused(session, ("lille.bpmn", bpmn()), ("tabel.dmn", dmn))
    assert any(p["file"] == "tabel.dmn" and expected in p["message"] and p["line"] for p in problems), problems


def test_unique_decision_table_with_two_matching_rules_fails_the_run(session, units):
    """SpiffWorkflow would take the first match; UNIQUE means at most one may match."""
    from engine import runtime
    from engine.errors import ProcessError
    from engine.models import Case
    f.deploy_data(session, "semantics/kategori.dmn", "semantics/visitation_dmn.bpmn")
    overlapping = (f.DATA / "semantics/kategori.dmn").read_text(encoding="utf-8").replace("&lt;= 8", "&lt;= 10")
    tmp = f.DATA.parent / "data" / "semantics"
    assert overlapping != (tmp / "kategori.dmn").read_text(encoding="utf-8")
    deploy(session, ("kategori.dmn", overlapping.encode()),
           ("visitation_dmn.bpmn", (f.DATA / "semantics/visitation_dmn.bpmn").read_bytes()))
    with pytest.raises(ProcessError) as err:
        runtime.start_case(session, process_key="visitation_dmn", cpr=f.CPR, actor=None, rules=f.RULES,
                           data={"forventede_uger": 9, "afklaret_behandling": True})
    session.rollback()
    assert "UNIQUE" in err.value.detail["message"] and err.value.detail["element"] == "foreslaa"
    assert session.scalars(select(Case)).all() == []
