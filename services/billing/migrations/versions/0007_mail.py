"""where billing writes (the owner's address) and which windows were told they end soon

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import services.shared.database

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("buyers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("entitlements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", services.shared.database.UtcDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("entitlements", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
    with op.batch_alter_table("buyers", schema=None) as batch_op:
        batch_op.drop_column("owner_email")
