"""Indexes for reports and the inbox at volume (bench rows h and i, docs/performance.md).

- `ix_tasks_completed_at` (human_tasks.completed_at): the steps report's
  "completed in the period" (and its medians) reads one month's tasks, not
  the whole table; "open at the end of the period" is a bitmap OR of
  `completed_at IS NULL` and `completed_at >= end`.
- `ix_tasks_open_queue` (unit, due_at IS NULL, due_at, created_at, id), only
  for open and claimed tasks: the inbox's order, so a page of 50 is read
  from the index and stops there, however many tasks the unit has open or
  ever had closed.
- `ix_cases_completed_at` (cases.completed_at): the cases report's completed
  in the period and its median length.
- `ix_audit_case_completed` (audit_events.case_id, only `case_completed`
  events): the outcomes by end event find one row per case instead of
  reading every event of every case.

Indexes are kept by the database in the transaction that changes the row,
so no figure can lag behind the mutation path. Partial and expression
indexes work on SQLite (3.9+) and PostgreSQL alike.

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None

OPEN = "status IN ('open', 'claimed')"
COMPLETED_EVENT = "type = 'case_completed'"


def upgrade() -> None:
    op.create_index("ix_tasks_completed_at", "human_tasks", ["completed_at"])
    op.create_index("ix_tasks_open_queue", "human_tasks",
                    ["unit", sa.text("(due_at IS NULL)"), "due_at", "created_at", "id"],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index("ix_cases_completed_at", "cases", ["completed_at"])
    op.create_index("ix_audit_case_completed", "audit_events", ["case_id"],
                    postgresql_where=sa.text(COMPLETED_EVENT), sqlite_where=sa.text(COMPLETED_EVENT))


def downgrade() -> None:
    op.drop_index("ix_audit_case_completed", table_name="audit_events")
    op.drop_index("ix_cases_completed_at", table_name="cases")
    op.drop_index("ix_tasks_open_queue", table_name="human_tasks")
    op.drop_index("ix_tasks_completed_at", table_name="human_tasks")
