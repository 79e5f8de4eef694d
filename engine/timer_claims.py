"""Claiming due timers for a worker: which case to fire next, locked so other workers skip it.

Beside engine.service_tasks' fetch-and-lock, the other claim of background
work. On PostgreSQL `SELECT … FOR UPDATE OF cases SKIP LOCKED` on the
earliest due timer whose case no one else holds; the row lock is kept by the
caller's transaction while it fires the case (workers.timers) and commits.
SQLite has no row locks (`FOR UPDATE` is left out there): one worker there.
Functions only read and lock; they never commit.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from .models import Case, Wait
from .retry_policy import RetryPolicy
from .statuses import WaitKind


def claimable(now: datetime, policy: RetryPolicy) -> Select[str, int]:
    # strictly before now: SpiffWorkflow fires a timer only once its moment has passed
    return (select(Wait.case_id, Wait.attempts).join(Case, Case.id == Wait.case_id)
            .where(Wait.kind == WaitKind.TIMER, Wait.due_at < now, Wait.attempts < policy.max_attempts,
                   or_(Wait.next_attempt_at.is_(None), Wait.next_attempt_at <= now))
            .order_by(Wait.due_at, Wait.case_id).limit(1))


def claim_next(session: Session, *, now: datetime, policy: RetryPolicy) -> tuple[str, int] | None:
    """Lock the case of the earliest due timer that no other worker holds; (case id, attempts so far)."""
    for _ in range(20):
        row = session.execute(claimable(now, policy).with_for_update(of=Case, skip_locked=True)).first()
        if row is None:
            return None
        # A case another worker committed a moment ago can still come from the snapshot that statement read
        # (PostgreSQL rechecks only the locked cases row); a fresh read under our lock says if it still waits.
        fresh = session.execute(claimable(now, policy).where(Wait.case_id == row[0])).first()
        if fresh is not None:
            return fresh[0], fresh[1]
        session.rollback()
    return None


def claim_case(session: Session, case_id: str, *, now: datetime, policy: RetryPolicy) -> bool:
    """Lock this case again if its timers are still due for an attempt (waits while another worker holds it)."""
    query = claimable(now, policy).where(Wait.case_id == case_id)
    if session.execute(query.with_for_update(of=Case)).first() is None:
        return False
    return session.execute(query).first() is not None  # fresh, as in claim_next
