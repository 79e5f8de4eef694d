"""Fire due timers: claim one case, fire it through engine.runtime, commit; repeat.

Transaction rule: one transaction per case. It starts by claiming the case
(engine.timer_claims: on PostgreSQL `SELECT … FOR UPDATE OF cases SKIP LOCKED`
on the earliest due timer whose case no one else holds) and keeps that row lock while
`runtime.fire_timers` (which takes the case lock of engine.locking) runs and
commits. Other workers skip the locked case, so several workers share the due
timers without a queue of their own; a worker killed mid-case loses its
connection, PostgreSQL rolls its transaction back and releases the lock, and
the next claim takes the case again. Exactly once comes from the case lock
and the stored state: a timer that fired is no longer waiting in the saved
workflow, so a second fire finds nothing to do.

SQLite has no row locks (`FOR UPDATE` is left out there) and one writer at a
time: run a single worker on SQLite. Two would still not fire a timer twice
(the case lock refuses the second), but they would only wait on each other.

A case that fails is rolled back; a fresh transaction counts the attempt on
its timer rows (`waits.attempts`, `next_attempt_at` = now + backoff·2^(n-1))
and, at the last attempt, opens an incident (engine.incidents) instead of
retrying until an admin retries it. One failing case never stops the pass.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock, incidents, runtime
from engine.case_rules import CaseRules
from engine.errors import CaseBusy, EngineError, ProcessError
from engine.models import Wait
from engine.retry_policy import RetryPolicy
from engine.statuses import WaitKind
from engine.timer_claims import claim_case, claim_next

log = logging.getLogger("tovholder.worker")


@dataclass
class TimerRun:
    fired: int = 0
    cases: int = 0
    failed: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.cases + len(self.failed) + len(self.busy)


def fire_due_timers(session_factory: sessionmaker[Session], *, rules: CaseRules, now=None, batch: int = 100,
                    policy: RetryPolicy = RetryPolicy(),
                    should_stop: Callable[[], bool] = lambda: False) -> TimerRun:
    """Fire timers due at `now` (default: the clock) on up to `batch` cases, committing per case."""
    now = clock.as_utc(now or clock.now())
    result, seen = TimerRun(), set()
    while result.handled < batch and not should_stop():
        with session_factory() as session:
            claimed = claim_next(session, now=now, policy=policy)
            if claimed is None or claimed[0] in seen:
                session.rollback()  # nothing due, or only what this pass already did: the next pass
                break
            seen.add(claimed[0])
            _fire_one(session, claimed[0], claimed[1], now=now, rules=rules, policy=policy, result=result)
    return result


def _fire_one(session: Session, case_id: str, attempts: int, *, now: datetime, rules: CaseRules,
              policy: RetryPolicy, result: TimerRun) -> None:
    try:
        fired = runtime.fire_timers(session, case_id=case_id, rules=rules, now=now)
        if attempts:  # it failed before and works now: its open incident is settled
            incidents.resolve_open(session, case_id=case_id, kind="timer", by=runtime.TIMER_ACTOR)
        session.commit()
    except CaseBusy:
        session.rollback()
        result.busy.append(case_id)  # someone else is changing it; a later pass takes it
        return
    except Exception as exc:  # noqa: BLE001 - one broken case must not stop the batch
        session.rollback()
        result.failed.append(case_id)
        _record_attempt(session, case_id, exc, now=now, policy=policy, result=result)
        return
    result.fired += fired
    result.cases += 1


def _error_text(exc: Exception) -> str:
    if isinstance(exc, EngineError):
        return exc.message
    return f"unexpected {type(exc).__name__}"  # its text could carry personal data


def _record_attempt(session: Session, case_id: str, exc: Exception, *, now: datetime, policy: RetryPolicy,
                    result: TimerRun) -> None:
    """Count the failed attempt in its own transaction; at the last one, open an incident."""
    message = _error_text(exc)
    try:
        if not claim_case(session, case_id, now=now, policy=policy):
            session.rollback()  # another worker counted this attempt already
            return
        waits = list(session.scalars(select(Wait).where(
            Wait.case_id == case_id, Wait.kind == WaitKind.TIMER, Wait.due_at < now).order_by(Wait.due_at)))
        attempt = max(w.attempts for w in waits) + 1
        for wait in waits:
            wait.attempts, wait.next_attempt_at = attempt, now + policy.delay(attempt)
        if isinstance(exc, ProcessError):
            runtime.record_failure(session, case_id=case_id, error=exc, actor=runtime.TIMER_ACTOR)
        if attempt >= policy.max_attempts:
            incident = incidents.record_incident(session, case_id=case_id, kind="timer",
                                                 element_id=waits[0].element_id, message=message, attempts=attempt)
            result.incidents.append(incident.id)
        session.commit()
    except Exception:
        session.rollback()
        raise
    level = logging.ERROR if attempt >= policy.max_attempts else logging.WARNING
    log.log(level, "timer on case %s failed (attempt %d of %d): %s", case_id, attempt, policy.max_attempts, message,
            extra={"case_id": case_id, "attempt": attempt, "event": "timer_failed"})
