"""the vehicle order: the market a car was built for, and the options workshops retrofitted; a unit's serial

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import services.shared.database

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vehicles') as batch:
        batch.add_column(sa.Column('country', sa.String(length=2), nullable=True))
    with op.batch_alter_table('ecus') as batch:
        batch.add_column(sa.Column('serial_number', sa.String(length=40), nullable=True))
    op.create_table(
        'retrofits',
        sa.Column('id', sa.String(length=36), primary_key=True),
        sa.Column('vin', sa.String(length=17), nullable=False, index=True),
        sa.Column('option', sa.String(length=10), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('added_at', services.shared.database.UtcDateTime(), nullable=False),
        sa.UniqueConstraint('vin', 'option'),
        sa.UniqueConstraint('vin', 'version'),
    )


def downgrade():
    op.drop_table('retrofits')
    with op.batch_alter_table('ecus') as batch:
        batch.drop_column('serial_number')
    with op.batch_alter_table('vehicles') as batch:
        batch.drop_column('country')
