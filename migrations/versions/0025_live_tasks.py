"""The task table's live partition: open and recent tasks apart from ten years' archive (docs/scale.md).

Migration 0024 partitioned `human_tasks` by month of `created_at`. A read that
does not name the month (a task by id, a case's open tasks, the open queue
of the inbox, every ORM UPDATE of a task) is then planned and run against
every month: at ten years' 125 partitions a lookup by id cost 27× the plain
table's and took 878 locks (bench/task_partitions.py, docs/scale.md).

Now `human_tasks` is partitioned by LIST of a new column `archived`:
- `human_tasks_live` (archived = false): every open task, and every task of a
  case that runs or closed less than the archive delay ago: the running work.
- `human_tasks_archive` (archived = true), partitioned by RANGE of
  `created_at` as 0024 made the whole table: `human_tasks_2026_12` … and
  `human_tasks_default` are its partitions now; retention drops them.
The engine's hot reads name `archived = false` and so touch one partition
(engine.models.LIVE_TASK); engine.task_archive moves a closed case's tasks
to the archive later (the worker, hourly). The primary key is
(id, archived, created_at), PostgreSQL's rule for partitioned tables.

The two trigger functions of 0024 stay and change: a deadline notice or
letter looks for its task in the live partition first; deleting a task that
a notice names is still refused, but moving it to the archive (a
cross-partition UPDATE, run as a delete and an insert) is not a deletion.

The upgrade copies the rows into the new table (tasks of cases closed more
than 90 days ago, the default delay, straight into the archive) and builds
the indexes once per partition; the downgrade goes back to 0024's shape. On
SQLite the column is added (and dropped going down), nothing is partitioned.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

from engine import partitions

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

AHEAD = 3
OLD = "human_tasks_before_0025"
ARCHIVE_AFTER_DAYS = 90  # Settings.task_archive_after_days' default; the worker applies the configured one
INDEXES = (
    "CREATE INDEX ix_tasks_inbox ON human_tasks (unit, status, due_at)",
    "CREATE INDEX ix_tasks_assignee ON human_tasks (assignee, status, due_at)",
    "CREATE INDEX ix_tasks_case ON human_tasks (case_id)",
    "CREATE INDEX ix_tasks_completed_at ON human_tasks (completed_at)",
    "CREATE INDEX ix_tasks_open_queue ON human_tasks (unit, (due_at IS NULL), due_at, created_at, id) "
    "WHERE status IN ('open', 'claimed')",
)
REFERRERS = ("task_deadline_notices", "deadline_letters")

FUNCTIONS_0025 = """
CREATE OR REPLACE FUNCTION tovholder_task_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the live partition first: a notice or letter is written for an open task
    PERFORM 1 FROM human_tasks WHERE id = NEW.task_id AND archived = false FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM 1 FROM human_tasks WHERE id = NEW.task_id FOR KEY SHARE;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" violates the task reference: no task %',
            TG_TABLE_NAME, NEW.task_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION tovholder_task_unreferenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- a task moved to the archive (an UPDATE across partitions fires the delete triggers) still exists
    IF EXISTS (SELECT 1 FROM human_tasks WHERE id = OLD.id) THEN
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM task_deadline_notices WHERE task_id = OLD.id)
       OR EXISTS (SELECT 1 FROM deadline_letters WHERE task_id = OLD.id) THEN
        RAISE EXCEPTION 'delete on table "human_tasks" violates the task reference: task % is still named by a '
            'deadline notice or letter', OLD.id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN OLD;
END $$;
"""

FUNCTIONS_0024 = """
CREATE OR REPLACE FUNCTION tovholder_task_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM human_tasks WHERE id = NEW.task_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" violates the task reference: no task %',
            TG_TABLE_NAME, NEW.task_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION tovholder_task_unreferenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM task_deadline_notices WHERE task_id = OLD.id)
       OR EXISTS (SELECT 1 FROM deadline_letters WHERE task_id = OLD.id) THEN
        RAISE EXCEPTION 'delete on table "human_tasks" violates the task reference: task % is still named by a '
            'deadline notice or letter', OLD.id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN OLD;
