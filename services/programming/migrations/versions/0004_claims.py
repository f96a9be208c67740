"""agents' claims about our files are checked and recorded; a bad file is withdrawn

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
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", services.shared.database.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_because", sa.String(length=20), nullable=True))
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("package_id", sa.String(length=80), nullable=False),
        sa.Column("claimed", sa.String(length=20), nullable=False),
        sa.Column("found", sa.String(length=20), nullable=True),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("claimed_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_claims_session_id"), "claims", ["session_id"], unique=False)
    op.create_index(op.f("ix_claims_operator_id"), "claims", ["operator_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_claims_operator_id"), table_name="claims")
    op.drop_index(op.f("ix_claims_session_id"), table_name="claims")
    op.drop_table("claims")
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_because")
        batch_op.drop_column("withdrawn_at")
