"""Migration batches: one plan applied to a list of cases, or to every running case of the source version.

This is the edge of a migration, as a worker's per-item wrapper is the edge of a
timer: the API route (`POST /api/migrations`) and `tovholder migrate` call
`run_batch` with a session factory, and it owns the transactions. Each case gets
a transaction of its own through engine.migration.migrate_case, committed before
the next case begins — or rolled back, in a dry run or when the case is refused.
A batch that stops half way (a crash, a kill) therefore leaves every case either
migrated or untouched, and running it again moves the rest (the migrated ones are
then refused as already on the new version).

A real batch is recorded in `migration_runs` — who, which plan, when, how many
moved, which were refused and why — in short transactions of its own; a dry run
changes nothing and is not recorded.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from . import clock
from .case_rules import CaseRules
from .errors import CaseBusy, EngineError, Invalid
from .migration import MigrationPlan, MigrationRefused, make_plan, migrate_case
from .models import Case, MigrationRun

log = logging.getLogger("tovholder.migration")

MAX_CASE_IDS = 100_000
Progress = Callable[[int, int], None]  # (cases done, cases in the batch)


@dataclass
class BatchResult:
    dry_run: bool
    migrated: list[str] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    run_id: str | None = None

    def as_dict(self) -> dict:
        return {"migrated": self.migrated, "refused": self.refused, "dry_run": self.dry_run}


def running_case_ids(session: Session, plan: MigrationPlan) -> list[str]:
    return list(session.scalars(select(Case.id).where(Case.definition_id == plan.source_id,
                                                      Case.status == "running")
                                .order_by(Case.created_at, Case.id)))


def run_batch(session_factory: sessionmaker[Session], *, process_key: object, from_version: object,
              to_version: object, mapping: object = None, case_ids: object = None, dry_run: object = False,
              actor: str, rules: CaseRules,
              progress: Progress | None = None) -> BatchResult:
    """Check the plan (422/404 for the whole batch), then migrate case by case; one transaction each."""
    if case_ids is not None and (not isinstance(case_ids, list) or len(case_ids) > MAX_CASE_IDS
                                 or not all(isinstance(c, str) and c for c in case_ids)):
        raise Invalid(f"case_ids must be null or a list of at most {MAX_CASE_IDS} case ids",
                      [{"field": "case_ids", "message": "null, or a list of case ids"}])
    if not isinstance(dry_run, bool):
        raise Invalid("dry_run must be true or false", [{"field": "dry_run", "message": "true or false"}])
    with session_factory() as session:
        plan = make_plan(session, process_key=process_key, from_version=from_version, to_version=to_version,
                         mapping=mapping)
        ids = list(dict.fromkeys(case_ids)) if case_ids is not None else running_case_ids(session, plan)
        session.rollback()
    result = BatchResult(dry_run=dry_run)
    if not dry_run:
        result.run_id = _record_start(session_factory, plan, case_ids, actor, len(ids))
    log.info("migration of %d %s case(s) from version %d to %d%s started by %s", len(ids), plan.process_key,
             plan.from_version, plan.to_version, " (dry run)" if dry_run else "", actor)
    for done, case_id in enumerate(ids, 1):
        reason = _migrate_one(session_factory, plan, case_id, actor=actor, rules=rules, dry_run=dry_run)
        if reason is None:
            result.migrated.append(case_id)
        else:
            result.refused.append({"case_id": case_id, "reason": reason})
        if progress is not None:
            progress(done, len(ids))
    if result.run_id is not None:
        _record_end(session_factory, result)
    log.info("migration of %s: %d migrated, %d refused%s", plan.process_key, len(result.migrated),
             len(result.refused), " (dry run)" if dry_run else "")
    return result


def _migrate_one(session_factory: sessionmaker[Session], plan: MigrationPlan, case_id: str, *, actor: str,
                 rules: CaseRules, dry_run: bool) -> str | None:
    """None when the case moved (or, in a dry run, would move); otherwise why not."""
    with session_factory() as session:
        try:
            migrate_case(session, plan=plan, case_id=case_id, actor=actor, rules=rules)
            if dry_run:
                session.rollback()
            else:
                session.commit()
            return None
        except MigrationRefused as exc:
            session.rollback()
            return "; ".join(exc.reasons)
        except CaseBusy:
            session.rollback()
            return "the case was changed by someone else at the same moment; migrate it again"
        except EngineError as exc:  # e.g. NotFound for an id that is no case
            session.rollback()
            return exc.message
        except SQLAlchemyError as exc:
            session.rollback()
            return f"the database refused the change ({type(exc).__name__}); migrate it again"
        except Exception as exc:  # noqa: BLE001 - one case must not stop the batch; nothing was committed
            session.rollback()
            log.error("migrating a case failed unexpectedly: %s", type(exc).__name__)
            return f"the migration failed unexpectedly ({type(exc).__name__}); the case is unchanged"


def _record_start(session_factory: sessionmaker[Session], plan: MigrationPlan, case_ids: list[str] | None, actor: str,
                  count: int) -> str:
    with session_factory() as session:
        run = MigrationRun(process_key=plan.process_key, from_version=plan.from_version, to_version=plan.to_version,
                           mapping=plan.mapping, case_ids=case_ids, actor=actor, started_at=clock.now(),
                           cases=count, migrated=0, refused=[])
        session.add(run)
        session.commit()
        return run.id


def _record_end(session_factory: sessionmaker[Session], result: BatchResult) -> None:
    with session_factory() as session:
        run = session.get_one(MigrationRun, result.run_id)  # _record_start wrote it
        run.finished_at, run.migrated, run.refused = clock.now(), len(result.migrated), result.refused
        session.commit()
