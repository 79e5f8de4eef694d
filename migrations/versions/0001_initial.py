"""Initial schema: units, users, definitions, citizens, cases, tasks, waits, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "user_units",
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("unit_key", sa.String(64), sa.ForeignKey("units.key"), primary_key=True),
    )
    op.create_table(
        "process_definitions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("source_file", sa.String(500), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("calls", sa.JSON(), nullable=False),
        sa.Column("start_form_key", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("deployed_by", sa.String(100), nullable=True),
        sa.UniqueConstraint("key", "version", name="uq_definition_key_version"),
    )
    op.create_index("ix_definition_key_hash", "process_definitions", ["key", "hash"])
    op.create_table(
        "citizens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("cpr", sa.String(10), nullable=False, unique=True),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("definition_id", sa.String(36), sa.ForeignKey("process_definitions.id"), nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.String(36), sa.ForeignKey("citizens.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("started_by", sa.String(100), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_cases_status_key", "cases", ["status", "process_key"])
    op.create_index("ix_cases_citizen", "cases", ["citizen_id"])
    op.create_table(
        "human_tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("process_version", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("assignee", sa.String(100), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("completed_by", sa.String(100), nullable=True),
        sa.Column("form_key", sa.String(200), nullable=True),
    )
    op.create_index("ix_tasks_inbox", "human_tasks", ["unit", "status", "due_at"])
    op.create_index("ix_tasks_assignee", "human_tasks", ["assignee", "status", "due_at"])
    op.create_index("ix_tasks_case", "human_tasks", ["case_id"])
    op.create_table(
        "waits",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("spiff_task_id", sa.String(36), nullable=False),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message", sa.String(200), nullable=True),
        sa.Column("unit", sa.String(64), nullable=True),
        sa.Column("due_at", TS, nullable=True),
    )
    op.create_index("ix_waits_due", "waits", ["kind", "due_at"])
    op.create_index("ix_waits_message", "waits", ["kind", "message"])
    op.create_index("ix_waits_case", "waits", ["case_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.Column("element_id", sa.String(200), nullable=True),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.UniqueConstraint("case_id", "seq", name="uq_audit_case_seq"),
    )
    op.create_table(
        "case_access_log",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
    )
    op.create_index("ix_case_access_case", "case_access_log", ["case_id", "at"])
    _forbid_audit_changes()


def _forbid_audit_changes() -> None:
    """The audit trail is append-only, enforced by the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION tovholder_audit_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION tovholder_audit_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{action.lower()} BEFORE {action} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS tovholder_audit_append_only()")
    for table in ("case_access_log", "audit_events", "waits", "human_tasks", "cases", "citizens",
                  "process_definitions", "user_units", "users", "units"):
        op.drop_table(table)
