"""Messages between cases: what a run threw goes to the same citizen's case waiting for it, or starts one.

`CaseRun.save` (engine.runtime) calls `thrown_with_payloads` before it stores
the state and `deliver` after: each message the run threw and did not catch
itself goes to the one running case of the same citizen that waits for it
(locked like any other change, and run through runtime.catch_message), or
starts a case of the one process whose message start event has that name
(runtime.new_case); otherwise the sender's audit trail records why it was not
delivered. Chains are cut after MAX_MESSAGE_HOPS. The delivery is the
system's (`system:engine`), caused by whoever moved the sending case; the
receiving case learns which case sent it and where there each value it
carries was recorded (engine.handover), so its tasks show the sender's labels.

Transaction rule: everything happens in the sender's transaction, through the
same mutation path (lock → run → project → save) as any other change, so a
failing receiver rolls back the sender's step too. Only flushes; the edge
commits. runtime and this module call each other (a delivered message runs a
case, whose save delivers what it threw), so each refers to the other's
functions through the module, at call time.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, handover, runtime
from .bpmn.messages import Thrower, message_event, message_payload, thrower, thrown_messages
from .case_rules import CaseRules
from .catalog import latest_definition
from .json_data import to_plain_json
from .locking import lock_case
from .models import Case, Citizen, DefinitionMessageStart, ProcessDefinition, Wait
from .statuses import CaseStatus, WaitKind

MAX_MESSAGE_HOPS = 20  # a message chain between cases longer than this is a modelling loop


def thrown_with_payloads(workflow: BpmnWorkflow) -> list[tuple[BpmnEvent, Thrower]]:
    """The messages a run threw, each carrying what its `payload` property lets go (bpmn.messages),
    with the element that threw it."""
    thrown = [(event, thrower(workflow, event)) for event in thrown_messages(workflow)]
    for event, _where in thrown:
        event.payload = message_payload(workflow, event)
    return thrown


def deliver(session: Session, sender: Case, thrown: list[tuple[BpmnEvent, Thrower]], *, rules: CaseRules,
            hops: int, cause: str | None = None) -> None:
    for event, where in thrown:
        _deliver_one(session, sender, event, rules=rules, hops=hops, cause=cause, thrown_by=where)


def message_start_definitions(session: Session, name: str) -> list[ProcessDefinition]:
    """The latest version of each process that a message of this name starts."""
    keys = sorted(set(session.scalars(select(DefinitionMessageStart.process_key)
                                      .where(DefinitionMessageStart.message == name))))
    latest = [latest_definition(session, k) for k in keys]
    return [d for d in latest if d is not None and session.get(DefinitionMessageStart, (d.id, name)) is not None]


def _deliver_one(session: Session, sender: Case, event: BpmnEvent, *, rules: CaseRules, hops: int,
                 cause: str | None, thrown_by: Thrower) -> None:
    """A message thrown in one case goes to the same citizen's case waiting for it, or starts one."""
    name = event.event_definition.name
    sender_actor = runtime.SYSTEM_ACTOR
    payload = to_plain_json(event.payload or {})
    sent = {"name": name, "element_name": thrown_by.name}
    if hops > MAX_MESSAGE_HOPS:
        audit.record(session, sender, "message_not_delivered", actor=sender_actor, cause=cause,
                     element_id=thrown_by.element_id,
                     details={**sent, "reason": f"more than {MAX_MESSAGE_HOPS} messages in one chain"})
        return
    arrival = {"from_case": sender.id, "carried": handover.carried(
        session, sender, payload, forms_dir=rules.forms_dir, element_id=thrown_by.element_id,
        element_name=thrown_by.name, unit=thrown_by.unit)}
    waits = session.scalars(select(Wait).join(Case, Case.id == Wait.case_id).where(
        Wait.kind == WaitKind.MESSAGE, Wait.message == name, Case.citizen_id == sender.citizen_id,
        Case.id != sender.id, Case.status == CaseStatus.RUNNING)).all()
    receivers = sorted({w.case_id for w in waits})
    if len(receivers) == 1:
        receiver = lock_case(session, receivers[0])
        wait = next(w for w in waits if w.case_id == receiver.id)
        if runtime.catch_message(session, receiver, wait, name, payload, actor=sender_actor, rules=rules,
                                 hops=hops, cause=cause, from_unit=thrown_by.unit, arrival=arrival):
            audit.record(session, sender, "message_sent", actor=sender_actor, cause=cause,
                         element_id=thrown_by.element_id, details={**sent, "to_case": receiver.id})
            return
    if not receivers:
        starts = message_start_definitions(session, name)
        if len(starts) == 1:
            citizen = session.get_one(Citizen, sender.citizen_id)  # the foreign key holds it
            started = runtime.new_case(session, starts[0], citizen, {}, sender_actor, rules,
                                       message=message_event(MessageEventDefinition(name), payload), hops=hops,
                                       cause=cause, arrival=arrival, from_unit=thrown_by.unit, sender=sender)
            audit.record(session, sender, "message_sent", actor=sender_actor, cause=cause,
                         element_id=thrown_by.element_id, details={**sent, "to_case": started.id, "started": True})
            return
    reason = (f"{len(receivers)} of the citizen's cases wait for it" if receivers
              else "no case of the citizen waits for it and no process starts with it")
    audit.record(session, sender, "message_not_delivered", actor=sender_actor, cause=cause,
                 element_id=thrown_by.element_id, details={**sent, "reason": reason})
