"""The case's history for people: the audit trail as steps (who, when, what was decided) in Danish.

Built only from engine.audit events; what a step recorded is read back with
engine.handover (the recording form's labels, a message's provenance), so a
decision reads "Afgørelse: Bevilget", a gateway "Bevilget? → Bevilget", and
nothing shows a raw key (field names, message names, `system:…`, `case:…`).
A caseworker or team lead sees the values of their own units' steps and
what the diagram lets cross to their units; of the rest, that it happened.
Read-only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, handover
from engine.access import READ_ALL
from engine.accounts import UserView
from engine.case_attributes import COORDINATOR_SET, RULE_SET_CHOSEN, rule_set_label
from engine.case_rules import CaseRules
from engine.handover import Recording
from engine.message_forms import version_index
from engine.models import AuditEvent, Case, HumanTask, ProcessDefinition

TITLES = {
    "case_started": "Sagen er oprettet", "task_completed": "Opgave udført", "task_assigned": "Opgave tildelt",
    "attachment_added": "Bilag tilføjet", "message_received": "Modtaget", "message_sent": "Sendt videre",
    "timer_fired": "Frist udløbet", "case_completed": "Sagen er afsluttet", "case_cancelled": "Sagen er annulleret",
    "task_cancelled": "Opgave bortfaldet", "reminder_closed": "Påmindelse lukket: opgaven er udført", "process_error": "Fejl i forløbet", "deadline_error": "Fejl i frist",
    "incident": "Driftshændelse", "incident_retried": "Driftshændelse genoptaget",
    "message_not_delivered": "Ikke sendt videre", "gateway_taken": "Vej valgt", "element_passed": "Trin udført",
    "reminder_sent": "Påmindelse sendt", "escalated": "Sendt til teamlederen",
    "reminder_not_sent": "Påmindelse kunne ikke sendes", "escalation_not_sent": "Teamlederen kunne ikke få besked",
    "service_task_created": "Automatisk trin startet", "service_task_completed": "Automatisk trin udført",
    "service_task_failed": "Automatisk trin fejlede", "service_task_cancelled": "Automatisk trin bortfaldet",
    "case_migrated": "Sagen er flyttet til en ny version af forløbet",
    "assignee_not_applied": "Opgaven kunne ikke tildeles som diagrammet siger",
    "task_attribute_error": "Fejl i opgavens oplysninger fra diagrammet",
    COORDINATOR_SET: "Koordinerende sagsbehandler valgt", RULE_SET_CHOSEN: "Regelsæt valgt",
    "citizen_letter_sent": "Brev sendt til borgeren om fristen",
    "citizen_letter_not_sent": "Brev til borgeren kunne ikke sendes",
}
# bookkeeping, not steps; a message's catch event repeats its `message_received`
HIDDEN = {"task_created", "task_claimed", "task_released", "message_caught"}
SYSTEM_ACTORS = {
    "system:engine": "Systemet", "system:timer": "Systemet (en frist udløb)",
    "system:deadlines": "Systemet (fristovervågning)", "system:worker": "Systemet (driftsjob)",
}
# engine.citizen_letters says why in English (no usable borger_email); the page says what to do
LETTER_NOT_SENT = "Sagen har ingen brugbar e-mailadresse til borgeren: send brevet på papir."
REASONS = {  # engine.runtime's reasons a message between cases was not delivered
    "no case of the citizen waits for it and no process starts with it":
        "Ingen af borgerens sager venter på den, og intet forløb begynder med den.",
}


@dataclass
class Step:
    at: datetime
    actor: str | None
    title: str
    what: str | None = None
    details: list[tuple[str, str]] = field(default_factory=list)
    kind: str = ""
    who: str = ""             # the actor in words
    unit: str | None = None   # the unit the step belongs to (a task's lane, where a message arrived)
    withheld: bool = False    # values left out: they are for another unit


def who(actor: str | None, cause: str | None = None) -> str:
    """An audit actor in words: a user name as it is, the system's actors in Danish."""
    if not actor:
        return "Systemet"
    if actor.startswith("case:"):  # events from before deliveries were the system's
        name = "Systemet (besked fra en anden sag)"
    elif actor.startswith(("system:", "worker:")):
        name = SYSTEM_ACTORS.get(actor, "Systemet")
    else:
        return actor
    return f"{name}, efter {cause}" if cause and not cause.startswith(("system:", "case:", "worker:")) else name


