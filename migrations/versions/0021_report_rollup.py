"""The report rollup: per step and per journey, day by day (engine/report_rollup.py; docs/architecture.md).

- `report_step_days` (day, process_key, element_id, unit, name): day deltas
  of opened/closed and overdue tasks, what was completed that day (on time,
  late) and the sorted durations, waiting and working times in seconds.
- `report_case_days` (day, process_key): cases started, closed, completed,
  cancelled, the completed ones' lengths and end events.

The lists are packed float64 (engine.report_rollup.pack): exact, and read
with one copy instead of parsing text.

Both are filled from the existing rows here (engine.report_rollup.rebuild,
the same code the engine uses per change), in this migration's
transaction; from then on every flush keeps them in step.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_step_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in
          ("opened", "closed", "overdue_from", "overdue_to", "completed", "on_time", "late")],
        *[sa.Column(c, sa.LargeBinary(), nullable=False) for c in ("durations", "waits", "works")],
        sa.PrimaryKeyConstraint("day", "process_key", "element_id", "unit", "name"),
    )
    op.create_table(
        "report_case_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in ("started", "closed", "completed", "cancelled")],
        sa.Column("lengths", sa.LargeBinary(), nullable=False),
        sa.Column("outcomes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("day", "process_key"),
    )
    from engine import report_rollup  # the one definition of what a row contributes
    report_rollup.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("report_case_days")
    op.drop_table("report_step_days")
