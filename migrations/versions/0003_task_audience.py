"""Tasks meant for a role within the unit (a team lead's reminder). 

A user task with the property `audience=teamlead` (the reminder an overdue
task raises) is for the team leads of its unit: it is in their inbox, not the
caseworkers'.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_tasks") as batch:
        batch.add_column(sa.Column("audience", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("human_tasks") as batch:
        batch.drop_column("audience")
