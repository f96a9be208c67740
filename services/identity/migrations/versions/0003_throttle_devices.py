"""throttle counters taken atomically, known devices, single-use challenges (login_attempts retired)

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import services.shared.database

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("window_started_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("first_seen_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index("ix_devices_user_id", ["user_id"], unique=False)
    op.create_table(
        "spent_challenges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("spent_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("spent_challenges", schema=None) as batch_op:
        batch_op.create_index("ix_spent_challenges_spent_at", ["spent_at"], unique=False)
    op.drop_table("login_attempts")


def downgrade():
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", services.shared.database.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.drop_table("spent_challenges")
    op.drop_table("devices")
    op.drop_table("throttle_counters")
