"""SpiffWorkflow 3.2.0 keeps one due time per event-based gateway: two timers behind one are refused at deploy."""
from __future__ import annotations

import pytest

from engine import catalog
from engine.errors import InvalidDefinition
from tests import factories as f

GATEWAY = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="https://tovholder.dk/test">
  <bpmn:message id="m" name="svar"/>
  <bpmn:process id="tt" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="gw"/>
    <bpmn:eventBasedGateway id="gw"/>
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="lang"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="{second}"/>
    <bpmn:intermediateCatchEvent id="lang"><bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="kort"><bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="svar"><bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="kort" targetRef="e1"/>
    <bpmn:sequenceFlow id="f5" sourceRef="lang" targetRef="e2"/>
    <bpmn:sequenceFlow id="f6" sourceRef="svar" targetRef="e3"/>
    <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/><bpmn:endEvent id="e3"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_two_timers_behind_one_event_based_gateway_are_refused(session):
    with pytest.raises(InvalidDefinition) as refused:
        catalog.deploy(session, [("tt.bpmn", GATEWAY.format(second="kort").encode())], rules=f.RULES)
    [found] = refused.value.detail
    assert found["element"] == "gw" and "one timer only (found lang, kort)" in found["message"]


def test_one_timer_and_a_message_behind_a_gateway_deploy(session):
    [deployed] = catalog.deploy(session, [("tt.bpmn", GATEWAY.format(second="svar").encode())], rules=f.RULES)
    assert deployed.key == "tt"
