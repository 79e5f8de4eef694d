"""Topic handlers: what the Tovholder worker itself does at a service task, by topic name.

`HANDLERS[topic] = fn(session, task) -> dict`: `task` is the leased
engine.service_tasks.ServiceTaskView (its `variables` are the case data at
the task); the returned dict is merged into the case data when the task
completes. A handler runs inside the transaction that completes the task, so
what it queues (an outbox e-mail) is committed together with the completion
or not at all. Raise HandlerFailed with a message for a failure the process
owner should read; retries, then an incident, follow (workers/service_worker.py).
Topics without a handler here are left for other systems
(POST /api/external-tasks/fetch-and-lock). Tests may swap an entry.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from engine import clock, outbox
from engine.errors import Invalid
from engine.service_tasks import ServiceTaskView

Handler = Callable[[Session, ServiceTaskView], dict]
HANDLERS: dict[str, Handler] = {}


class HandlerFailed(Exception):
    """A handler's own, readable reason (no personal data): shown in the audit trail and the incident."""


def handler(topic: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[topic] = fn
        return fn
    return register


def _text(variables: dict, field: str, default: str) -> str:
    value = variables.get(field)
    return value.strip() if isinstance(value, str) and value.strip() else default


def _send(session: Session, task: ServiceTaskView, *, address_field: str, kind: str, subject: str,
          body: str) -> str:
    address = task.variables.get(address_field)
    if not isinstance(address, str) or not address.strip():
        raise HandlerFailed(f"the case data has no {address_field} to send to")
    try:
        queued = outbox.enqueue(session, recipient=address, subject=subject, body=body, kind=kind,
                                dedupe_key=f"{kind}:{task.id}", case_id=task.case_id)
    except Invalid:
        raise HandlerFailed(f"{address_field} in the case data is not a usable e-mail address") from None
    return queued.id


@handler("brev_til_borger")
def letter_to_citizen(session: Session, task: ServiceTaskView) -> dict:
    """A letter to the citizen's e-mail address (case data `borger_email`); text from `brev_emne`/`brev_tekst`."""
    subject = _text(task.variables, "brev_emne", task.name or "Brev fra kommunen")
    body = _text(task.variables, "brev_tekst",
                 f"Kære borger\n\nDer er nyt i din sag hos kommunen ({task.name or task.element_id}).\n"
                 f"Sagens nummer: {task.case_id}\n\nMed venlig hilsen\nKommunen")
    outbox_id = _send(session, task, address_field="borger_email", kind="letter", subject=subject, body=body)
    return {"brev_id": outbox_id, "brev_dato": clock.now().date().isoformat()}


@handler("underret_arbejdsgiver")
def notify_employer(session: Session, task: ServiceTaskView) -> dict:
    """A notice to the employer (case data `arbejdsgiver_email`); text from `arbejdsgiver_emne`/`_besked`."""
    subject = _text(task.variables, "arbejdsgiver_emne", task.name or "Besked fra kommunen")
    body = _text(task.variables, "arbejdsgiver_besked",
                 "Kommunen har en besked til jer om en medarbejders sag.\n"
                 f"Sagens nummer: {task.case_id}\n\nMed venlig hilsen\nKommunen")
    outbox_id = _send(session, task, address_field="arbejdsgiver_email", kind="employer", subject=subject,
                      body=body)
    return {"arbejdsgiver_underrettet_id": outbox_id, "arbejdsgiver_underrettet_dato": clock.now().date().isoformat()}
