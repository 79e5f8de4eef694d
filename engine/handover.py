"""Handovers: what earlier steps of a case recorded (label, unit, element, time) and what crosses to a task.

Every value a case holds arrived through a step the audit trail names: a
task's form (`task_completed`), the start (`case_started`: its start form,
or the message it began with) or a message (`message_received`). `recordings`
reads them back in order, each with the label of the form that asked for it.
A message between cases takes the provenance of what it carries along
(`carried`, stored in the receiving case's audit event), so SOF's task says
the referral came from the jobcenter's visitation, with the jobcenter's
labels, and when.

What crosses to a task (`task_context`) is what the diagram lets cross:

- everything the start or a message brought into the case (a call from
  outside, another case, a unit registering a letter), for the tasks of the
  unit in whose lane it arrived;
- the fields the task's `context` property lists
  (`<camunda:property name="context" value="visitationsdato, vurdering"/>`),
  as last recorded before the task was done.

Nothing else: a unit that needs what another unit wrote in a form gets it
only when its task lists the field (docs/modelling.md).

The same rule decides what a unit's member reads of a case anywhere
(`readable`): the case page's timeline, the API's case data (`unit_data`),
its audit trail (`unit_event_details`) and the files a form took (`withheld_files`:
attachment lists and downloads). A value is readable by a unit when one
of its tasks recorded it, when it arrived in its lane, or when it crossed to
one of its tasks. Auditors and admins read everything. Read-only.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock, formats
from .bpmn.catches import START
from .bpmn.messages import payload_fields
from .bundles import version_form
from .errors import Invalid
from .forms import Form
from .message_forms import catch_for, version_index
from .models import AuditEvent, Case, HumanTask, ProcessDefinition

RECORDING_EVENTS = ("task_completed", "case_started", "message_received")
CONTEXT_PROPERTY = "context"


@dataclass(frozen=True)
class Recording:
    field: str
    value: object
    label: str
    text: str                 # the value as the recording form shows it: Ja/Nej, a choice's label, a file's name
    from_unit: str | None     # who recorded it (None: from outside, e.g. an integration)
    element_id: str | None    # where: the task, start or catch event (in the sending case, for a message)
    element_name: str | None
    at: datetime
    seq: int                  # the audit event of this case that brought it
    order: int                # position within that event
    arrived_in: str | None    # start data and messages: the unit of the lane they arrived in
    task_id: str | None       # task_completed: the task that recorded it

    def item(self) -> dict:
        """The contract's shape: {"label", "value", "from_unit", "element_id", "at"}."""
        return {"label": self.label, "value": self.value, "from_unit": self.from_unit,
                "element_id": self.element_id, "at": clock.as_utc(self.at).isoformat()}


def label_of(name: str) -> str:
    """A field no form asks for (a script set it): its name in words, never the raw key."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def display(form: Form | None, name: str, value: object) -> tuple[str, str]:
    """(label, text) of one value as `form` asks for it."""
    fld = next((f for f in form.fields if f.name == name), None) if form is not None else None
    label = fld.label if fld is not None else label_of(name)
    if isinstance(value, bool):
        text = "Ja" if value else "Nej"
    elif fld is not None and fld.type == "choice":
        text = dict(fld.choices).get(str(value), str(value))
    elif isinstance(value, dict) and "filename" in value:
        text = str(value["filename"])
    elif fld is not None and fld.type == "number" and isinstance(value, (int, float)):
        text = formats.tal(value)
    elif fld is not None and fld.type == "date" and isinstance(value, str):
        text = formats.dato(value)
    elif value is None:
        text = "—"
    else:
        text = str(value)
    return label, text


def ordered(form: Form | None, data: dict) -> list[str]:
    """The fields of `data` in the form's order, then the rest."""
    names = [f.name for f in form.fields if f.name in data] if form is not None else []
    return names + [n for n in data if n not in names]


class _Forms:
    """The labels of the case's own version's forms (a step decided under v1 reads as v1 asked)."""

    def __init__(self, session: Session, definition_id: str, forms_dir: Path | None):
        self.session, self.definition_id, self.forms_dir = session, definition_id, forms_dir
        self.cache: dict[str, Form | None] = {}

    def get(self, key: str | None) -> Form | None:
        if not key or self.forms_dir is None:  # None: the caller needs no labels
            return None
        if key not in self.cache:
            try:
                self.cache[key] = version_form(self.session, self.definition_id, key, forms_dir=self.forms_dir)
            except Invalid:  # a form lost since (a version from before bundles): the names in words
                self.cache[key] = None
        return self.cache[key]


