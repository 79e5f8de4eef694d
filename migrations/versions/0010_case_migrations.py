"""Migration of running cases between versions: a record of every batch that ran (who, which plan, how it ended).

Each migrated case carries its own `case_migrated` audit event; this table adds
the batch around it, including the cases refused and a batch that never finished
(a crash leaves `finished_at` empty). Dry runs change nothing and are not recorded.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "migration_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("cases", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("migrated", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("refused", sa.JSON(), nullable=False),
    )
    op.create_index("ix_migration_runs_key", "migration_runs", ["process_key", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_migration_runs_key", table_name="migration_runs")
    op.drop_table("migration_runs")
