"""Decision tables in the studio: a draft carries its edited .dmn files, a version keeps the DMN it was built from.

- `studio_drafts.decisions` ({file name under the processes folder: DMN
  text}): the decision tables a process owner edited with the journey's
  draft; saved with the draft's revision (the same optimistic concurrency),
  published with it.
- `definition_decisions` (definition id, file name, DMN text): the decision
  tables a version was compiled with. The compiled spec already carries the
  tables the engine evaluates; this keeps their source, so the studio opens
  what runs and a later publication builds on it instead of an older file on
  disk. Versions deployed before this revision have none (the studio reads the
  processes folder for them, as before).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("studio_drafts") as batch:
        batch.add_column(sa.Column("decisions", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    op.create_table(
        "definition_decisions",
        sa.Column("definition_id", sa.String(36), sa.ForeignKey("process_definitions.id"), primary_key=True),
        sa.Column("file_name", sa.String(500), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("definition_decisions")
    with op.batch_alter_table("studio_drafts") as batch:
        batch.drop_column("decisions")
