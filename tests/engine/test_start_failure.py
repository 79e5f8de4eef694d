"""A case start that fails leaves nothing behind: no case, and no citizen row holding the CPR."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import catalog, runtime
from engine.errors import ProcessError
from engine.models import Case, Citizen
from tests import factories as f

FAILS_AT_START = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="https://tovholder.dk/test">
  <bpmn:process id="fejler" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="beregn"/>
    <bpmn:scriptTask id="beregn" scriptFormat="python"><bpmn:script>dage = 1 / 0</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="beregn" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_failed_start_stores_no_citizen(db, session):
    users = f.standard_users(session)
    catalog.deploy(session, [("fejler.bpmn", FAILS_AT_START)], rules=f.RULES)
    session.commit()
    with pytest.raises(ProcessError):
        runtime.start_case(session, process_key="fejler", cpr=f.CPR, data={}, actor=users["jc"], rules=f.RULES)
    session.rollback()
    with db.session_factory() as fresh:
        assert fresh.scalars(select(Case)).all() == []
        assert fresh.scalars(select(Citizen)).all() == []
