"""operator kinds: a workshop, or a data subscriber whose systems read the data

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('operators') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='workshop'))


def downgrade():
    with op.batch_alter_table('operators') as batch:
        batch.drop_column('kind')
