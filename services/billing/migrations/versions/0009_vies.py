"""a buyer's VAT id counts for the reverse charge only once VIES confirmed it

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

import services.shared.database

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("buyers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vat_status", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("vat_consultation", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("vat_checked_at", services.shared.database.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("vat_confirmed_at", services.shared.database.UtcDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("buyers", schema=None) as batch_op:
        batch_op.drop_column("vat_confirmed_at")
        batch_op.drop_column("vat_checked_at")
        batch_op.drop_column("vat_consultation")
        batch_op.drop_column("vat_status")
