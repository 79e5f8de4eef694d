"""Which definitions a message starts, correlation values on waits, and where a task's deadline came from.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "definition_message_starts",
        sa.Column("definition_id", sa.String(36), sa.ForeignKey("process_definitions.id"), primary_key=True),
        sa.Column("message", sa.String(200), primary_key=True),
        sa.Column("process_key", sa.String(200), nullable=False),
    )
    op.create_index("ix_message_starts_message", "definition_message_starts", ["message"])
    with op.batch_alter_table("waits") as batch:
        batch.add_column(sa.Column("correlation", sa.String(200), nullable=True))
    op.create_index("ix_waits_correlation", "waits", ["kind", "message", "correlation"])
    with op.batch_alter_table("human_tasks") as batch:
        batch.add_column(sa.Column("deadline_rule", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("human_tasks") as batch:
        batch.drop_column("deadline_rule")
    op.drop_index("ix_waits_correlation", table_name="waits")
    with op.batch_alter_table("waits") as batch:
        batch.drop_column("correlation")
    op.drop_index("ix_message_starts_message", table_name="definition_message_starts")
    op.drop_table("definition_message_starts")
