"""Every stored row of a case, column by column: to prove a refused or crashed migration left a case as it was."""
from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent, Case, HumanTask, ServiceTask, TaskDeadlineNotice, Wait

TABLES = (HumanTask, Wait, ServiceTask, AuditEvent, TaskDeadlineNotice)


def case_rows(session, case_id: str) -> dict:
    """{table: [row as a tuple of every column]} for the case row and every row that belongs to it."""
    session.expire_all()
    snapshot = {"cases": _rows(session, Case, Case.id == case_id)}
    for model in TABLES:
        snapshot[model.__tablename__] = _rows(session, model, model.case_id == case_id)
    return snapshot


def _rows(session, model, condition) -> list[tuple]:
    columns = list(model.__table__.columns)
    order = [c for c in columns if c.primary_key]
    return [tuple(row) for row in session.execute(select(*columns).where(condition).order_by(*order))]
