"""security-related work: jobs with the owner's identity, unlock tokens

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
    op.create_table('security_jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('operator_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('vin', sa.String(length=17), nullable=False),
    sa.Column('owner_name', sa.String(length=200), nullable=False),
    sa.Column('owner_document_hash', sa.String(length=64), nullable=False),
    sa.Column('owner_document_salt', sa.String(length=32), nullable=False),
    sa.Column('authorisation_id', sa.String(length=100), nullable=False),
    sa.Column('opened_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('security_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_jobs_operator_id'), ['operator_id'], unique=False)

    op.create_table('unlock_tokens',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('vin', sa.String(length=17), nullable=False),
    sa.Column('ecu_address', sa.String(length=4), nullable=False),
    sa.Column('challenge', sa.String(length=16), nullable=False),
    sa.Column('issued_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('vin', 'ecu_address', 'challenge')
    )
    with op.batch_alter_table('unlock_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unlock_tokens_job_id'), ['job_id'], unique=False)



def downgrade():
    with op.batch_alter_table('unlock_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unlock_tokens_job_id'))

    op.drop_table('unlock_tokens')
    with op.batch_alter_table('security_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_jobs_operator_id'))

    op.drop_table('security_jobs')
