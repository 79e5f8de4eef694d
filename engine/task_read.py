"""One read of a task: the task, its case, its form, what was handed over to it, and what the reader may do.

`GET /api/tasks/{id}` and the web task page both show a task from this one
read, so they cannot drift apart: the form as the case's version has it, the
handover (engine.handover: what crosses to the task's unit, with the sending
form's labels, from whom and when), the case as the reader may see it, and
which actions the reader may take (the engine checks again on every change).
The read of the case is logged (case_access_log); the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import access, attachments, case_attributes, handover
from .accounts import UserView
from .bundles import task_form
from .case_rules import CaseRules
from .cases import get_case
from .errors import Forbidden, Invalid
from .forms import Form
from .handover import Recording
from .inbox import get_task
from .models import Case, HumanTask, ProcessDefinition, User, UserUnit
from .statuses import OPEN_TASK_STATES
from .views import case_view, task_view


@dataclass
class TaskRead:
    task: HumanTask
    case: Case
    case_view: dict
    form: Form | None
    form_problem: str | None            # a broken form file must not hide the task: the reason, in English
    context: list[Recording]
    may: dict[str, bool]
    members: list[tuple[str, str]] = field(default_factory=list)  # whom a team lead may assign it to
    journey: str = ""
    attachments: list = field(default_factory=list)

    def as_dict(self) -> dict:
        """GET /api/tasks/{id}: the Task, its form and its context (CONTRACT.md); also the case's rule set
        and koordinerende sagsbehandler, which every unit working on the case sees."""
        return {**task_view(self.task), "form": self.form.as_dict() if self.form is not None else None,
                "context": [r.item() for r in self.context], "rule_set": self.case_view.get("rule_set"),
                "coordinator": self.case_view.get("coordinator")}


def read_task(session: Session, task_id: str, user: UserView, *, forms_dir: Path,
              strict_form: bool = True, rules: CaseRules | None = None) -> TaskRead:
    """The task as `user` may see it. `strict_form`: a broken form is an error (API), else a note (page).
    `rules`: where a `rule_set` field's choices come from (a `staff` field's come from the database)."""
    row = get_task(session, task_id, user)
    case = get_case(session, row.case_id, user, action="task_view")
    try:
        form, problem = task_form(session, row, forms_dir=forms_dir), None
    except Invalid as exc:
        if strict_form:
            raise
        form, problem = None, exc.message
    form = case_attributes.with_choices(session, form, rules)
    may = permissions(user, row)
    members = unit_members(session, row.unit) if may["assign"] and row.unit else []
    if row.audience == "teamlead":
        members = [(n, r) for n, r in members if r == "teamlead"]
    journey = session.scalar(select(ProcessDefinition.name).where(ProcessDefinition.id == case.definition_id))
    return TaskRead(task=row, case=case, case_view=case_view(session, case), form=form, form_problem=problem,
                    context=handover.task_context(session, row, forms_dir=forms_dir), may=may, members=members,
                    journey=journey or case.process_key,
                    attachments=attachments.list_attachments(session, case_id=case.id, user=user))


def permissions(user: UserView, row: HumanTask) -> dict[str, bool]:
    """Which actions to offer; the engine checks again on every POST."""
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


def unit_members(session: Session, unit: str) -> list[tuple[str, str]]:
    """(username, role) of the active caseworkers and team leads of a unit."""
    rows = session.execute(select(User.username, User.role).join(UserUnit, UserUnit.user_id == User.id)
                           .where(UserUnit.unit_key == unit, User.active.is_(True),
                                  User.role.in_(("caseworker", "teamlead"))).order_by(User.username))
    return [(name, role) for name, role in rows]
