"""The task archive: a closed case's tasks leave the live partition some time after the case closed.

Role: on PostgreSQL `human_tasks` is partitioned by LIST of `archived`
(migration 0025): `human_tasks_live` holds every open task and every task of
a case that runs or closed less than `Settings.task_archive_after_days` ago;
`human_tasks_archive`, itself partitioned by month of `created_at` (0024),
holds the rest, which is almost all of ten years' 200 million rows. The hot
reads name the live partition (engine.models.LIVE_TASK) and every ORM
UPDATE or DELETE of a task says `archived = false` (the mapper's version
column), so they stay on a table the size of the running work however many
months the archive holds (docs/scale.md, measured). `archive_closed` moves the
tasks of cases closed before the cut-off, in batches, with plain SQL:
PostgreSQL moves each row to its month partition (a cross-partition UPDATE).
On SQLite nothing is partitioned and the flag is set all the same, so both
databases answer alike.

A task that stays live where it could be archived costs nothing but a
slightly larger live partition; an archived task is still found by id
(engine.inbox.get_task looks in the archive when the live partition does
not have it) and by case. The report rollup does not move (it counts
statuses and times, which archiving does not change; the plain UPDATE is not
seen by its flush listener).

Transaction rule: the caller's connection; each batch is one statement, and
the caller commits (the worker's hourly partitions job, one transaction).
A case closed is never reopened (engine.runtime: completed and cancelled are
final), so no task of a running case is archived, and no new task can
collide with an archived id the engine would not see (engine.projections
checks new ids against the live partition).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, select, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from .models import LIVE_TASK, Case, HumanTask
from .statuses import CaseStatus

BATCH = 5_000  # rows per statement: a short lock on each, and a short WAL burst
MAX_BATCHES = 20  # per pass (an hour): 100,000 tasks, some thirty times a country's hourly closings


@dataclass
class Archived:
    tasks: int = 0
    more: bool = False  # stopped at MAX_BATCHES with tasks left: the next pass goes on


def cut_off(now: datetime, after_days: int) -> datetime:
    return now - timedelta(days=after_days)


def _due(before: datetime) -> Select[str]:
    """Live tasks whose case closed before the cut-off, a batch of them."""
    closed = select(Case.id).where(Case.status.in_((CaseStatus.COMPLETED, CaseStatus.CANCELLED)),
                                   Case.completed_at < before)
    return (select(HumanTask.id).where(LIVE_TASK, HumanTask.case_id.in_(closed))
            .limit(BATCH))


def archive_closed(conn: Connection, *, now: datetime, after_days: int, max_batches: int = MAX_BATCHES) -> Archived:
    """Mark the tasks of cases closed more than `after_days` before `now` archived, a batch at a time."""
    done = Archived()
    before = cut_off(now, after_days)
    for _ in range(max_batches):
        ids = list(conn.execute(_due(before)).scalars())
        if not ids:
            return done
        # a Core UPDATE of the mapped table (not the ORM's bulk update): no session, no version check, and
        # the report rollup's flush listener does not see it (archiving changes no figure)
        moved = conn.execute(update(HumanTask.__table__).where(  # type: ignore[arg-type]
            and_(HumanTask.id.in_(ids), LIVE_TASK)).values(archived=true()))
        done.tasks += moved.rowcount
    done.more = bool(conn.execute(_due(before).limit(1)).first())
    return done


def find_task(session: Session, task_id: object, *, live_only: bool = False) -> HumanTask | None:
    """The task with this id: from the session if it holds it, else the live partition, else (unless
    `live_only`) the archive. Each query names the partition it needs, so a lookup of a live task reads one
    partition however large the archive is (session.get would ask every partition)."""
    if not isinstance(task_id, str) or len(task_id) > 36:
        return None
    held = session.identity_map.get(identity_key(HumanTask, task_id))
    if isinstance(held, HumanTask):
        return None if live_only and held.archived else held
    row = session.scalars(select(HumanTask).where(HumanTask.id == task_id, LIVE_TASK)).first()
    if row is None and not live_only:
        row = session.scalars(select(HumanTask).where(HumanTask.id == task_id, HumanTask.archived == true())).first()
    return row


def reload_task(session: Session, row: HumanTask) -> None:
    """Read the row again from the database (after the case lock), from its own partition; session.refresh
    would ask every partition by id alone."""
    session.execute(select(HumanTask).where(HumanTask.id == row.id, HumanTask.archived == row.archived)
                    .execution_options(populate_existing=True)).first()
