"""Deploy history and where each version's running cases stand now.

`version_detail` answers GET /api/process-definitions/{key}/versions/{version};
`list_versions` is `tovholder versions KEY`; `case_positions` and `standing`
tell, per element, which running cases of a version stand there. Positions
come from the read-model rows the mutation path keeps (open human tasks,
waits for timers and messages, service tasks not yet done), never from
loading workflow states, so they are cheap for thousands of cases. A case
inside a call activity stands on the called process's elements (their rows
carry the inner element ids).

Read-only: nothing here flushes or commits.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Subquery, func, select, union_all
from sqlalchemy.orm import Session

from . import bundles
from .catalog import get_definition
from .clock import as_utc
from .errors import NotFound
from .models import LIVE_TASK, Case, HumanTask, ProcessDefinition, ServiceTask, Wait
from .statuses import OPEN_TASK_STATES

SERVICE_WAITING = ("open", "locked", "failed")  # a failed service task still holds its case (an incident)


@dataclass(frozen=True)
class Standing:
    element_id: str
    name: str
    cases: int

    def as_dict(self) -> dict:
        return {"element_id": self.element_id, "name": self.name, "cases": self.cases}


@dataclass(frozen=True)
class VersionDetail:
    key: str
    version: int
    name: str
    hash: str
    deployed_at: datetime
    deployed_by: str | None
    source_file: str
    forms: list[str]
    calls: list[str]
    running_cases: int
    waiting_at: list[Standing]

    def as_dict(self) -> dict:
        return {"key": self.key, "version": self.version, "name": self.name, "hash": self.hash,
                "deployed_at": self.deployed_at.isoformat(), "deployed_by": self.deployed_by, "source_file": self.source_file,
                "forms": self.forms, "calls": self.calls, "running_cases": self.running_cases,
                "waiting_at": [s.as_dict() for s in self.waiting_at]}


@dataclass(frozen=True)
class VersionSummary:
    version: int
    hash: str
    deployed_at: datetime
    deployed_by: str | None
    running_cases: int

    def as_dict(self) -> dict:
        return {"version": self.version, "hash": self.hash, "deployed_at": self.deployed_at.isoformat(),
                "deployed_by": self.deployed_by, "running_cases": self.running_cases}


def _positions_query(definition_id: str) -> Subquery:
    running = select(Case.id).where(Case.definition_id == definition_id, Case.status == "running")
    tasks = select(HumanTask.case_id.label("case_id"), HumanTask.element_id.label("element_id"),
                   HumanTask.name.label("name")).where(LIVE_TASK, HumanTask.status.in_(OPEN_TASK_STATES),
                                                       HumanTask.case_id.in_(running))
    waits = select(Wait.case_id, Wait.element_id, Wait.name).where(Wait.case_id.in_(running))
    services = select(ServiceTask.case_id, ServiceTask.element_id, ServiceTask.name).where(
        ServiceTask.status.in_(SERVICE_WAITING), ServiceTask.case_id.in_(running))
    return union_all(tasks, waits, services).subquery()


def case_positions(session: Session, definition_id: str) -> dict[str, set[str]]:
    """{element_id: {case_id, ...}} for the running cases of one version (definition row id)."""
    rows = _positions_query(definition_id)
    found: dict[str, set[str]] = defaultdict(set)
    for case_id, element_id in session.execute(select(rows.c.case_id, rows.c.element_id).distinct()):
        found[element_id].add(case_id)
    return dict(found)


def standing(session: Session, definition_id: str) -> list[Standing]:
    """Where the version's running cases stand: per element, how many; most cases first."""
    rows = _positions_query(definition_id)
    query = (select(rows.c.element_id, func.max(rows.c.name), func.count(func.distinct(rows.c.case_id)))
             .group_by(rows.c.element_id))
    found = [Standing(element_id, name or element_id, count) for element_id, name, count in session.execute(query)]
    return sorted(found, key=lambda s: (-s.cases, s.element_id))


def running_cases(session: Session, definition_id: str) -> int:
    return session.scalar(select(func.count(Case.id)).where(Case.definition_id == definition_id,
                                                             Case.status == "running")) or 0


def version_detail(session: Session, key: str, version: int) -> VersionDetail:
    row = get_definition(session, key, version)
    return VersionDetail(
        key=row.key, version=row.version, name=row.name, hash=row.hash, deployed_at=as_utc(row.created_at),
        deployed_by=row.deployed_by, source_file=row.source_file, forms=bundles.form_keys(session, row.id),
        calls=list(row.calls or []), running_cases=running_cases(session, row.id),
        waiting_at=standing(session, row.id))


def list_versions(session: Session, key: str) -> list[VersionSummary]:
    """Every version of a key, oldest first, with its running cases; NotFound for an unknown key."""
    counts = dict(session.execute(
        select(Case.definition_id, func.count(Case.id)).where(Case.process_key == key, Case.status == "running")
        .group_by(Case.definition_id)).all())
    rows = session.execute(select(ProcessDefinition.id, ProcessDefinition.version, ProcessDefinition.hash,
                                  ProcessDefinition.created_at, ProcessDefinition.deployed_by)
                           .where(ProcessDefinition.key == key).order_by(ProcessDefinition.version)).all()
    if not rows:
        raise NotFound(f"process '{key}' is not deployed")
    return [VersionSummary(version, hash_, as_utc(at), by, counts.get(definition_id, 0))
            for definition_id, version, hash_, at, by in rows]