def recordings(session: Session, case: Case, *, forms_dir: Path | None) -> list[Recording]:
    """Every value the case's audit trail says was recorded, oldest first (forms_dir None: no labels)."""
    events = [e for e in audit.events(session, case.id) if e.type in RECORDING_EVENTS]
    rows = {t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    forms = _Forms(session, case.definition_id, forms_dir)
    index = version_index(session, case.definition_id)
    found: list[Recording] = []
    for event in events:
        details = event.details or {}
        if event.type == "task_completed":
            row = rows.get(event.task_id or "")
            if row is None:
                continue
            found += _from(details.get("data"), forms.get(row.form_key), event, unit=row.unit,
                           element=(row.element_id, row.name), task_id=row.id)
            continue
        if event.type == "case_started":
            element = index.elements.get(details.get("element_id") or index.start_element or "")
            unit = details.get("unit") or (element.unit if element else None)
            where: tuple[str | None, str | None] = (element.element_id, element.name) if element else (None, None)
            start_key = session.scalar(select(ProcessDefinition.start_form_key)
                                       .where(ProcessDefinition.id == case.definition_id))
            started = _from(details.get("data"), forms.get(start_key), event, unit=unit, element=where, arrived=unit)
            catch = catch_for(session, case.definition_id, name=details.get("message"), kinds=(START,))
            found += started + _from(details.get("message_data"), forms.get(catch.form_key if catch else start_key),
                                     event, unit=details.get("from_unit"), element=where, arrived=unit,
                                     carried=details.get("carried"), offset=len(started))
            continue
        catch = catch_for(session, case.definition_id, element_id=event.element_id, name=details.get("name"))
        unit = details.get("unit") or (catch.unit if catch else None)
        where = (event.element_id, details.get("element_name") or (catch.element_name if catch else None))
        found += _from(details.get("data"), forms.get(catch.form_key if catch else None), event,
                       unit=details.get("from_unit"), element=where, arrived=unit, carried=details.get("carried"))
    return found


def _from(data: object, form: Form | None, event: AuditEvent, *, unit: str | None,
          element: tuple[str | None, str | None], arrived: str | None = None, task_id: str | None = None,
          carried: object = None, offset: int = 0) -> list[Recording]:
    if not isinstance(data, dict):
        return []
    entries = carried if isinstance(carried, list) else []
    provenance = {c.get("field"): c for c in entries if isinstance(c, dict)}
    result = []
    for i, name in enumerate(ordered(form, data)):
        label, text = display(form, name, data[name])
        came = provenance.get(name)
        if came is not None:  # recorded in the sending case: its label, unit, step and time
            result.append(Recording(
                name, data[name], str(came.get("label") or label), str(came.get("text") or text),
                came.get("from_unit"), came.get("element_id"), came.get("element_name"),
                _moment(came.get("at")) or event.at, event.seq, offset + i, arrived, None))
        else:
            result.append(Recording(name, data[name], label, text, unit, element[0], element[1], event.at,
                                    event.seq, offset + i, arrived, task_id))
    return result


def _moment(value: object) -> datetime | None:
    try:
        return clock.as_utc(datetime.fromisoformat(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def context_fields(session: Session, case: Case, element_id: str) -> list[str]:
    """The fields a task's `context` property lets cross to it, as the case's version draws it."""
    element = version_index(session, case.definition_id).elements.get(element_id)
    return payload_fields(element.properties.get(CONTEXT_PROPERTY) or "") if element is not None else []


def task_context(session: Session, row: HumanTask, *, forms_dir: Path) -> list[Recording]:
    """What crosses to this task (see the module docstring), oldest first, one entry per field."""
    case = session.get_one(Case, row.case_id)
    return crossing(recordings(session, case, forms_dir=forms_dir), row,
                    context_fields(session, case, row.element_id), completed_seq(session, row))


def completed_seq(session: Session, row: HumanTask) -> int | None:
    """The audit seq of the task's completion: what came after it was not handed over to it."""
    if row.status != "completed":
        return None
    return session.scalar(select(AuditEvent.seq).where(AuditEvent.case_id == row.case_id,
                                                       AuditEvent.type == "task_completed",
                                                       AuditEvent.task_id == row.id))


def crossing(recs: list[Recording], row: HumanTask, listed: list[str], done: int | None) -> list[Recording]:
    """Of a case's recordings, those that cross to `row`: arrived in its unit's lane, or listed by it."""
    wanted = set(listed)
    chosen: dict[str, Recording] = {}
    for rec in recs:
        if done is not None and rec.seq >= done:
            break
        if rec.task_id == row.id:
            continue
        if (rec.arrived_in is not None and rec.arrived_in == row.unit) or rec.field in wanted:
            chosen[rec.field] = rec
    return sorted(chosen.values(), key=lambda r: (r.seq, r.order))


def readable(session: Session, case: Case, units: Collection[str], recs: list[Recording],
             rows: dict[str, HumanTask]) -> set[tuple[int, str]]:
    """(seq, field) of the recorded values that members of `units` may read (see the module docstring)."""
    allowed = {(r.seq, r.field) for r in recs
               if (r.task_id and r.task_id in rows and rows[r.task_id].unit in units) or (r.arrived_in in units)}
    theirs = [row for row in rows.values() if row.unit in units]
    if not theirs:
        return allowed
    done = dict(session.execute(select(AuditEvent.task_id, AuditEvent.seq).where(  # one query, not one per task
        AuditEvent.case_id == case.id, AuditEvent.type == "task_completed")).all())
    for row in theirs:
        listed = context_fields(session, case, row.element_id)
        seq = done.get(row.id) if row.status == "completed" else None
        allowed.update((r.seq, r.field) for r in crossing(recs, row, listed, seq))
    return allowed


def _case_tasks(session: Session, case: Case) -> dict[str, HumanTask]:
    return {t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}


def _withheld_fields(session: Session, case: Case, units: Collection[str]) -> tuple[set[str], set[tuple[int, str]]]:
    """(fields, (seq, field)s) that other units' tasks recorded and that never reached `units`."""
    task_units = set(session.scalars(select(HumanTask.unit).where(HumanTask.case_id == case.id).distinct()))
    if task_units <= set(units):
        # Only a task of another unit can withhold a value, so when every task is these units' own
        # nothing is withheld: the answer without reading the audit trail or the task rows (every
        # completion's answer asks this, docs/performance.md).
        return set(), set()
    recs = recordings(session, case, forms_dir=None)
    allowed = readable(session, case, units, recs, _case_tasks(session, case))
    by_tasks = {(r.seq, r.field) for r in recs if r.task_id is not None and (r.seq, r.field) not in allowed}
    reached = {field for _, field in allowed}
    return {field for _, field in by_tasks if field not in reached}, by_tasks


def withheld_files(recs: list[Recording], allowed: set[tuple[int, str]]) -> set[str]:
    """Ids of the files another unit's task took in a `file` field that never crossed to the reader
    (`allowed`: what `readable` gives): the citizen's bank statements stay with the benefit decision."""
    return {r.value["attachment_id"] for r in recs
            if r.task_id is not None and (r.seq, r.field) not in allowed
            and isinstance(r.value, dict) and isinstance(r.value.get("attachment_id"), str)}


def unit_withheld_files(session: Session, case: Case, units: Collection[str]) -> set[str]:
    """`withheld_files` for members of `units`: what the attachment lists and downloads leave out."""
    recs = recordings(session, case, forms_dir=None)
    return withheld_files(recs, readable(session, case, units, recs, _case_tasks(session, case)))


def unit_data(session: Session, case: Case, units: Collection[str]) -> dict:
    """The case's data as members of `units` may read it in the API.

    Left out: what another unit's task recorded that never crossed to these units (the benefit
    decision's rate, for Virksomhedsservice). What the start, a message or a script put in the
    case stays, as it does on the case page: those values decide the path every unit is on.
    """
    hidden, _ = _withheld_fields(session, case, units)
    return {k: v for k, v in (case.data or {}).items() if k not in hidden}


def unit_event_details(session: Session, case: Case, units: Collection[str]) -> Callable[[AuditEvent], dict]:
    """A function giving an audit event's details without what another unit's task recorded for itself."""
    _, withheld = _withheld_fields(session, case, units)

    def details(event: AuditEvent) -> dict:
        shown = dict(event.details or {})
        data = shown.get("data")
        if event.type != "task_completed" or not isinstance(data, dict):
            return shown
        kept = {k: v for k, v in data.items() if (event.seq, k) not in withheld}
        if len(kept) < len(data):
            shown["data"], shown["withheld"] = kept, len(data) - len(kept)  # how many values were left out
        return shown

    return details


def carried(session: Session, case: Case, payload: dict, *, forms_dir: Path, element_id: str | None,
            element_name: str | None, unit: str | None) -> list[dict]:
    """Where each value a message takes to another case was recorded, as the sending case knows it.

    A value no step recorded as it is now (a script computed it) is the throwing element's, now.
    """
    latest: dict[str, Recording] = {}
    for rec in recordings(session, case, forms_dir=forms_dir):
        latest[rec.field] = rec
    now = clock.now().isoformat()
    result = []
    for name, value in payload.items():
        known = latest.get(name)
        if known is not None and known.value == value:
            result.append({"field": name, "label": known.label, "text": known.text, "from_unit": known.from_unit,
                           "element_id": known.element_id, "element_name": known.element_name,
                           "at": clock.as_utc(known.at).isoformat()})
        else:
            label, text = display(None, name, value)
            result.append({"field": name, "label": label, "text": text, "from_unit": unit, "element_id": element_id,
                           "element_name": element_name, "at": now})
    return result
