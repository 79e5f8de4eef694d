"""Append-only audit events with a per-case sequence number, each sealed into the case's hash chain.

`record` must be called while the case is locked (engine.locking), which is
what makes `seq` strictly increasing without gaps and keeps the chain
(engine.audit_chain) from forking; it only adds rows, in the caller's
transaction.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit_chain, clock
from .json_data import to_plain_json
from .models import AuditEvent, Case, CaseAccess


def record(session: Session, case: Case, type_: str, *, actor: str | None, element_id: str | None = None,
           task_id: str | None = None, details: dict | None = None, cause: str | None = None) -> AuditEvent:
    """`cause`: for a step the system ran, the person whose action led to it (details.cause)."""
    if cause:
        details = {**(details or {}), "cause": cause}
    case.audit_seq = (case.audit_seq or 0) + 1
    event = AuditEvent(case_id=case.id, seq=case.audit_seq, at=clock.now(), type=type_, actor=actor,
                       element_id=element_id, task_id=task_id, details=to_plain_json(details or {}))
    audit_chain.seal(session, case, event)
    session.add(event)
    return event


def events(session: Session, case_id: str, *, limit: int | None = None, offset: int = 0) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq).offset(offset)
    return list(session.scalars(query if limit is None else query.limit(limit)))


def log_access(session: Session, case_id: str, actor: str, action: str) -> None:
    """Reading a case is traced too (who looked at which citizen's case)."""
    session.add(CaseAccess(case_id=case_id, actor=actor, at=clock.now(), action=action))


def access_log(session: Session, case_id: str, *, limit: int | None = None, offset: int = 0,
               newest_first: bool = False) -> list[CaseAccess]:
    """Who read the case, oldest first (the order a later read never shifts; the page shows the newest first)."""
    order = (CaseAccess.at.desc(), CaseAccess.id.desc()) if newest_first else (CaseAccess.at, CaseAccess.id)
    query = select(CaseAccess).where(CaseAccess.case_id == case_id).order_by(*order).offset(offset)
    return list(session.scalars(query if limit is None else query.limit(limit)))


def access_view(entry: CaseAccess) -> dict:
    return {"at": clock.as_utc(entry.at).isoformat(), "username": entry.actor, "what": entry.action}


def event_view(event: AuditEvent) -> dict:
    return {
        "seq": event.seq, "at": clock.as_utc(event.at).isoformat(), "type": event.type, "actor": event.actor,
        "element_id": event.element_id, "task_id": event.task_id, "details": event.details or {},
    }
