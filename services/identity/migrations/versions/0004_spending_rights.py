"""spending rights: who may buy, pay on invoice, and within which monthly budget

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("may_buy", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("may_pay_on_invoice", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("monthly_budget_cents", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("monthly_budget_cents")
        batch_op.drop_column("may_pay_on_invoice")
        batch_op.drop_column("may_buy")
