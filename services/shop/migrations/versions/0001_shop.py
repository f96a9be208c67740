"""catalogue and orders

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa
import services.shared.database


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('orders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('operator_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('net_cents', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('cancel_reason', sa.String(length=20), nullable=True),
    sa.Column('paid_cents', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.String(length=64), nullable=True),
    sa.Column('tracking_reference', sa.String(length=100), nullable=True),
    sa.Column('placed_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('operator_id', 'idempotency_key')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_operator_id'), ['operator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_status'), ['status'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('published_at', services.shared.database.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unpublished', ['published_at', 'created_at'], unique=False)

    op.create_table('processed_events',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('processed_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('products',
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('technical_data', sa.JSON(), nullable=False),
    sa.Column('needed_for', sa.JSON(), nullable=False),
    sa.Column('net_cents', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('image_key', sa.String(length=200), nullable=True),
    sa.CheckConstraint('stock >= 0', name='stock_not_negative'),
    sa.PrimaryKeyConstraint('sku')
    )


def downgrade():
    op.drop_table('products')
    op.drop_table('processed_events')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished')

    op.drop_table('outbox')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_status'))
        batch_op.drop_index(batch_op.f('ix_orders_operator_id'))

    op.drop_table('orders')
