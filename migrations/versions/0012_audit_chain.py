"""The audit trail as a hash chain per case; when each human task was first taken.

`audit_events` gets `details_digest` (SHA-256 of the details as canonical
JSON) and `hash` (HMAC-SHA256 with the server's audit key over the previous
event's hash and the event's content, engine/audit_chain.py); `cases` gets
`audit_head`, the hash of its last event. Events written before this
revision are hashed here, case by case in seq order, so every chain verifies
from its first event; that needs the audit key (TOVHOLDER_AUDIT_SECRET, or
TOVHOLDER_SECRET_KEY it is derived from) when there are events, and the
upgrade refuses without it. The append-only trigger is lifted for this one
transaction and put back.

`human_tasks.claimed_at` (first claimed or assigned) lets the reports split
waiting from working time; it is filled from the task_claimed and
task_assigned events. `deadline_letters` records the § 3 letter sent (or not)
per decision task whose deadline will not be kept.

The hashing code is repeated here on purpose: a migration must mean the same
thing forever, whatever the engine later does (tests check both agree).

Revision ID: 0012
Revises: 0011
Create Date: 2027-01-15
"""
import hashlib
import hmac
import json
import os
from datetime import timezone

import sqlalchemy as sa
from alembic import context, op

from engine.settings import SettingsError

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
EVENTS = sa.table("audit_events", sa.column("id"), sa.column("case_id"), sa.column("seq"), sa.column("at", TS),
                  sa.column("type"), sa.column("actor"), sa.column("element_id"), sa.column("task_id"),
                  sa.column("details", sa.JSON), sa.column("details_digest"), sa.column("hash"))
DEMO_SECRET_KEY = "demo-only-secret-key-do-not-use-in-production"


def upgrade() -> None:
    bind = op.get_bind()
    # the key first: refused before anything changed (SQLite runs this DDL outside a transaction)
    key = _audit_key() if bind.execute(sa.text("SELECT 1 FROM audit_events LIMIT 1")).first() else None
    op.add_column("cases", sa.Column("audit_head", sa.String(64), nullable=True))
    op.add_column("audit_events", sa.Column("details_digest", sa.String(64), nullable=True))
    op.add_column("audit_events", sa.Column("hash", sa.String(64), nullable=True))
    op.add_column("human_tasks", sa.Column("claimed_at", TS, nullable=True))
    op.create_table(
        "deadline_letters",
        sa.Column("task_id", sa.String(36), sa.ForeignKey("human_tasks.id"), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("outbox_id", sa.String(36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    _fill_claimed_at(bind)
    if key is not None:
        with _audit_writable(bind):
            _hash_chains(bind, key)


def downgrade() -> None:
    op.drop_table("deadline_letters")
    for table, column in (("human_tasks", "claimed_at"), ("audit_events", "hash"),
                          ("audit_events", "details_digest"), ("cases", "audit_head")):
        # a plain DROP COLUMN (SQLite 3.35+): a batch copy would lose audit_events' triggers
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def _audit_key() -> bytes:
    configured = context.config.attributes.get("audit_key") if context.config is not None else None
    if callable(configured):
        configured = configured()
    if configured:
        return configured
    secret = os.environ.get("TOVHOLDER_AUDIT_SECRET")
    if secret:
        return secret.encode("utf-8")
    signing = os.environ.get("TOVHOLDER_SECRET_KEY") or (
        DEMO_SECRET_KEY if os.environ.get("TOVHOLDER_DEMO", "").lower() in ("1", "true", "yes") else None)
    if not signing:
        raise SettingsError("migration 0012 hashes the audit events already stored: set TOVHOLDER_SECRET_KEY "
                           "(or TOVHOLDER_AUDIT_SECRET) as the server has it")
    return hmac.new(signing.encode("utf-8"), b"tovholder audit chain", hashlib.sha256).hexdigest().encode("ascii")


def _fill_claimed_at(bind) -> None:
    first = bind.execute(sa.select(EVENTS.c.task_id, sa.func.min(EVENTS.c.at))
                         .where(EVENTS.c.task_id.is_not(None), EVENTS.c.type.in_(("task_claimed", "task_assigned")))
                         .group_by(EVENTS.c.task_id)).all()
    tasks = sa.table("human_tasks", sa.column("id"), sa.column("claimed_at", TS))
    update = tasks.update().where(tasks.c.id == sa.bindparam("task")).values(claimed_at=sa.bindparam("at"))
    for start in range(0, len(first), 1000):
        bind.execute(update, [{"task": task_id, "at": at} for task_id, at in first[start:start + 1000]])


class _audit_writable:
    """The append-only trigger off for this transaction's backfill, and on again."""

    def __init__(self, bind):
        self.bind, self.postgres = bind, bind.dialect.name == "postgresql"

    def __enter__(self):
        if self.postgres:
            self.bind.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        else:
            self.bind.execute(sa.text("DROP TRIGGER audit_events_no_update"))

    def __exit__(self, *exc):
        if self.postgres:
            self.bind.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
        else:  # as revision 0001 made it
            self.bind.execute(sa.text("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                                      "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"))
        return False


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _link(key: bytes, previous: str, case_id, seq, at, type_, actor, element_id, task_id, digest) -> str:
    at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
    content = _canonical(["v1", case_id, seq, at.isoformat(timespec="microseconds"), type_, actor, element_id,
                          task_id, digest])
    return hmac.new(key, previous.encode("ascii") + b"\n" + content, hashlib.sha256).hexdigest()


def _hash_chains(bind, key: bytes) -> None:
    events = EVENTS
    cases = sa.table("cases", sa.column("id"), sa.column("audit_head"))
    set_event = events.update().where(events.c.id == sa.bindparam("event")).values(
        details_digest=sa.bindparam("digest"), hash=sa.bindparam("hashed"))
    set_head = cases.update().where(cases.c.id == sa.bindparam("case")).values(audit_head=sa.bindparam("head"))
    case_ids = [row[0] for row in bind.execute(sa.text("SELECT DISTINCT case_id FROM audit_events ORDER BY case_id"))]
    for start in range(0, len(case_ids), 200):
        chunk = case_ids[start:start + 200]
        rows = bind.execute(sa.select(events.c.id, events.c.case_id, events.c.seq, events.c.at, events.c.type,
                                      events.c.actor, events.c.element_id, events.c.task_id, events.c.details)
                            .where(events.c.case_id.in_(chunk))
                            .order_by(events.c.case_id, events.c.seq, events.c.id)).all()
        updates, heads, previous, current = [], {}, "", None
        for row in rows:
            if row.case_id != current:
                current, previous = row.case_id, ""
            digest = hashlib.sha256(_canonical(row.details or {})).hexdigest()
            previous = _link(key, previous, row.case_id, row.seq, row.at, row.type, row.actor, row.element_id,
                             row.task_id, digest)
            updates.append({"event": row.id, "digest": digest, "hashed": previous})
            heads[row.case_id] = previous
        for first in range(0, len(updates), 1000):
            bind.execute(set_event, updates[first:first + 1000])
        bind.execute(set_head, [{"case": case_id, "head": head} for case_id, head in heads.items()])
