"""confirmed email addresses, and one-time password reset links

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

import services.shared.database

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", services.shared.database.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("verification_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("verification_expires_at", services.shared.database.UtcDateTime(), nullable=True))
        batch_op.create_unique_constraint("uq_users_verification_hash", ["verification_hash"])
    op.create_table(
        "password_resets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.Column("used_at", services.shared.database.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index("ix_password_resets_user_id", ["user_id"], unique=False)


def downgrade():
    op.drop_table("password_resets")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_verification_hash", type_="unique")
        batch_op.drop_column("verification_expires_at")
        batch_op.drop_column("verification_hash")
        batch_op.drop_column("email_verified_at")
