"""agent tasks: keys programmed and gateways unlocked by the agent, in a security job

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
import services.shared.database


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agent_tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('security_job_id', sa.String(length=36), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.Column('vin', sa.String(length=17), nullable=False),
    sa.Column('ecu_address', sa.String(length=4), nullable=False),
    sa.Column('ecu_type', sa.String(length=40), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=True),
    sa.Column('key_id', sa.String(length=16), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('created_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', services.shared.database.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agent_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_tasks_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_tasks_security_job_id'), ['security_job_id'], unique=False)



def downgrade():
    with op.batch_alter_table('agent_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_tasks_security_job_id'))
        batch_op.drop_index(batch_op.f('ix_agent_tasks_agent_id'))

    op.drop_table('agent_tasks')
