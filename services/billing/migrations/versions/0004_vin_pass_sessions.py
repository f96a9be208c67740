"""a VIN pass's programming session: sessions left on the entitlement, and the sessions it paid for

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import services.shared.database

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("entitlements") as batch:
        batch.add_column(sa.Column("sessions_left", sa.Integer(), nullable=False, server_default="0"))
    # passes sold before this revision carry their one session too
    op.execute("UPDATE entitlements SET sessions_left = 1 WHERE kind = 'vin_pass'")
    op.create_table(
        "vin_pass_sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("entitlement_id", sa.String(length=36), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("claimed_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.Column("returned_at", services.shared.database.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("session_id"))
    op.create_index("ix_vin_pass_sessions_entitlement_id", "vin_pass_sessions", ["entitlement_id"])


def downgrade():
    op.drop_index("ix_vin_pass_sessions_entitlement_id", table_name="vin_pass_sessions")
    op.drop_table("vin_pass_sessions")
    with op.batch_alter_table("entitlements") as batch:
        batch.drop_column("sessions_left")
