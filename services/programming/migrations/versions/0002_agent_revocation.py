"""agents can be revoked

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
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", services.shared.database.UtcDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
