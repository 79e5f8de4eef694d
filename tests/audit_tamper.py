"""Changing the audit trail behind the engine's back, as an attacker with database access could.

The database's own guard (the append-only triggers) is dropped for the one
transaction that tampers: on PostgreSQL with `session_replication_role =
replica` (the test role is a superuser), on SQLite by dropping the triggers
and putting them back. `rewrite_chain` goes further, as someone who also
holds the audit key: it changes an event and hashes the whole chain again.
"""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import select, update

from engine import audit_chain
from engine.models import AuditEvent, Case

EVENTS = AuditEvent.__table__
SQLITE_GUARDS = {action: f"CREATE TRIGGER audit_events_no_{action.lower()} BEFORE {action} ON audit_events "
                         "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
                 for action in ("UPDATE", "DELETE")}


@contextmanager
def unguarded(db):
    with db.engine.begin() as conn:
        if db.is_postgres:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            for action in SQLITE_GUARDS:
                conn.exec_driver_sql(f"DROP TRIGGER audit_events_no_{action.lower()}")
        yield conn
        if not db.is_postgres:
            for ddl in SQLITE_GUARDS.values():
                conn.exec_driver_sql(ddl)


def _at(case_id: str, seq: int):
    return (EVENTS.c.case_id == case_id) & (EVENTS.c.seq == seq)


def change(db, case_id: str, seq: int, **values) -> None:
    with unguarded(db) as conn:
        conn.execute(update(EVENTS).where(_at(case_id, seq)).values(**values))


def remove(db, case_id: str, seq: int) -> None:
    with unguarded(db) as conn:
        conn.execute(EVENTS.delete().where(_at(case_id, seq)))


def insert(db, case_id: str, seq: int) -> None:
    """A made-up event at `seq`; the events from there on move one up, as a forger would have to do."""
    with unguarded(db) as conn:
        later = EVENTS.c.case_id == case_id
        conn.execute(update(EVENTS).where(later, EVENTS.c.seq >= seq).values(seq=EVENTS.c.seq + 100000))
        conn.execute(update(EVENTS).where(later, EVENTS.c.seq >= 100000).values(seq=EVENTS.c.seq - 99999))
        template = conn.execute(select(EVENTS).where(_at(case_id, 1))).mappings().one()
        forged = {**template, "seq": seq, "type": "task_completed", "actor": "mallory",
                  "details": {"data": {"afgoerelse": "bevilget"}}}
        forged["details_digest"] = audit_chain.details_digest(forged["details"])
        forged.pop("id")
        conn.execute(EVENTS.insert().values(**forged))
        conn.execute(update(Case.__table__).where(Case.__table__.c.id == case_id)
                     .values(audit_seq=Case.__table__.c.audit_seq + 1))


def rewrite_chain(db, key: bytes, case_id: str, seq: int, **values) -> None:
    """Change one event and hash the chain again from there with the key: only a checkpoint finds this."""
    change(db, case_id, seq, **values)
    with unguarded(db) as conn:
        previous = audit_chain.GENESIS
        for row in conn.execute(select(EVENTS).where(EVENTS.c.case_id == case_id).order_by(EVENTS.c.seq)).all():
            digest = audit_chain.details_digest(row.details)
            hashed = audit_chain.link(key, previous, case_id=row.case_id, seq=row.seq, at=row.at, type_=row.type,
                                      actor=row.actor, element_id=row.element_id, task_id=row.task_id,
                                      digest=digest)
            conn.execute(update(EVENTS).where(EVENTS.c.id == row.id).values(details_digest=digest, hash=hashed))
            previous = hashed
        conn.execute(update(Case.__table__).where(Case.__table__.c.id == case_id).values(audit_head=previous))
