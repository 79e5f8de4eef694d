"""PostgreSQL: the audit trail and the access log partitioned by month (docs/scale.md, "Partitioning").

`audit_events` and `case_access_log` are append-only and read by case or by
period; at the national volume they hold a billion rows each over ten years.
On PostgreSQL each becomes a table partitioned by range of `at`, with one
partition per calendar month (UTC) — `audit_events_2026_12` … — and a DEFAULT
partition so that an insert never fails when no month partition is there.
The migration creates a partition for every month that holds rows and for
this month and the next three; the worker creates the following months ahead
(engine.partitions, run once an hour).

What changes with it, because PostgreSQL requires every unique constraint of
a partitioned table to include the partition key:
- the primary keys become (id, at); ids still come from the same sequence;
- `uq_audit_case_seq` becomes (case_id, seq, at). The order of a case's
  events stays unique because every write takes the case's row lock first
  (engine/locking.py), a writer that skips it fails on the case row's update,
  which is conditional on the audit_seq it read (engine/models.py,
  `version_id_col`), and `tovholder audit verify` breaks at a repeated or
  missing seq.
The append-only trigger is created on the partitioned table, so it holds in
every partition, including ones created later.

Rows are copied over in the migration's transaction: about a minute per 10
million events on the bench machine's disks; plan the upgrade accordingly.
SQLite (development, small trials) is left as it is.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-02
"""
from datetime import date, datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

AHEAD = 3  # months created beyond the current one (the worker keeps this up)

AUDIT_COLUMNS = ("id bigint NOT NULL DEFAULT nextval('audit_events_id_seq'::regclass), "
                 "case_id varchar(36) NOT NULL REFERENCES cases(id), seq integer NOT NULL, "
                 "at timestamptz NOT NULL, type varchar(64) NOT NULL, actor varchar(100), "
                 "element_id varchar(200), task_id varchar(36), details json NOT NULL, "
                 "details_digest varchar(64), hash varchar(64)")
ACCESS_COLUMNS = ("id bigint NOT NULL DEFAULT nextval('case_access_log_id_seq'::regclass), "
                  "case_id varchar(36) NOT NULL, actor varchar(100) NOT NULL, at timestamptz NOT NULL, "
                  "action varchar(64) NOT NULL")
COLUMN_NAMES = {
    "audit_events": "id, case_id, seq, at, type, actor, element_id, task_id, details, details_digest, hash",
    "case_access_log": "id, case_id, actor, at, action",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _rebuild("audit_events", partitioned=True)
    _rebuild("case_access_log", partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _rebuild("audit_events", partitioned=False)
    _rebuild("case_access_log", partitioned=False)


def _rebuild(table: str, *, partitioned: bool) -> None:
    """Create the table afresh (partitioned or plain), copy the rows over, drop the old one."""
    old = f"{table}_before_0022"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    for name in _constraint_and_index_names(table):
        op.execute(f"ALTER TABLE {old} DROP CONSTRAINT IF EXISTS {name}")
        op.execute(f"DROP INDEX IF EXISTS {name}")
    if table == "audit_events":
        op.execute(f"DROP TRIGGER IF EXISTS audit_events_append_only ON {old}")
    columns = AUDIT_COLUMNS if table == "audit_events" else ACCESS_COLUMNS
    key = "id, at" if partitioned else "id"
    tail = " PARTITION BY RANGE (at)" if partitioned else ""
    op.execute(f"CREATE TABLE {table} ({columns}, CONSTRAINT {table}_pkey PRIMARY KEY ({key})){tail}")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    if partitioned:
        months = _months_with_rows(old) | _months_from(date.today().replace(day=1), AHEAD + 1)
        for first in sorted(months):
            _create_month(table, first)
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    if table == "audit_events":
        unique = "case_id, seq, at" if partitioned else "case_id, seq"
        op.execute(f"ALTER TABLE audit_events ADD CONSTRAINT uq_audit_case_seq UNIQUE ({unique})")
        op.execute("CREATE INDEX ix_audit_case_completed ON audit_events (case_id) WHERE type = 'case_completed'")
    else:
        op.execute("CREATE INDEX ix_case_access_case ON case_access_log (case_id, at)")
    names = COLUMN_NAMES[table]
    op.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {old}")
    op.execute(f"DROP TABLE {old}")
    if table == "audit_events":
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION tovholder_audit_append_only()")


def _constraint_and_index_names(table: str) -> list[str]:
    if table == "audit_events":
        return ["audit_events_pkey", "uq_audit_case_seq", "audit_events_case_id_fkey", "ix_audit_case_completed"]
    return ["case_access_log_pkey", "ix_case_access_case"]


def _months_with_rows(table: str) -> set[date]:
    rows = op.get_bind().execute(sa.text(
        f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')::date FROM {table}"))
    return {r[0] for r in rows}


def _months_from(first: date, count: int) -> set[date]:
    out, year, month = set(), first.year, first.month
    for _ in range(count):
        out.add(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _create_month(table: str, first: date) -> None:
    nxt = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    lower = datetime(first.year, first.month, 1, tzinfo=timezone.utc).isoformat()
    upper = datetime(nxt.year, nxt.month, 1, tzinfo=timezone.utc).isoformat()
    op.execute(f"CREATE TABLE {table}_{first:%Y_%m} PARTITION OF {table} FOR VALUES FROM ('{lower}') TO ('{upper}')")
