"""Building due timers for the worker tests, fast.

`start_waiting` starts cases through the engine (the real path). For the
thousands of cases the process tests need, `clone_case` starts one case through
the engine and copies its rows (case, timer wait, audit events) with bulk
INSERTs: starting 10,000 cases through SpiffWorkflow takes minutes on two
cores, and a copy of a case waiting at a timer is exactly what the engine would
have written (the tiny `vent` process has no human tasks, whose ids are the
workflow's own task ids and so could not be copied).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from engine import clock
from engine.models import AuditEvent, Case, Wait, new_id
from tests import factories as f

DATA = Path(__file__).resolve().parent / "data"


def deploy(session) -> None:
    f.deploy_files(session, DATA / "vent.bpmn", DATA / "vent_fejl.bpmn")


def start_waiting(session, process_key: str = "vent", *, at: datetime, data=None) -> Case:
    """A case waiting at its one-hour timer, started at `at` (so due at `at` + 1 hour)."""
    with clock.at(at):
        return f.start_case(session, process_key, data=data or {})


def clone_case(session, template: Case, count: int, *, chunk: int = 2000) -> list[str]:
    """`count` copies of a case waiting at a timer; returns their ids."""
    case_row = {c.key: getattr(template, c.key) for c in Case.__table__.columns}
    waits = [{c.key: getattr(w, c.key) for c in Wait.__table__.columns}
             for w in session.scalars(select(Wait).where(Wait.case_id == template.id))]
    events = [{c.key: getattr(e, c.key) for c in AuditEvent.__table__.columns if c.key != "id"}
              for e in session.scalars(select(AuditEvent).where(AuditEvent.case_id == template.id))]
    ids = [new_id() for _ in range(count)]
    for start in range(0, count, chunk):
        part = ids[start:start + chunk]
        session.execute(insert(Case), [{**case_row, "id": i, "number": None} for i in part])  # numbers are unique
        session.execute(insert(Wait), [{**w, "id": new_id(), "case_id": i} for i in part for w in waits])
        session.execute(insert(AuditEvent), [{**e, "case_id": i} for i in part for e in events])
    session.commit()
    return ids


def fired_per_case(session) -> dict[str, int]:
    rows = session.execute(select(AuditEvent.case_id, func.count()).where(AuditEvent.type == "timer_fired")
                           .group_by(AuditEvent.case_id))
    return {case_id: n for case_id, n in rows}


def due_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Wait).where(Wait.kind == "timer")) or 0


HOUR = timedelta(hours=1)
