"""theft-relevant parts: sold only to a SERMI-authorised technician

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import services.shared.database

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theft_relevant', sa.Boolean(), server_default=sa.false(), nullable=False))

def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('theft_relevant')

