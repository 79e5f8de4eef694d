"""What a Camunda 7 diagram uses that Tovholder cannot honour is refused at deploy by name, element and line.

One diagram per attribute: the same small Camunda Modeler 5 diagram (which
deploys as it is) with one thing added, so each refusal is that thing's.
"""
from __future__ import annotations

import pytest

from engine import catalog
from engine.errors import InvalidDefinition
from tests import factories as f

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.20.0" modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">
  <bpmn:process id="afvisning" isExecutable="true" camunda:historyTimeToLive="180"{process}>{process_ext}{lanes}
    <bpmn:startEvent id="StartEvent_1">
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_opgave">{flow_ext}</bpmn:sequenceFlow>
    <bpmn:userTask id="Activity_opgave" name="Opgave" camunda:candidateGroups="{group}"{user}>{user_ext}
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>{user_loop}
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Activity_opgave" targetRef="Gateway_1" />
    <bpmn:exclusiveGateway id="Gateway_1" default="Flow_nej">
      <bpmn:incoming>Flow_2</bpmn:incoming>
      <bpmn:outgoing>Flow_ja</bpmn:outgoing>
      <bpmn:outgoing>Flow_nej</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="Flow_ja" sourceRef="Gateway_1" targetRef="Activity_system">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"{language}>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_nej" sourceRef="Gateway_1" targetRef="Event_slut" />
    <bpmn:serviceTask id="Activity_system" name="Systemet" camunda:type="external" camunda:topic="opslag"{service}>{service_ext}
      <bpmn:incoming>Flow_ja</bpmn:incoming>
      <bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Activity_system" targetRef="Activity_script" />
    <bpmn:scriptTask id="Activity_script" name="Beregn" scriptFormat="{script_format}"{script}>
      <bpmn:incoming>Flow_3</bpmn:incoming>
      <bpmn:outgoing>Flow_4</bpmn:outgoing>
      <bpmn:script>resultat = 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Activity_script" targetRef="Activity_kald" />
    <bpmn:callActivity id="Activity_kald" name="Kald" calledElement="afvisning_kaldt"{call}>{call_ext}
      <bpmn:incoming>Flow_4</bpmn:incoming>
      <bpmn:outgoing>Flow_5</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Activity_kald" targetRef="Event_slut" />
    <bpmn:endEvent id="Event_slut">
      <bpmn:incoming>Flow_nej</bpmn:incoming>
      <bpmn:incoming>Flow_5</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
  <bpmn:process id="afvisning_kaldt" isExecutable="true" camunda:historyTimeToLive="180">
    <bpmn:startEvent id="StartEvent_2"><bpmn:outgoing>Flow_k</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_k" sourceRef="StartEvent_2" targetRef="Event_k" />
    <bpmn:endEvent id="Event_k"><bpmn:incoming>Flow_k</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
DEFAULTS = dict(process="", process_ext="", lanes="", flow_ext="", group="jobcenter", user="", user_ext="",
                user_loop="", language="", condition="${godkendt}", service="", service_ext="",
                script_format="python", script="", call="", call_ext="")


def ext(inner: str) -> str:
    return f"\n      <bpmn:extensionElements>{inner}</bpmn:extensionElements>"


def diagram(**slots) -> bytes:
    return TEMPLATE.format(**{**DEFAULTS, **slots}).encode("utf-8")


