"""a job's parts: the lines its operations brought and the technician put on it, priced from the parts catalogue

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_cards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parts', sa.JSON(), nullable=False, server_default='[]'))


def downgrade():
    with op.batch_alter_table('job_cards', schema=None) as batch_op:
        batch_op.drop_column('parts')
