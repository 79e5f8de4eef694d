"""Case numbers people can say on the phone: `2026-000123` (the start year, then a sequence per year).

`cases.number` is unique; `case_number_counters` holds the last number given
per year, and a case start takes the next one in its own transaction
(engine.case_numbers: the counter row's update lock orders concurrent starts
on PostgreSQL). Existing cases are numbered by their start time.

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_number_counters",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    op.add_column("cases", sa.Column("number", sa.String(20), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, created_at FROM cases ORDER BY created_at, id")).fetchall()
    last: dict[int, int] = {}
    for case_id, created_at in rows:
        year = created_at.year if hasattr(created_at, "year") else int(str(created_at)[:4])
        last[year] = last.get(year, 0) + 1
        connection.execute(sa.text("UPDATE cases SET number = :number WHERE id = :id"),
                           {"number": f"{year}-{last[year]:06d}", "id": case_id})
    for year, value in last.items():
        connection.execute(sa.text("INSERT INTO case_number_counters (year, last) VALUES (:year, :last)"),
                           {"year": year, "last": value})
    op.create_index("ux_cases_number", "cases", ["number"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_cases_number", table_name="cases")
    op.execute("ALTER TABLE cases DROP COLUMN number")  # plain (SQLite 3.35+), no batch copy of cases
    op.drop_table("case_number_counters")
