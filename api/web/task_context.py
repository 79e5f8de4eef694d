"""What the task page shows around a task, and the uploads of its form's file fields.

`build` takes the one read of a task the API uses too (engine.task_read: the
task, its case, form, handover context, attachments and what the user may
do) and adds what only the page shows: unit names and the unit's own earlier
decisions, and the values the form is prefilled with. `store_uploads` only flushes; the task page's route commits or
rolls back together with the completion.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from engine import bundles
from engine.accounts import UserView
from engine.case_attributes import rule_set_label
from engine.case_rules import rules_from_settings
from engine.errors import EngineError, Invalid, TooLarge, UnsupportedType
from engine.formats import tal
from engine.forms import Form
from engine.handover import Recording
from engine.models import AuditEvent, Case, HumanTask
from engine.settings import Settings
from engine.task_read import read_task

from . import case_extras, queries, timeline
from .formdata import PREFIX, danish

ENGLISH_TAIL = re.compile(r"\s*\([^()]*\)$")


def task_form(session: Session, settings: Settings, row: HumanTask) -> Form | None:
    """The form as the case's version has it (editing the file on disk does not reach running cases)."""
    return bundles.task_form(session, row, forms_dir=settings.forms_dir)


def build(session: Session, user: UserView, row: HumanTask, settings: Settings) -> dict:
    read = read_task(session, row.id, user, forms_dir=settings.forms_dir, strict_form=False,
                     rules=rules_from_settings(settings))
    steps = timeline.build(session, read.case, settings.forms_dir, viewer=user)
    return {
        "prefill": prefill(session, read.form, read.case, row, read.context),
        "task": read.task, "case": read.case_view, "form": read.form, "form_problem": read.form_problem,
        "may": read.may, "members": read.members, "journey": read.journey, "attachments": read.attachments,
        "handover": handover_groups(read.context),
        # the unit's own earlier decisions; what other units decided reaches it only as the handover above
        "decisions": [s for s in steps if s.kind == "task_completed" and s.unit == row.unit],
        "units": queries.unit_names(session), "max_upload": settings.max_upload_bytes,
        "rule_set_label": rule_set_label(rules_from_settings(settings), read.case.rule_set),
    }


def prefill(session: Session, form: Form | None, case: Case, row: HumanTask, context: list[Recording]) -> dict:
    """The form's fields whose value the case already holds, as the browser posts them (a field may opt out).

    Only values this unit may see, the latest of each: what was handed over to the task, what the
    case started with, and what the unit's own earlier steps recorded (also inside a called process,
    whose data the case's top level does not hold yet) — never another unit's withheld value."""
    if form is None:
        return {}
    held: dict[str, tuple[int, object]] = {rec.field: (rec.seq, rec.value) for rec in context}
    events = session.execute(
        select(AuditEvent.seq, AuditEvent.type, AuditEvent.details, HumanTask.unit)
        .outerjoin(HumanTask, HumanTask.id == AuditEvent.task_id)
        .where(AuditEvent.case_id == case.id, AuditEvent.type.in_(("case_started", "task_completed"))))
    for seq, kind, details, unit in events:
        if kind == "case_started" or unit == row.unit:
            for name, value in ((details or {}).get("data") or {}).items():
                if name not in held or held[name][0] <= seq:
                    held[name] = (seq, value)
    values: dict[str, str] = {}
    for fld in form.fields:
        value = held.get(fld.name, (0, None))[1]
        if fld.type == "file" or not fld.rules.prefill or value in (None, ""):
            continue
        if fld.type == "boolean" and isinstance(value, bool):
            values[fld.name] = "ja" if value else "nej"
        elif fld.type == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            values[fld.name] = tal(value)
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            values[fld.name] = str(value)
    return values


def handover_groups(context: list[Recording]) -> list[dict]:
    """The handover by where it was recorded (unit, step, time), in order, for the page's sections."""
    groups: list[dict] = []
    for rec in context:
        key = (rec.from_unit, rec.element_id, rec.at)
        if not groups or groups[-1]["key"] != key:
            groups.append({"key": key, "from_unit": rec.from_unit, "element_name": rec.element_name,
                           "at": rec.at, "items": []})
        groups[-1]["items"].append((rec.label, rec.text))
    return groups


def store_uploads(session: Session, user: UserView, row: HumanTask, form: Form | None, posted: FormData, data: dict,
                  settings: Settings) -> tuple[dict[str, str], int | None, list[str]]:
    """Store each chosen file and put its value in `data`; returns (errors per field, status, stored fields)."""
    errors: dict[str, str] = {}
    status: int | None = None
    stored: list[str] = []  # the fields whose file was stored
    if form is None:
        return errors, status, stored
    for fld in form.fields:
        upload = posted.get(PREFIX + fld.name) if fld.type == "file" else None
        if upload is None or isinstance(upload, str) or not upload.filename:
            continue
        try:
            view = case_extras.add_upload(session, user=user, row=row, field=fld.name, upload=upload,
                                          settings=settings)
        except (TooLarge, UnsupportedType, Invalid) as exc:
            # the engine adds the English reason in brackets: the page shows the Danish part
            errors[fld.name] = f"{fld.label}: {ENGLISH_TAIL.sub('', danish(exc.message))}"
            status = status or exc.status
            continue
        except EngineError:
            raise
        data[fld.name] = view.field_value()
        stored.append(fld.name)
    return errors, status, stored
