"""each security key answered to an agent is recorded

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
        "issued_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("ecu_address", sa.String(length=4), nullable=False),
        sa.Column("ecu_type", sa.String(length=40), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("issued_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_issued_keys_session_id"), "issued_keys", ["session_id"], unique=False)
    op.create_index(op.f("ix_issued_keys_operator_id"), "issued_keys", ["operator_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_issued_keys_operator_id"), table_name="issued_keys")
    op.drop_index(op.f("ix_issued_keys_session_id"), table_name="issued_keys")
    op.drop_table("issued_keys")
