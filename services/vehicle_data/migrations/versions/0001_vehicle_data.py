"""vehicle registry, campaigns, service records in versions, access read model

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
    op.create_table('access',
    sa.Column('entitlement_id', sa.String(length=64), nullable=False),
    sa.Column('operator_id', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('vin', sa.String(length=17), nullable=True),
    sa.Column('valid_from', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', services.shared.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('expired_at', services.shared.database.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('entitlement_id')
    )
    with op.batch_alter_table('access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_operator_id'), ['operator_id'], unique=False)

    op.create_table('campaigns',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('series', sa.JSON(), nullable=False),
    sa.Column('model_codes', sa.JSON(), nullable=False),
    sa.Column('produced_from', sa.Date(), nullable=True),
    sa.Column('produced_until', sa.Date(), nullable=True),
    sa.Column('vins', sa.JSON(), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
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
    op.create_table('service_records',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('vin', sa.String(length=17), nullable=False),
    sa.Column('operator_id', sa.String(length=64), nullable=False),
    sa.Column('author_user_id', sa.String(length=64), nullable=False),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('odometer_km', sa.Integer(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('first_recorded_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('record_id', 'version')
    )
    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_records_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_records_vin'), ['vin'], unique=False)

    op.create_table('vehicles',
    sa.Column('vin', sa.String(length=17), nullable=False),
    sa.Column('series', sa.String(length=10), nullable=False),
    sa.Column('model_code', sa.String(length=10), nullable=False),
    sa.Column('engine_code', sa.String(length=12), nullable=False),
    sa.Column('transmission', sa.String(length=12), nullable=False),
    sa.Column('production_date', sa.Date(), nullable=False),
    sa.Column('paint', sa.String(length=60), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('imported_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('vin')
    )
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicles_series'), ['series'], unique=False)

    op.create_table('ecus',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('vin', sa.String(length=17), nullable=False),
    sa.Column('address', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('hardware_part_number', sa.String(length=20), nullable=False),
    sa.Column('software_version', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['vin'], ['vehicles.vin'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('vin', 'address')
    )
    with op.batch_alter_table('ecus', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ecus_vin'), ['vin'], unique=False)



def downgrade():
    with op.batch_alter_table('ecus', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ecus_vin'))

    op.drop_table('ecus')
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicles_series'))

    op.drop_table('vehicles')
    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_records_vin'))
        batch_op.drop_index(batch_op.f('ix_service_records_record_id'))

    op.drop_table('service_records')
    op.drop_table('processed_events')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished')

    op.drop_table('outbox')
    op.drop_table('campaigns')
    with op.batch_alter_table('access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_operator_id'))

    op.drop_table('access')