# (case, slots, element refused, words the message must hold)
CASES = [
    ("class", dict(service=' camunda:class="dk.kommune.Opslag"'), "Activity_system", "camunda:class"),
    ("delegateExpression", dict(service=' camunda:delegateExpression="${opslag}"'), "Activity_system",
     "camunda:delegateExpression"),
    ("expression", dict(service=' camunda:expression="${opslag.kald()}"'), "Activity_system", "camunda:expression"),
    ("resultVariable", dict(service=' camunda:resultVariable="svar"'), "Activity_system", "camunda:resultVariable"),
    ("taskPriority", dict(service=' camunda:taskPriority="10"'), "Activity_system", "camunda:taskPriority"),
    ("connector", dict(service_ext=ext("<camunda:connector><camunda:connectorId>http-connector</camunda:connectorId>"
                                       "</camunda:connector>")), "Activity_system", "camunda:connector"),
    ("errorEventDefinition", dict(service_ext=ext('<camunda:errorEventDefinition id="e" expression="${true}"/>')),
     "Activity_system", "camunda:errorEventDefinition"),
    ("groovy", dict(script_format="groovy"), "Activity_script", "scriptFormat 'groovy'"),
    ("javascript", dict(script_format="javascript"), "Activity_script", "scriptFormat 'javascript'"),
    ("script resultVariable", dict(script=' camunda:resultVariable="r"'), "Activity_script",
     "camunda:resultVariable"),
    ("taskListener", dict(user_ext=ext('<camunda:taskListener class="dk.Lytter" event="create"/>')),
     "Activity_opgave", "camunda:taskListener"),
    ("executionListener", dict(user_ext=ext('<camunda:executionListener expression="${x}" event="start"/>')),
     "Activity_opgave", "camunda:executionListener"),
    ("executionListener on a flow", dict(flow_ext=ext('<camunda:executionListener class="dk.L" event="take"/>')),
     "Flow_1", "camunda:executionListener"),
    ("executionListener on the process", dict(process_ext=ext(
        '<camunda:executionListener class="dk.L" event="start"/>')), "afvisning", "camunda:executionListener"),
    ("asyncBefore", dict(user=' camunda:asyncBefore="true"'), "Activity_opgave", "camunda:asyncBefore"),
    ("asyncAfter", dict(service=' camunda:asyncAfter="true"'), "Activity_system", "camunda:asyncAfter"),
    ("failedJobRetryTimeCycle", dict(service_ext=ext(
        "<camunda:failedJobRetryTimeCycle>R3/PT5M</camunda:failedJobRetryTimeCycle>")), "Activity_system",
     "camunda:failedJobRetryTimeCycle"),
    ("jobPriority", dict(process=' camunda:jobPriority="5"'), "afvisning", "camunda:jobPriority"),
    ("candidateStarterGroups", dict(process=' camunda:candidateStarterGroups="jobcenter"'), "afvisning",
     "camunda:candidateStarterGroups"),
    ("isStartableInTasklist", dict(process=' camunda:isStartableInTasklist="false"'), "afvisning",
     "camunda:isStartableInTasklist"),
    ("candidateGroups expression", dict(group="${gruppe}"), "Activity_opgave", "candidateGroups"),
    ("two candidateGroups", dict(group="jobcenter, sof"), "Activity_opgave", "exactly one"),
    ("candidateGroups not a unit", dict(group="Jobcentret"), "Activity_opgave", "known units: jobcenter"),
    ("candidateUsers expression", dict(user=' camunda:candidateUsers="${brugere}"'), "Activity_opgave",
     "candidateUsers"),
    ("dueDate text", dict(user=' camunda:dueDate="om tre dage"'), "Activity_opgave", "camunda:dueDate"),
    ("dueDate JUEL", dict(user=' camunda:dueDate="${frist + 3}"'), "Activity_opgave", "arithmetic"),
    ("priority", dict(user=' camunda:priority="høj"'), "Activity_opgave", "camunda:priority"),
    ("dueDate and a deadline property", dict(user=' camunda:dueDate="P2D"', user_ext=ext(
        '<camunda:properties><camunda:property name="deadline" value="P5D"/></camunda:properties>')),
     "Activity_opgave", "keep one"),
    ("formKey and formData", dict(user=' camunda:formKey="t_note"', user_ext=ext(
        '<camunda:formData><camunda:formField id="a" type="string"/></camunda:formData>')),
     "Activity_opgave", "camunda:formKey and camunda:formData"),
    ("formKey expression", dict(user=' camunda:formKey="${formular}"'), "Activity_opgave", "camunda:formKey"),
    ("formRef", dict(user=' camunda:formRef="vurdering"'), "Activity_opgave", "camunda:formRef"),
    ("formField defaultValue", dict(user_ext=ext(
        '<camunda:formData><camunda:formField id="a" type="string" defaultValue="x"/></camunda:formData>')),
     "Activity_opgave", "defaultValue"),
    ("formField type", dict(user_ext=ext(
        '<camunda:formData><camunda:formField id="a" type="color"/></camunda:formData>')),
     "Activity_opgave", "type 'color'"),
    ("formField readonly", dict(user_ext=ext(
        '<camunda:formData><camunda:formField id="a" type="string"><camunda:validation>'
        '<camunda:constraint name="readonly"/></camunda:validation></camunda:formField></camunda:formData>')),
     "Activity_opgave", "'readonly'"),
    ("formField properties", dict(user_ext=ext(
        '<camunda:formData><camunda:formField id="a" type="string"><camunda:properties>'
        '<camunda:property id="p" value="v"/></camunda:properties></camunda:formField></camunda:formData>')),
     "Activity_opgave", "properties of a form field"),
    ("inputParameter script", dict(service_ext=ext(
        '<camunda:inputOutput><camunda:inputParameter name="x"><camunda:script scriptFormat="groovy">1'
        '</camunda:script></camunda:inputParameter></camunda:inputOutput>')), "Activity_system", "camunda:script"),
    ("inputParameter list", dict(service_ext=ext(
        '<camunda:inputOutput><camunda:inputParameter name="x"><camunda:list><camunda:value>1</camunda:value>'
        '</camunda:list></camunda:inputParameter></camunda:inputOutput>')), "Activity_system", "camunda:list"),
    ("inputParameter JUEL", dict(service_ext=ext(
        '<camunda:inputOutput><camunda:inputParameter name="x">${a * 2}</camunda:inputParameter>'
        '</camunda:inputOutput>')), "Activity_system", "arithmetic"),
    ("in local", dict(call_ext=ext('<camunda:in source="a" target="a" local="true"/>')), "Activity_kald",
     "local=\"true\""),
    ("in businessKey expression", dict(call_ext=ext('<camunda:in businessKey="${sagsnummer}"/>')), "Activity_kald",
     "business key"),
    ("in on a user task", dict(user_ext=ext('<camunda:in source="a" target="a"/>')), "Activity_opgave",
     "camunda:in"),
    ("calledElementVersion", dict(call=' camunda:calledElementBinding="version" camunda:calledElementVersion="3"'),
     "Activity_kald", "camunda:calledElementVersion"),
    ("calledElementBinding", dict(call=' camunda:calledElementBinding="versionTag"'), "Activity_kald",
     "camunda:calledElementBinding"),
    ("variableMappingClass", dict(call=' camunda:variableMappingClass="dk.Mapper"'), "Activity_kald",
     "camunda:variableMappingClass"),
    ("JUEL outside the subset", dict(condition="${belob * 2 &gt; 1000}"), "Flow_ja", "arithmetic ('*')"),
    ("JUEL with a bean", dict(condition="${regler.godkend(sag)}"), "Flow_ja", "godkend()"),
    ("condition in groovy", dict(language=' language="groovy"', condition="godkendt == true"), "Flow_ja",
     "groovy"),
    ("JUEL in loopCardinality", dict(user_loop='\n      <bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>'
                                              '${antal}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>'),
     "Activity_opgave", "loopCardinality"),
    ("JUEL in a property", dict(user_ext=ext('<camunda:properties><camunda:property name="deadline" '
                                             'value="${frist}"/></camunda:properties>')), "Activity_opgave",
     "read as text"),
    ("unknown camunda element", dict(user_ext=ext("<camunda:potentialOwner/>")), "Activity_opgave",
     "camunda:potentialOwner"),
]