END $$;
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        # SQLite adds and drops a plain column in place (3.35+): no batch copy of the table, whose
        # expression index (ix_tasks_open_queue) a batch copy could not carry
        op.add_column("human_tasks", sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()))
        return
    if not partitions.is_partitioned(bind, "human_tasks"):  # 0024 left it plain: not a schema this migrates
        raise RuntimeError("human_tasks is not partitioned: migration 0024 has not run on this schema")
    columns = _columns()
    _set_aside()
    op.execute(f"CREATE TABLE human_tasks (LIKE {OLD} INCLUDING DEFAULTS, "
               "archived boolean NOT NULL DEFAULT false, "
               "CONSTRAINT human_tasks_pkey PRIMARY KEY (id, archived, created_at), "
               "CONSTRAINT human_tasks_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id)) "
               "PARTITION BY LIST (archived)")
    op.execute("CREATE TABLE human_tasks_live PARTITION OF human_tasks FOR VALUES IN (false)")
    op.execute("CREATE TABLE human_tasks_archive PARTITION OF human_tasks FOR VALUES IN (true) "
               "PARTITION BY RANGE (created_at)")
    _months("human_tasks_archive")
    listed = ", ".join(f"o.{c}" for c in columns)
    op.execute(f"INSERT INTO human_tasks ({', '.join(columns)}, archived) "
               f"SELECT {listed}, coalesce(c.status IN ('completed', 'cancelled') "
               f"AND c.completed_at < now() - interval '{ARCHIVE_AFTER_DAYS} days', false) "
               f"FROM {OLD} o JOIN cases c ON c.id = o.case_id")
    _finish()
    op.execute(FUNCTIONS_0025)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.execute("ALTER TABLE human_tasks DROP COLUMN archived")
        return
    columns = [c for c in _columns() if c != "archived"]
    _set_aside()
    op.execute(f"CREATE TABLE human_tasks (LIKE {OLD} INCLUDING DEFAULTS, "
               "CONSTRAINT human_tasks_pkey PRIMARY KEY (id, created_at), "
               "CONSTRAINT human_tasks_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id)) "
               "PARTITION BY RANGE (created_at)")
    op.execute("ALTER TABLE human_tasks DROP COLUMN archived")
    _months("human_tasks")
    op.execute(f"INSERT INTO human_tasks ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {OLD}")
    _finish()
    op.execute(FUNCTIONS_0024)


def _columns() -> list[str]:
    rows = op.get_bind().execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'human_tasks' ORDER BY ordinal_position"))
    return [r[0] for r in rows]


def _set_aside() -> None:
    """Rename the table and every partition under it out of the way, so the new ones can have their names."""
    op.execute("DROP TRIGGER IF EXISTS human_tasks_unreferenced ON human_tasks")
    for name in _descendants("human_tasks"):
        op.execute(f"ALTER TABLE {name} RENAME TO {name.replace('human_tasks', 'old0025', 1)}")
    op.execute(f"ALTER TABLE human_tasks RENAME TO {OLD}")
    op.execute(f"ALTER TABLE {OLD} DROP CONSTRAINT human_tasks_pkey")
    for statement in INDEXES:  # index names are the schema's: free them for the new table
        op.execute(f"DROP INDEX IF EXISTS {statement.split()[2]}")


def _descendants(table: str) -> list[str]:
    """Every partition under `table`, at any depth, deepest first."""
    rows = op.get_bind().execute(sa.text(
        "SELECT relid::regclass::text, level FROM pg_partition_tree(CAST(:t AS regclass)) WHERE level > 0 "
        "ORDER BY level DESC"), {"t": table})
    return [r[0].split(".")[-1] for r in rows]


def _months(parent: str) -> None:
    """The month partitions under `parent` for every month holding rows, and this month and the next ones."""
    rows = op.get_bind().execute(sa.text(
        f"SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date FROM {OLD}"))
    months = {r[0] for r in rows} | set(partitions.month_starts(date.today(), AHEAD))
    for first in sorted(months):
        lower, upper = partitions.bounds(first)
        op.execute(f"CREATE TABLE {partitions.partition_name('human_tasks', first)} PARTITION OF {parent} "
                   f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')")
    op.execute(f"CREATE TABLE human_tasks_default PARTITION OF {parent} DEFAULT")


def _finish() -> None:
    op.execute(f"DROP TABLE {OLD}")  # with its partitions
    for statement in INDEXES:  # built once over the copied rows, per partition
        op.execute(statement)
    op.execute("CREATE TRIGGER human_tasks_unreferenced AFTER DELETE ON human_tasks "
               "FOR EACH ROW EXECUTE FUNCTION tovholder_task_unreferenced()")
