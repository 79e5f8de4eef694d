"""Studio drafts: a process owner's unpublished change of one journey, saved on the server.

One row per process key: the BPMN text, the form files changed or added with it
({file name: text}), and a revision that every save must name (optimistic
concurrency: a save naming an older revision is refused, never merged). A draft
is not a version: publishing deploys it through the normal deploy and removes
the row (engine/drafts.py, engine/studio.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "studio_drafts",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("studio_drafts")
