"""What the task page shows around a task, and the uploads of its form's file fields.

`build` gathers the case context (masked citizen, journey, current steps,
earlier decisions, attachments, what the user may do) from engine calls that
check access. `store_uploads` only flushes; the task page's route commits or
rolls back together with the completion.
"""
from __future__ import annotations

import re

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from engine import access, bundles
from engine.accounts import UserView
from engine.cases import get_case
from engine.errors import EngineError, Forbidden, Invalid, TooLarge, UnsupportedType
from engine.forms import Form
from engine.models import HumanTask
from engine.settings import Settings
from engine.statuses import OPEN_TASK_STATES
from engine.views import case_view

from . import case_extras, queries, timeline
from .formdata import PREFIX, danish

ENGLISH_TAIL = re.compile(r"\s*\([^()]*\)$")


def task_form(session: Session, settings: Settings, row: HumanTask) -> Form | None:
    """The form as the case's version has it (editing the file on disk does not reach running cases)."""
    return bundles.task_form(session, row, forms_dir=settings.forms_dir)


def build(session: Session, user: UserView, row: HumanTask, settings: Settings) -> dict:
    case = get_case(session, row.case_id, user, action="task_view")
    view = case_view(session, case)
    try:
        form, form_problem = task_form(session, settings, row), None
    except Invalid as exc:  # a broken form file must not hide the case
        form, form_problem = None, exc.message
    may = permissions(user, row)
    members = queries.unit_members(session, row.unit) if may["assign"] and row.unit else []
    if row.audience == "teamlead":
        members = [(n, r) for n, r in members if r == "teamlead"]
    steps = timeline.build(session, case, settings.forms_dir)
    return {
        "task": row, "case": view, "form": form, "form_problem": form_problem, "may": may, "members": members,
        "journey": queries.journey_names(session).get(case.process_key, case.process_key),
        "decisions": [s for s in steps if s.kind == "task_completed"],
        "attachments": case_extras.attachments(session, case.id, user),
        "units": queries.unit_names(session), "max_upload": settings.max_upload_bytes,
    }


def permissions(user: UserView, row: HumanTask) -> dict[str, bool]:
    """Which buttons to show; the engine checks again on every POST."""
    try:
        access.check_task_workable(user, row)
        workable = row.status in OPEN_TASK_STATES
    except Forbidden:
        workable = False
    mine_or_free = row.status == "open" or row.assignee == user.username
    lead = user.role in ("teamlead", "admin")
    return {
        "complete": workable and mine_or_free,
        "claim": workable and row.status == "open",
        "release": workable and row.status == "claimed" and (row.assignee == user.username or lead),
        "assign": workable and lead,
    }


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
