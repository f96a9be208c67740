"""pay on invoice only within a limit platform staff set for each workshop (0 until verified)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

import services.shared.database

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("buyers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_limit_cents", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("invoice_limit_set_by", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("invoice_limit_set_at", services.shared.database.UtcDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("buyers", schema=None) as batch_op:
        batch_op.drop_column("invoice_limit_set_at")
        batch_op.drop_column("invoice_limit_set_by")
        batch_op.drop_column("invoice_limit_cents")
