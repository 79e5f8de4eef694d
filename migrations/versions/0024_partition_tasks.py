"""PostgreSQL: the task table partitioned by month of creation (docs/scale.md, "Partitioning").

`human_tasks` holds 200 million rows over ten years at the national volume,
almost all of them closed. On PostgreSQL it becomes a table partitioned by
range of `created_at`, one partition per calendar month (UTC) —
`human_tasks_2026_12` … — plus a DEFAULT partition, as migration 0022 did for
the audit trail; the worker creates the coming months (engine.partitions).

Why `created_at`: it is set once, when the engine makes the task
(engine.projections), and never changed, so no UPDATE (claim, complete, a
deadline moved by a case migration) moves a row between partitions, and a
month's partition holds the tasks begun in that month, which is what the
retention of closed cases drops (docs/scale.md, "Retention and erasure").
`due_at` and `completed_at` change or are empty while a task is open.

What changes with it, because PostgreSQL requires every unique constraint of
a partitioned table to include the partition key:
- the primary key becomes (id, created_at). The id is still the SpiffWorkflow
  task's UUID, looked up alone (engine.inbox.get_task): the key's index
  starts with it, so a lookup is one index probe per partition (what that
  costs at ten years' partitions: docs/scale.md, measured). Two rows with
  one id are not refused by the database any more; the engine never inserts a
  task id that exists (engine.projections reads it first, under the case lock).
- `task_deadline_notices.task_id` and `deadline_letters.task_id` can no longer
  be foreign keys (they would have to name the whole key, (id, created_at),
  and carry the task's created_at). Two triggers take their place: an insert
  or a change of task_id must name a task that exists (locked FOR KEY SHARE
  as a foreign key does), and deleting a task that a notice or letter still
  names is refused — both raise SQLSTATE 23503 (foreign_key_violation), which
  the application sees as the same IntegrityError. Dropping a whole month's
  partition skips row triggers: retention deletes a case's notices and
  letters first (docs/scale.md). SQLite keeps its foreign keys.

Rows are copied over in the migration's transaction, then the indexes are
built once per partition. The downgrade turns the table back into a plain one
and restores the two foreign keys; every row is kept both ways.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

from engine import partitions

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

AHEAD = 3  # months created beyond the current one (the worker keeps this up)
OLD = "human_tasks_before_0024"
INDEXES = (
    "CREATE INDEX ix_tasks_inbox ON human_tasks (unit, status, due_at)",
    "CREATE INDEX ix_tasks_assignee ON human_tasks (assignee, status, due_at)",
    "CREATE INDEX ix_tasks_case ON human_tasks (case_id)",
    "CREATE INDEX ix_tasks_completed_at ON human_tasks (completed_at)",
    "CREATE INDEX ix_tasks_open_queue ON human_tasks (unit, (due_at IS NULL), due_at, created_at, id) "
    "WHERE status IN ('open', 'claimed')",
)
REFERRERS = ("task_deadline_notices", "deadline_letters")  # task_id → human_tasks.id

TRIGGER_FUNCTIONS = """
CREATE FUNCTION tovholder_task_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM human_tasks WHERE id = NEW.task_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" violates the task reference: no task %',
            TG_TABLE_NAME, NEW.task_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE FUNCTION tovholder_task_unreferenced() RETURNS trigger LANGUAGE plpgsql AS $$
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
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in REFERRERS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_task_id_fkey")
    _rebuild(partitioned=True)
    op.execute(TRIGGER_FUNCTIONS)
    for table in REFERRERS:
        op.execute(f"CREATE TRIGGER {table}_task_exists BEFORE INSERT OR UPDATE OF task_id ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION tovholder_task_exists()")
    op.execute("CREATE TRIGGER human_tasks_unreferenced AFTER DELETE ON human_tasks "
               "FOR EACH ROW EXECUTE FUNCTION tovholder_task_unreferenced()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in REFERRERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_task_exists ON {table}")
    op.execute("DROP TRIGGER IF EXISTS human_tasks_unreferenced ON human_tasks")
    op.execute("DROP FUNCTION IF EXISTS tovholder_task_exists()")
    op.execute("DROP FUNCTION IF EXISTS tovholder_task_unreferenced()")
    _rebuild(partitioned=False)
    for table in REFERRERS:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_task_id_fkey "
                   "FOREIGN KEY (task_id) REFERENCES human_tasks (id)")


def _rebuild(*, partitioned: bool) -> None:
    """Create human_tasks afresh (partitioned or plain) with the same columns, copy the rows, drop the old one."""
    op.execute(f"ALTER TABLE human_tasks RENAME TO {OLD}")
    op.execute(f"ALTER TABLE {OLD} DROP CONSTRAINT human_tasks_pkey")
    for statement in INDEXES:  # index names are the schema's: free them for the new table
        op.execute(f"DROP INDEX IF EXISTS {statement.split()[2]}")
    key = "id, created_at" if partitioned else "id"
    tail = " PARTITION BY RANGE (created_at)" if partitioned else ""
    op.execute(f"CREATE TABLE human_tasks (LIKE {OLD} INCLUDING DEFAULTS, "
               f"CONSTRAINT human_tasks_pkey PRIMARY KEY ({key}), "
               f"CONSTRAINT human_tasks_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id)){tail}")
    if partitioned:
        months = _months_with_rows() | set(partitions.month_starts(date.today(), AHEAD))
        for first in sorted(months):  # months under the table itself, as 0024 made them (0025 moved them)
            lower, upper = partitions.bounds(first)
            op.execute(f"CREATE TABLE {partitions.partition_name('human_tasks', first)} PARTITION OF human_tasks "
                       f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')")
        op.execute("CREATE TABLE human_tasks_default PARTITION OF human_tasks DEFAULT")
    op.execute(f"INSERT INTO human_tasks SELECT * FROM {OLD}")  # LIKE kept the column order
    op.execute(f"DROP TABLE {OLD}")  # with its month partitions, when going down
    for statement in INDEXES:  # built once over the copied rows, per partition
        op.execute(statement)


def _months_with_rows() -> set[date]:
    rows = op.get_bind().execute(sa.text(
        f"SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date FROM {OLD}"))
    return {r[0] for r in rows}
