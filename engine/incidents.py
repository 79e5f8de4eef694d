"""Incidents: background work that failed after its retries and now waits for an admin.

A timer, a service task or an external task that keeps failing is not left
silently stuck: the worker records an incident (listed by the API, and an
"incident" event in the case's audit), stops retrying that work, and an
admin's retry re-arms it through the handler registered for its kind.

Transaction rule: functions here only flush; the worker item or the route
commits. Recording and retrying lock the case (engine.locking) because they
write its audit trail.

Retry handlers: `RETRY_HANDLERS[kind] = fn(session, incident)` re-arms the
failed work (e.g. resets a timer's attempts). Modules register theirs at
import with `@retry_handler("kind")`; the engine modules named in
HANDLER_MODULES are imported before a retry so the API process knows them
too, not only the worker.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from . import audit, clock
from .access import READ_ALL, require_role
from .accounts import UserView
from .errors import Conflict, Invalid, NotFound
from .locking import lock_case
from .logs import mask_cpr
from .models import Incident, Wait
from .statuses import IncidentStatus, WaitKind

OPEN, RESOLVED = IncidentStatus.OPEN, IncidentStatus.RESOLVED
STATUSES = (OPEN, RESOLVED, "all")
MAX_MESSAGE = 2000
# the engine modules that register retry handlers, imported on the first retry so that the API process
# (which never imports the worker's modules) knows them too
HANDLER_MODULES = ("engine.outbox", "engine.service_tasks")

RetryHandler = Callable[[Session, Incident], None]
RETRY_HANDLERS: dict[str, RetryHandler] = {}


def retry_handler(kind: str) -> Callable[[RetryHandler], RetryHandler]:
    def register(fn: RetryHandler) -> RetryHandler:
        RETRY_HANDLERS[kind] = fn
        return fn
    return register


@dataclass(frozen=True)
class IncidentView:
    id: str
    case_id: str | None
    kind: str
    element_id: str | None
    ref: str | None
    message: str
    attempts: int
    status: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None

    @classmethod
    def of(cls, row: Incident) -> "IncidentView":
        return cls(row.id, row.case_id, row.kind, row.element_id, row.ref, row.message, row.attempts, row.status,
                   clock.as_utc(row.created_at), clock.as_utc(row.resolved_at), row.resolved_by)

    def as_dict(self) -> dict:
        return {
            "id": self.id, "case_id": self.case_id, "kind": self.kind, "element_id": self.element_id,
            "ref": self.ref, "message": self.message, "attempts": self.attempts, "status": self.status,
            "created_at": self.created_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "resolved_by": self.resolved_by,
        }


def clean_message(message: object) -> str:
    """Error text only, and never a CPR number (an error may quote case data)."""
    text = mask_cpr(str(message or "failed")).strip() or "failed"
    return text[:MAX_MESSAGE]


def record_incident(session: Session, *, case_id: str | None, kind: str, element_id: str | None, message: object,
                    attempts: int, ref: str | None = None) -> IncidentView:
    """Open an incident (or update the open one for the same work) and audit it on the case."""
    text = clean_message(message)
    row = session.scalar(select(Incident).where(
        Incident.status == OPEN, Incident.kind == kind, _same(Incident.case_id, case_id),
        _same(Incident.element_id, element_id), _same(Incident.ref, ref)).limit(1))
    if row is None:
        row = Incident(case_id=case_id, kind=kind, element_id=element_id, ref=ref, message=text,
                       attempts=attempts, status=OPEN, created_at=clock.now())
        session.add(row)
    else:
        row.message, row.attempts = text, attempts
    session.flush()
    if case_id is not None:
        case = lock_case(session, case_id)
        audit.record(session, case, "incident", actor="system:worker", element_id=element_id,
                     details={"incident_id": row.id, "kind": kind, "attempts": attempts, "message": text})
        session.flush()
    return IncidentView.of(row)


def _same(column: InstrumentedAttribute, value: object) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def list_incidents(session: Session, *, user: UserView, status: str = OPEN, limit: int = 50,
                   offset: int = 0) -> list[IncidentView]:
    require_role(user, READ_ALL, "list incidents")
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}")
    query = select(Incident).order_by(Incident.created_at.desc(), Incident.id)
    if status != "all":
        query = query.where(Incident.status == status)
    return [IncidentView.of(r) for r in session.scalars(query.limit(limit).offset(offset))]


def count_open(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Incident).where(Incident.status == OPEN)) or 0


def retry_incident(session: Session, *, incident_id: str, user: UserView) -> IncidentView:
    """An admin re-arms the failed work; the incident is resolved (a new one opens if it fails again)."""
    require_role(user, ("admin",), "retry incidents")
    row = session.get(Incident, incident_id) if isinstance(incident_id, str) and len(incident_id) <= 36 else None
    if row is None:
        raise NotFound(f"incident {incident_id} not found")
    if row.status != OPEN:
        raise Conflict(f"incident {incident_id} is already {row.status}")
    handler = _handler(row.kind)
    case = lock_case(session, row.case_id) if row.case_id is not None else None
    session.refresh(row)  # another admin may have retried it while we waited for the lock
    if row.status != OPEN:
        raise Conflict(f"incident {incident_id} is already {row.status}")
    handler(session, row)
    row.status, row.resolved_at, row.resolved_by = RESOLVED, clock.now(), user.username
    if case is not None:
        audit.record(session, case, "incident_retried", actor=user.username, element_id=row.element_id,
                     details={"incident_id": row.id, "kind": row.kind})
    session.flush()
    return IncidentView.of(row)


def resolve_open(session: Session, *, case_id: str, kind: str, by: str) -> int:
    """Close the open incidents of this kind on a case whose work has now succeeded."""
    result = session.execute(update(Incident).where(
        Incident.case_id == case_id, Incident.kind == kind, Incident.status == OPEN)
        .values(status=RESOLVED, resolved_at=clock.now(), resolved_by=by).execution_options(synchronize_session=False))
    return result.rowcount or 0  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def _handler(kind: str) -> RetryHandler:
    if kind not in RETRY_HANDLERS:
        for name in HANDLER_MODULES:
            importlib.import_module(name)
    handler = RETRY_HANDLERS.get(kind)
    if handler is None:
        raise Conflict(f"incidents of kind '{kind}' cannot be retried here")
    return handler


@retry_handler("timer")
def _retry_timer(session: Session, incident: Incident) -> None:
    """The case's timers get a fresh set of attempts; the worker's next pass takes them."""
    session.execute(update(Wait).where(Wait.case_id == incident.case_id, Wait.kind == WaitKind.TIMER)
                    .values(attempts=0, next_attempt_at=None).execution_options(synchronize_session=False))
