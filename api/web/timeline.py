"""The case's history for people: the audit trail as steps (who, when, what was decided).

Built only from engine.audit events; labels come from the task rows and the
tasks' forms, so a decision reads "Afgørelse: Bevilget", not afgoerelse=bevilget.
Read-only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from engine import audit
from engine.bundles import version_form
from engine.errors import Invalid
from engine.forms import Form
from engine.models import AuditEvent, Case, ProcessDefinition

from . import queries

TITLES = {
    "case_started": "Sagen er oprettet", "task_completed": "Opgave udført", "task_assigned": "Opgave tildelt",
    "attachment_added": "Bilag tilføjet", "message_received": "Besked modtaget", "message_sent": "Besked sendt",
    "timer_fired": "Frist udløbet", "case_completed": "Sagen er afsluttet", "case_cancelled": "Sagen er annulleret",
    "task_cancelled": "Opgave bortfaldet", "process_error": "Fejl i forløbet", "deadline_error": "Fejl i frist",
    "incident": "Driftshændelse", "incident_retried": "Driftshændelse genoptaget",
    "message_not_delivered": "Besked ikke leveret", "message_caught": "Besked modtaget",
    "gateway_taken": "Vej valgt", "element_passed": "Trin udført",
}
HIDDEN = {"task_created", "task_claimed", "task_released"}  # bookkeeping, not steps


@dataclass
class Step:
    at: datetime
    actor: str | None
    title: str
    what: str | None = None
    details: list[tuple[str, str]] = field(default_factory=list)
    kind: str = ""


def build(session: Session, case: Case, forms_dir: Path) -> list[Step]:
    events = [e for e in audit.events(session, case.id) if _shown(e)]
    rows = queries.task_names(session, {e.task_id for e in events if e.task_id})
    forms: dict[str, Form | None] = {}
    steps = []
    for event in events:
        details = event.details or {}
        row = rows.get(event.task_id) if event.task_id else None
        form_key = row.form_key if row else None
        if event.type == "case_started":
            form_key = session.get_one(ProcessDefinition, case.definition_id).start_form_key
        form = _form(session, case, forms, forms_dir, form_key)
        title = TITLES.get(event.type, event.type)
        if event.type == "element_passed" and details.get("kind") == "EndEvent":
            title = "Slutpunkt nået"
        step = Step(at=event.at, actor=event.actor, title=title, kind=event.type,
                    what=row.name if row else (details.get("name") or details.get("message")))
        if event.type in ("task_completed", "case_started") and isinstance(details.get("data"), dict):
            step.details = describe(form, details["data"])
        elif event.type == "task_assigned":
            step.details = [("Tildelt", str(details.get("assignee") or "—"))]
        elif event.type == "attachment_added":
            step.details = [("Fil", str(details.get("filename") or "—"))]
        elif event.type == "case_cancelled" and details.get("reason"):
            step.details = [("Begrundelse", str(details["reason"]))]
        steps.append(step)
    return steps


def _shown(event: AuditEvent) -> bool:
    """Steps a caseworker cares about: not bookkeeping, not unnamed gateways or the start event."""
    if event.type in HIDDEN:
        return False
    details = event.details or {}
    if event.type in ("element_passed", "gateway_taken"):
        return bool(details.get("name")) and details.get("kind") != "StartEvent"
    return True


def _form(session: Session, case: Case, cache: dict[str, Form | None], forms_dir: Path,
          key: str | None) -> Form | None:
    """The labels of the case's own version's form (a step decided under v1 reads as v1 asked)."""
    if not key:
        return None
    if key not in cache:
        try:
            cache[key] = version_form(session, case.definition_id, key, forms_dir=forms_dir)
        except Invalid:  # a form file removed or broken since: show the raw names
            cache[key] = None
    return cache[key]


def describe(form: Form | None, data: dict) -> list[tuple[str, str]]:
    """Decided values as (label, text) in the form's field order."""
    fields = {f.name: f for f in form.fields} if form else {}
    order = [n for n in fields if n in data] + [n for n in data if n not in fields]
    result = []
    for name in order:
        fld, value = fields.get(name), data[name]
        label = fld.label if fld else name
        if isinstance(value, bool):
            text = "Ja" if value else "Nej"
        elif fld is not None and fld.type == "choice":
            text = dict(fld.choices).get(str(value), str(value))
        elif isinstance(value, dict) and "filename" in value:
            text = str(value["filename"])
        else:
            text = str(value)
        result.append((label, text))
    return result
