"""shop payments

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import services.shared.database


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shop_payments',
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('operator_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('net_cents', sa.Integer(), nullable=False),
    sa.Column('gross_cents', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('updated_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('order_id')
    )
    with op.batch_alter_table('shop_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_payments_operator_id'), ['operator_id'], unique=False)



def downgrade():
    with op.batch_alter_table('shop_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_payments_operator_id'))

    op.drop_table('shop_payments')
