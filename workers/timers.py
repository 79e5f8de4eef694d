"""Fire due timers, one case per transaction."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from engine import clock, runtime
from engine.config import CaseRules
from engine.errors import CaseBusy, EngineError, ProcessError

log = logging.getLogger("tovholder.worker")


@dataclass
class TimerRun:
    fired: int = 0
    cases: int = 0
    failed: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)


def fire_due_timers(session_factory: sessionmaker[Session], *, rules: CaseRules, now=None,
                    batch: int = 100) -> TimerRun:
    """Fire every timer due at `now` (default: the clock), committing per case."""
    now = now or clock.now()
    result = TimerRun()
    with session_factory() as session:
        case_ids = runtime.due_timer_case_ids(session, now=now, limit=batch)
    for case_id in case_ids:
        with session_factory() as session:
            try:
                result.fired += runtime.fire_timers(session, case_id=case_id, rules=rules, now=now)
                session.commit()
                result.cases += 1
            except CaseBusy:
                session.rollback()
                result.busy.append(case_id)  # someone else is changing it; the next pass retries
            except ProcessError as exc:
                session.rollback()
                result.failed.append(case_id)
                runtime.record_failure(session, case_id=case_id, error=exc, actor=runtime.TIMER_ACTOR)
                session.commit()
                log.warning("timer on case %s failed: %s", case_id, exc.message)
            except EngineError as exc:
                session.rollback()
                result.failed.append(case_id)
                log.warning("timer on case %s failed: %s", case_id, exc.message)
            except Exception as exc:  # noqa: BLE001 - one broken case must not stop the batch
                session.rollback()
                result.failed.append(case_id)
                log.error("timer on case %s failed unexpectedly: %s", case_id, type(exc).__name__)
    return result
