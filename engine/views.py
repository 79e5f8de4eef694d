"""Plain-dict views of cases and tasks, shaped as CONTRACT.md says. Read-only.

Which view a user gets is engine.access.case_access's answer: `case_view`
(FULL) or `case_status_view` (STATUS: the Case shape with its contents left
empty, so a client that reads a Case still finds every field).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import cpr as cpr_rules
from .clock import as_utc
from .models import LIVE_TASK, Case, Citizen, HumanTask, User, Wait
from .statuses import OPEN_TASK_STATES


def _iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat() if value is not None else None


def task_view(row: HumanTask) -> dict:
    return {
        "id": row.id, "case_id": row.case_id, "case_number": row.case_number, "process_key": row.process_key,
        "process_version": row.process_version, "element_id": row.element_id, "name": row.name,
        "unit": row.unit, "assignee": row.assignee, "status": row.status, "created_at": _iso(row.created_at),
        "due_at": _iso(row.due_at), "completed_at": _iso(row.completed_at), "completed_by": row.completed_by,
        "form_key": row.form_key, "audience": row.audience,
    }


def wait_view(row: Wait) -> dict:
    return {"element_id": row.element_id, "name": row.name, "kind": row.kind, "message": row.message,
            "due_at": _iso(row.due_at), "unit": row.unit}


def case_view(session: Session, case: Case, *, data: dict | None = None) -> dict:
    """The full Case; `data` replaces the case's data (a unit member's share of it, engine.handover)."""
    citizen = session.get_one(Citizen, case.citizen_id)
    tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, LIVE_TASK, HumanTask.status.in_(OPEN_TASK_STATES))
                            .order_by(HumanTask.created_at, HumanTask.id))
    waits = session.scalars(select(Wait).where(Wait.case_id == case.id).order_by(Wait.due_at, Wait.element_id))
    return {
        "id": case.id, "number": case.number, "process_key": case.process_key, "version": case.version,
        "status": case.status,
        "cpr_masked": cpr_rules.mask(citizen.cpr), "created_at": _iso(case.created_at),
        "completed_at": _iso(case.completed_at), "started_by": case.started_by,
        "cancel_reason": case.cancel_reason,
        "open_tasks": [task_view(t) for t in tasks], "waiting": [wait_view(w) for w in waits],
        "data": (case.data or {}) if data is None else data, "access": "full",
        # engine.case_attributes: the rule set its deadlines follow, the koordinerende sagsbehandler
        "rule_set": case.rule_set, "coordinator": _username(session, case.coordinator_id),
    }


def _username(session: Session, user_id: str | None) -> str | None:
    return session.scalar(select(User.username).where(User.id == user_id)) if user_id else None


def case_status_view(session: Session, case: Case) -> dict:
    """What a starter who takes no part sees: id and status, none of the data, tasks or waits."""
    citizen = session.get_one(Citizen, case.citizen_id)
    return {
        "id": case.id, "number": case.number, "process_key": case.process_key, "version": case.version,
        "status": case.status,
        "cpr_masked": cpr_rules.mask(citizen.cpr), "created_at": _iso(case.created_at),
        "completed_at": _iso(case.completed_at), "open_tasks": [], "waiting": [], "data": {},
        "access": "status", "rule_set": None, "coordinator": None,
    }
