"""The § 3 letter: a citizen is told in writing when a decision's published deadline will not be kept.

Retssikkerhedsloven § 3, stk. 2: the municipality publishes its processing
deadlines, and when one cannot be kept it tells the citizen in writing,
with when a decision can be expected. A named deadline in the deadline file
(config/deadlines.toml) that sets `citizen_letter = "P2D working"` marks the
tasks that name it as such decisions: when one is still open that long
before its due day begins (Danish time), `handle_task` queues a letter to the
citizen's e-mail address (case data `borger_email`) in the outbox and audits
`citizen_letter_sent`; without a usable address it audits
`citizen_letter_not_sent` with the reason, so a caseworker can send it on
paper. Either way once per task: a `deadline_letters` row (primary key: the
task), written with the outbox row (dedupe key `citizen_letter:<task>`) and
the audit event, under the case lock.

Transaction rule: `handle_task` locks the case (it writes the audit trail)
and only flushes; the worker (workers/jobs.py) commits per task.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock, outbox
from .case_rules import CaseRules
from .deadlines import Rule, parse_duration
from .errors import Invalid
from .locking import lock_case
from .models import LIVE_TASK, Case, DeadlineLetter, HumanTask
from .statuses import OPEN_TASK_STATES
from .task_archive import find_task, reload_task
from .workdays import DANISH_TIME, WorkCalendar, local_date

ACTOR = "system:deadlines"
ADDRESS_FIELD = "borger_email"


def letter_moment(due_at: datetime, warning: Rule, calendar: WorkCalendar) -> datetime:
    """The start (Danish time) of the day `warning` before the due day: from then on the letter goes."""
    _years, _months, weeks, days = parse_duration(warning.duration)
    due_day = local_date(clock.as_utc(due_at))
    if warning.working:
        day = calendar.working_days_before(due_day, weeks * 5 + days)
    else:
        day = due_day - relativedelta(weeks=weeks, days=days)
    return clock.as_utc(datetime.combine(day, time(0), tzinfo=DANISH_TIME))


def _span(warning: Rule) -> timedelta:
    """At least as long as the warning can reach back (working days: weekends and holidays too)."""
    _years, _months, weeks, days = parse_duration(warning.duration)
    count = weeks * (5 if warning.working else 7) + days
    return timedelta(days=2 * count + 14 if warning.working else count + 1)


def candidates(session: Session, *, now: datetime, rules: CaseRules, limit: int) -> list[str]:
    """Open decision tasks whose letter moment has come and that have no letter yet, earliest due first."""
    found: list[tuple[datetime, str]] = []
    for name, warning in rules.citizen_letters().items():
        rows = session.execute(
            select(HumanTask.id, HumanTask.due_at).outerjoin(DeadlineLetter, DeadlineLetter.task_id == HumanTask.id)
            .where(LIVE_TASK, HumanTask.status.in_(OPEN_TASK_STATES), HumanTask.deadline_rule == name,
                   HumanTask.due_at.is_not(None), HumanTask.due_at <= now + _span(warning),
                   DeadlineLetter.task_id.is_(None))
            .order_by(HumanTask.due_at, HumanTask.id).limit(limit))
        found += [(clock.as_utc(due), task_id) for task_id, due in rows
                  if due is not None and letter_moment(due, warning, rules.calendar) <= now]
    return [task_id for _due, task_id in sorted(found)[:limit]]


@dataclass(frozen=True)
class Outcome:
    task_id: str
    step: str  # "sent" | "not_sent" | "nothing"


def handle_task(session: Session, *, task_id: str, now: datetime, rules: CaseRules) -> Outcome:
    """Queue the letter for one decision task (or record why none can go), once, under the case lock."""
    task = find_task(session, task_id, live_only=True)  # open decision tasks are live
    if task is None:
        return Outcome(task_id, "nothing")
    case = lock_case(session, task.case_id)
    reload_task(session, task)
    warning = rules.citizen_letters().get(task.deadline_rule or "")
    if (warning is None or task.status not in OPEN_TASK_STATES or task.due_at is None
            or session.get(DeadlineLetter, task_id) is not None
            or letter_moment(task.due_at, warning, rules.calendar) > now):
        return Outcome(task_id, "nothing")
    rule = rules.named_deadlines().get(task.deadline_rule or "")
    details = {"due_at": task.due_at, "deadline": task.deadline_rule, "source": rule.source if rule else None}
    address, outbox_id, reason = (case.data or {}).get(ADDRESS_FIELD), None, None
    if not isinstance(address, str) or not address.strip():
        reason = f"the case data has no {ADDRESS_FIELD}: send the letter on paper"
    else:
        subject, body = _text(case, task, rule)
        try:
            outbox_id = outbox.enqueue(session, recipient=address, subject=subject, body=body, kind="letter",
                                       dedupe_key=f"citizen_letter:{task.id}", case_id=case.id).id
        except Invalid:
            reason = f"{ADDRESS_FIELD} in the case data is not a usable e-mail address: send the letter on paper"
    session.add(DeadlineLetter(task_id=task.id, case_id=case.id, at=now, outbox_id=outbox_id, reason=reason))
    details.update({"outbox_id": outbox_id} if outbox_id else {"reason": reason})
    audit.record(session, case, "citizen_letter_sent" if outbox_id else "citizen_letter_not_sent", actor=ACTOR,
                 element_id=task.element_id, task_id=task.id, details=details)
    session.flush()
    return Outcome(task_id, "sent" if outbox_id else "not_sent")


def _text(case: Case, task: HumanTask, rule: Rule | None) -> tuple[str, str]:
    assert task.due_at is not None  # handle_task checks
    due = local_date(clock.as_utc(task.due_at))
    basis = f"Fristen bygger på: {rule.source}\n" if rule is not None and rule.source else ""
    return ("Vi kan ikke nå at afgøre din sag inden fristen", (
        "Kære borger\n\n"
        "Vi har ikke kunnet behandle din sag inden for den frist, kommunen har fastsat, og vi kan ikke nå at "
        f"træffe afgørelse senest {due:%d-%m-%Y}. Det skal vi efter retssikkerhedslovens § 3, stk. 2, "
        "give dig skriftlig besked om.\n\n"
        f"Sagens nummer: {case.id}\nDet, der mangler: {task.name}\n{basis}\n"
        "Vi arbejder videre med din sag og skriver til dig, så snart der er truffet en afgørelse. "
        "Har du spørgsmål, er du velkommen til at kontakte os.\n\nMed venlig hilsen\nKommunen"))