def _line_of(xml: bytes, element_id: str) -> int:
    text = xml.decode("utf-8")
    return text[:text.index(f'id="{element_id}"')].count("\n") + 1


def test_the_template_deploys_as_it_is(session):
    f.add_units(session)
    deployed = catalog.deploy(session, [("afvisning.bpmn", diagram())], rules=f.RULES, actor="test")
    assert {d.key for d in deployed} == {"afvisning", "afvisning_kaldt"}


@pytest.mark.parametrize("slots,element,needle", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_by_name_with_element_and_line(session, slots, element, needle):
    f.add_units(session, {"jobcenter": "Jobcenter"})
    xml = diagram(**slots)
    with pytest.raises(InvalidDefinition) as err:
        catalog.deploy(session, [("afvisning.bpmn", xml)], rules=f.RULES, actor="test")
    problems = err.value.detail
    mine = [p for p in problems if p["element"] == element and needle in p["message"]]
    assert mine, problems
    assert all(p["file"] == "afvisning.bpmn" for p in problems)
    assert mine[0]["line"] >= _line_of(xml, element) and mine[0]["line"] <= _line_of(xml, element) + 8, mine


def test_a_lane_and_candidate_groups_that_disagree_are_refused(session):
    f.add_units(session)
    lanes = ('\n    <bpmn:laneSet id="ls"><bpmn:lane id="Lane_1" name="ydelsesservice">'
             + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in (
                 "StartEvent_1", "Activity_opgave", "Gateway_1", "Activity_system", "Activity_script",
                 "Activity_kald", "Event_slut")) + "</bpmn:lane></bpmn:laneSet>")
    with pytest.raises(InvalidDefinition) as err:
        catalog.deploy(session, [("afvisning.bpmn", diagram(lanes=lanes))], rules=f.RULES, actor="test")
    [found] = err.value.detail
    assert found["element"] == "Activity_opgave" and "lane 'ydelsesservice'" in found["message"]
    assert "'jobcenter'" in found["message"]
    agreeing = diagram(lanes=lanes.replace('name="ydelsesservice"', 'name="jobcenter"'))
    assert catalog.deploy(session, [("afvisning.bpmn", agreeing)], rules=f.RULES, actor="test")


def test_a_camunda_8_diagram_is_refused_as_such(session):
    f.add_units(session)
    xml = (diagram().replace(b'modeler:executionPlatform="Camunda Platform"', b'modeler:executionPlatform="Camunda Cloud"'))
    with pytest.raises(InvalidDefinition) as err:
        catalog.deploy(session, [("c8.bpmn", xml)], rules=f.RULES, actor="test")
    assert any("Camunda 8" in p["message"] for p in err.value.detail)
