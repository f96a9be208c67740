"""vehicles carry a revision: where partners' mirrors of the registry stand

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_vehicles_revision'), ['revision'], unique=False)
    # the cars registered before: each a revision of its own, in VIN order, so a first export holds them all
    vehicles = sa.table('vehicles', sa.column('vin', sa.String), sa.column('revision', sa.BigInteger))
    connection = op.get_bind()
    vins = connection.execute(sa.select(vehicles.c.vin).order_by(vehicles.c.vin)).scalars().all()
    for number, vin in enumerate(vins, start=1):
        connection.execute(vehicles.update().where(vehicles.c.vin == vin).values(revision=number))


def downgrade():
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicles_revision'))
        batch_op.drop_column('revision')
