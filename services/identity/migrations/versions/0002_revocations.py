"""revocations: access tokens a user (or one login session) may no longer use

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import services.shared.database

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "revocations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("operator_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("revoked_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.create_index("ix_revocations_user_id", ["user_id"], unique=False)
        batch_op.create_index("ix_revocations_revoked_at", ["revoked_at"], unique=False)


def downgrade():
    op.drop_table("revocations")