def build(session: Session, case: Case, forms_dir: Path, viewer: UserView | None = None,
          rules: CaseRules | None = None) -> list[Step]:
    """`rules`: where a rule set's label comes from (without them a choice shows the rule set's name)."""
    events = [e for e in audit.events(session, case.id) if _shown(e)]
    rows = {t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    recs = handover.recordings(session, case, forms_dir=forms_dir)
    by_seq: dict[int, list[Recording]] = {}
    for rec in recs:
        by_seq.setdefault(rec.seq, []).append(rec)
    allowed = _allowed(session, case, viewer, recs, rows)
    hidden_files = handover.withheld_files(recs, allowed) if allowed is not None else set()
    elements = version_index(session, case.definition_id).elements
    journeys = dict(session.execute(select(ProcessDefinition.key, ProcessDefinition.name)).all())
    steps = []
    for event in events:
        details = event.details or {}
        row = rows.get(event.task_id) if event.task_id else None
        element = elements.get(event.element_id or "")
        step = Step(at=event.at, actor=event.actor, title=TITLES.get(event.type, "Hændelse"), kind=event.type,
                    who=who(event.actor, details.get("cause")), unit=row.unit if row else None,
                    what=row.name if row else (details.get("element_name") or details.get("name")
                                               or (element.name if element else None)))
        if event.type == "element_passed" and details.get("kind") == "EndEvent":
            step.title = "Slutpunkt nået"
        if event.seq in by_seq:
            shown = [r for r in by_seq[event.seq] if allowed is None or (r.seq, r.field) in allowed]
            step.details = [(r.label, r.text) for r in shown]
            step.withheld = len(shown) < len(by_seq[event.seq])
            if event.type != "task_completed":
                step.unit = by_seq[event.seq][0].arrived_in
        if event.type == "gateway_taken":
            step.what = _gateway(details, elements)
        elif event.type in ("message_sent", "message_not_delivered"):
            step.what = details.get("element_name") or (element.name if element else None)
            if event.type == "message_sent":
                target = session.get(Case, details.get("to_case")) if details.get("to_case") else None
                if target is not None:
                    step.details = [("Til", journeys.get(target.process_key) or "en anden sag")]
            else:
                reason = str(details.get("reason") or "")
                step.details = [("Årsag", REASONS.get(reason, "Beskeden kunne ikke leveres."))]
        elif event.type == "task_assigned":
            step.details = [("Tildelt", str(details.get("assignee") or "—"))]
        elif event.type == "attachment_added" and details.get("attachment_id") in hidden_files:
            step.withheld = True  # another unit's document: that it came, not what it is
        elif event.type == "attachment_added":
            step.details = [("Fil", str(details.get("filename") or "—"))]
        elif event.type == "case_cancelled" and details.get("reason"):
            step.details = [("Begrundelse", str(details["reason"]))]
        elif event.type == COORDINATOR_SET:
            step.what = str(details.get("to") or "ingen")
        elif event.type == RULE_SET_CHOSEN:
            step.what = rule_set_label(rules, details.get("to")) if rules else str(details.get("to") or "")
            step.details = [("Begrundelse", str(details["reason"]))] if details.get("reason") else []
        elif event.type == "citizen_letter_not_sent":
            step.details = [("Årsag", LETTER_NOT_SENT)]
        steps.append(step)
    return steps


def _gateway(details: dict, elements: dict) -> str | None:
    """"Bevilget? → Bevilget": the gateway's question and the way it went."""
    names = [n for n in details.get("taken_names") or [] if n]
    if not names:  # recorded before flow names were kept: where it led
        names = [elements[t].name for t in details.get("taken") or [] if t in elements and elements[t].name]
    ways = " og ".join(n[:1].upper() + n[1:] for n in names)
    question = details.get("name")
    return f"{question} → {ways}" if ways else question


def _allowed(session: Session, case: Case, viewer: UserView | None, recs: list[Recording],
             rows: dict[str, HumanTask]) -> set[tuple[int, str]] | None:
    """(seq, field) of the values the viewer may read here; None: all of them (auditors, admins)."""
    if viewer is None or viewer.role in READ_ALL:
        return None
    return handover.readable(session, case, viewer.units, recs, rows)


def _shown(event: AuditEvent) -> bool:
    """Steps a caseworker cares about: not bookkeeping, not unnamed gateways or the start event."""
    if event.type in HIDDEN:
        return False
    details = event.details or {}
    if event.type in ("element_passed", "gateway_taken"):
        return bool(details.get("name")) and details.get("kind") != "StartEvent"
    return True
