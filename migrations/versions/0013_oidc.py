"""Users who log in with the identity provider (OpenID Connect): their subject, and what it last said.

`oidc_subject` is the provider's `sub` for the user (unique; null for local
users); `oidc_synced_at` when the newest provider token whose groups were
applied was issued, so an older token never undoes a newer statement;
`oidc_refused_at` since when the provider's groups give the user no login.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("oidc_subject", sa.String(255), nullable=True))
        batch.add_column(sa.Column("oidc_synced_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("oidc_refused_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ux_users_oidc_subject", "users", ["oidc_subject"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_users_oidc_subject", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("oidc_refused_at")
        batch.drop_column("oidc_synced_at")
        batch.drop_column("oidc_subject")
