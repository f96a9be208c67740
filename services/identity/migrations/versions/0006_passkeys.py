"""passkeys: WebAuthn credentials as a second factor

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

import services.shared.database

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "passkeys",
        sa.Column("id", sa.String(length=400), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("public_key", sa.String(length=2000), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("created_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.Column("last_used_at", services.shared.database.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("passkeys", schema=None) as batch_op:
        batch_op.create_index("ix_passkeys_user_id", ["user_id"], unique=False)


def downgrade():
    op.drop_table("passkeys")
