"""who ordered a shop order, for their monthly budget

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shop_payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_shop_payments_user_id", ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("shop_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_shop_payments_user_id")
        batch_op.drop_column("user_id")
