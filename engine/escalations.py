"""Overdue user tasks: flag them, remind who works them, escalate to the unit's team leads after a grace.

Once a task's due time has passed, `handle_task` records a notice row
(task_deadline_notices: the flag), queues a reminder e-mail to the assignee
(or, unassigned, to the caseworkers of the task's unit — the team leads for a
task drawn for team leads) and audits "reminder_sent". When the grace has
passed too — TOVHOLDER_ESCALATION_GRACE, or a deadline rule's own
`escalation_grace` in config/deadlines.toml — it queues an escalation to the
unit's team leads and audits "escalated". Each mail has a dedupe key per task
and recipient, and the notice row records each step, so a task is reminded
and escalated once however often the worker looks. Only users with an e-mail
address receive mail; nobody to write to is audited ("…_not_sent").

This is the e-mail channel; a diagram may also draw the reminder as a
non-interrupting boundary timer leading to a team lead's user task.

Transaction rule: `handle_task` locks the case (engine.locking, because it
writes the case's audit trail) and only flushes; the worker commits per task.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import audit, clock, outbox
from .case_rules import CaseRules
from .deadlines import Rule, deadline_file, due_day, parse_grace
from .locking import lock_case
from .models import LIVE_TASK, Case, HumanTask, TaskDeadlineNotice, User, UserUnit
from .statuses import OPEN_TASK_STATES
from .task_archive import find_task, reload_task
from .workdays import end_of_day, local_date

ACTOR = "system:deadlines"


def rule_graces(path: Path | None) -> dict[str, Rule]:
    """`escalation_grace` of each named deadline that has one (re-read when the file changes)."""
    return deadline_file(path).graces


def escalate_at(task: HumanTask, *, rules: CaseRules, default_grace: str) -> datetime:
    """The end of the day the grace after the task's due day runs out, in Danish time."""
    name = (task.deadline_rule or "").strip()
    grace = rules.escalation_graces().get(name) or parse_grace(default_grace)
    assert task.due_at is not None  # only overdue tasks are escalated (handle_task checks)
    due = clock.as_utc(task.due_at)
    return clock.as_utc(end_of_day(due_day(grace, local_date(due), rules.calendar)))


def candidates(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Open overdue tasks not yet reminded, or reminded and past their grace."""
    notice = TaskDeadlineNotice
    query = (select(HumanTask.id).outerjoin(notice, notice.task_id == HumanTask.id)
             .where(LIVE_TASK, HumanTask.status.in_(OPEN_TASK_STATES), HumanTask.due_at < now,
                    or_(notice.task_id.is_(None), (notice.escalated_at.is_(None) & (notice.escalate_at <= now))))
             .order_by(HumanTask.due_at, HumanTask.id).limit(limit))
    return list(session.scalars(query))


@dataclass(frozen=True)
class Outcome:
    task_id: str
    step: str  # "reminded" | "escalated" | "nothing"
    queued: int


def handle_task(session: Session, *, task_id: str, now: datetime, rules: CaseRules,
                default_grace: str, public_url: str | None = None) -> Outcome:
    """Remind or escalate one overdue task (whichever is due), under the case lock. `public_url`: where
    staff open Tovholder (TOVHOLDER_PUBLIC_URL); the mail links to the task's page there."""
    task = find_task(session, task_id, live_only=True)  # open overdue tasks are live
    if task is None:
        return Outcome(task_id, "nothing", 0)
    case = lock_case(session, task.case_id)
    reload_task(session, task)
    notice = session.get(TaskDeadlineNotice, task_id, populate_existing=True)
    if task.status not in OPEN_TASK_STATES or task.due_at is None or clock.as_utc(task.due_at) >= now:
        return Outcome(task_id, "nothing", 0)
    if notice is None:
        notice = TaskDeadlineNotice(task_id=task.id, case_id=task.case_id, overdue_at=now, reminded_at=now,
                                    escalate_at=escalate_at(task, rules=rules, default_grace=default_grace))
        session.add(notice)
        queued = _notify(session, case, task, "reminder", _reminder_recipients(session, task), public_url)
        return Outcome(task_id, "reminded", queued)
    if notice.escalated_at is None and notice.escalate_at is not None and clock.as_utc(notice.escalate_at) <= now:
        notice.escalated_at = now
        queued = _notify(session, case, task, "escalation", _members(session, task.unit, "teamlead"), public_url)
        return Outcome(task_id, "escalated", queued)
    return Outcome(task_id, "nothing", 0)


def _members(session: Session, unit: str | None, role: str) -> list[User]:
    if unit is None:
        return []
    return list(session.scalars(select(User).join(UserUnit, UserUnit.user_id == User.id).where(
        UserUnit.unit_key == unit, User.role == role, User.active.is_(True), User.email.is_not(None))
        .order_by(User.username)))


def _reminder_recipients(session: Session, task: HumanTask) -> list[User]:
    if task.assignee:
        user = session.scalar(select(User).where(User.username == task.assignee, User.active.is_(True)))
        if user is not None and user.email:
            return [user]
    return _members(session, task.unit, "teamlead" if task.audience == "teamlead" else "caseworker")


def _notify(session: Session, case: Case, task: HumanTask, kind: str, users: list[User],
            public_url: str | None) -> int:
    subject, body = _text(kind, task, case, public_url)
    for user in users:
        assert user.email is not None  # both recipient lists hold only users with an address
        outbox.enqueue(session, recipient=user.email, subject=subject, body=body, kind=kind,
                       dedupe_key=f"{kind}:{task.id}:{user.username}", case_id=case.id)
    event = ("reminder_sent" if kind == "reminder" else "escalated") if users else f"{kind}_not_sent"
    details = {"due_at": task.due_at, "unit": task.unit, "recipients": [u.username for u in users]}
    if not users:
        details["reason"] = "no one to write to: no user of the unit with that role has an e-mail address"
    audit.record(session, case, event, actor=ACTOR, element_id=task.element_id, task_id=task.id, details=details)
    session.flush()
    return len(users)


def task_link(public_url: str | None, task_id: str) -> str | None:
    """The task page's absolute address, for a mail (None: no public address configured)."""
    return f"{public_url.rstrip('/')}/opgaver/{task_id}" if public_url else None


def _text(kind: str, task: HumanTask, case: Case, public_url: str | None = None) -> tuple[str, str]:
    assert task.due_at is not None  # only overdue tasks are reminded or escalated (handle_task checks)
    due = clock.as_utc(task.due_at).astimezone(end_of_day(local_date(task.due_at)).tzinfo)
    link = task_link(public_url, task.id)
    facts = (f"Opgave: {task.name}\nEnhed: {task.unit or '-'}\nFrist: {due:%d-%m-%Y %H:%M}\n"
             f"Sag: {case.number or case.id} ({case.process_key})\n"
             + (f"\nÅbn opgaven: {link}\n" if link else ""))
    if kind == "reminder":
        return (f"Frist overskredet: {task.name}",
                f"Fristen for opgaven er overskredet. Løs den, eller giv den videre.\n\n{facts}")
    return (f"Eskalering: {task.name} er stadig ikke løst",
            "Fristen for opgaven er overskredet, og påmindelsen har ikke hjulpet. "
            f"Som teamleder bedes du fordele eller følge op på opgaven.\n\n{facts}")
