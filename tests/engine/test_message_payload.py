"""A message between cases carries only the fields its `payload` property names (data minimisation between units)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import catalog
from engine.errors import InvalidDefinition
from engine.models import AuditEvent, Case
from tests import factories as f

REFERRAL = (f.DATA / "semantics" / "referral.bpmn").read_text(encoding="utf-8")
THROW = '<bpmn:intermediateThrowEvent id="henvis" name="Henvis til SOF">'


def with_payload(value: str, where: str = THROW) -> bytes:
    prop = (f'<bpmn:extensionElements><camunda:properties><camunda:property name="payload" value="{value}"/>'
            '</camunda:properties></bpmn:extensionElements>')
    assert where in REFERRAL
    return REFERRAL.replace(where, where + prop, 1).encode()


def test_the_referral_carries_only_the_named_fields(db, session):
    users = f.standard_users(session) | {"sof": f.add_user(session, "sofie", "caseworker", ["sof"])}
    catalog.deploy(session, [("referral.bpmn", with_payload("problemer, ikke_udfyldt"))], rules=f.RULES)
    session.commit()
    f.start_case(session, "jobforloeb", actor=users["jc"], data={"problemer": "bolig", "sats": 12000})
    sof_case = session.scalar(select(Case).where(Case.process_key == "sof_vurdering"))
    assert sof_case.data == {"problemer": "bolig"}  # no rate, and a named field the case lacks is left out
    started = session.scalar(select(AuditEvent).where(AuditEvent.case_id == sof_case.id,
                                                      AuditEvent.type == "case_started"))
    assert started.details["message_data"] == {"problemer": "bolig"}


START = '<bpmn:startEvent id="sof_start" name="Henvisning modtaget">'


@pytest.mark.parametrize("value, where, message", [
    ("problemer; sats", THROW, "payload must list case-data field names"),
    (" ", THROW, "payload must list case-data field names"),
    ("problemer", START, "payload belongs on a message throw or end event"),
])
def test_a_wrong_payload_is_refused_at_deploy(session, value, where, message):
    f.standard_users(session)
    with pytest.raises(InvalidDefinition) as refused:
        catalog.deploy(session, [("referral.bpmn", with_payload(value, where))], rules=f.RULES)
    assert [(p["element"], message in p["message"]) for p in refused.value.detail] == [
        ("henvis" if where == THROW else "sof_start", True)], refused.value.detail
