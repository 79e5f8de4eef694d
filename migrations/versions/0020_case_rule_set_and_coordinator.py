"""Per-case rule set (free-municipality trials) and the coordinating caseworker.

- `cases.rule_set`: the name of the rule set the case runs under
  (config/deadlines.toml `[rule_sets.<name>]`); `ordinaer`, the ordinary
  rules, for every existing case and by default. Named deadlines resolve
  through it when a task or timer is created (engine.rule_sets).
- `cases.coordinator_id`: the koordinerende sagsbehandler, a user
  (engine.case_attributes); null until the jobcenter assigns one.

Both are set in the case's own mutation path (locked, audited, one
transaction). Plain ADD COLUMN on both databases (no batch copy of cases);
the foreign key is declared on PostgreSQL, where ALTER TABLE can add it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("rule_set", sa.String(64), nullable=False, server_default="ordinaer"))
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("cases", sa.Column("coordinator_id", sa.String(36), nullable=True))
        op.create_foreign_key("fk_cases_coordinator", "cases", "users", ["coordinator_id"], ["id"])
    else:  # SQLite takes a REFERENCES clause on ADD COLUMN when the default is NULL
        op.execute("ALTER TABLE cases ADD COLUMN coordinator_id VARCHAR(36) REFERENCES users (id)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_cases_coordinator", "cases", type_="foreignkey")
    op.execute("ALTER TABLE cases DROP COLUMN coordinator_id")  # plain (SQLite 3.35+), no batch copy
    op.execute("ALTER TABLE cases DROP COLUMN rule_set")
