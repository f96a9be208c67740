"""sermi

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import services.shared.database


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sermi_authorisations',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('cabuid', sa.String(length=100), nullable=False),
    sa.Column('iouid', sa.JSON(), nullable=False),
    sa.Column('ioeuid', sa.JSON(), nullable=False),
    sa.Column('chain', sa.JSON(), nullable=True),
    sa.Column('authenticated_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('linked_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('sermi_links',
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('verifier', sa.String(length=128), nullable=False),
    sa.Column('created_at', services.shared.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', services.shared.database.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('state')
    )
    with op.batch_alter_table('sermi_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sermi_links_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('sermi_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sermi_links_user_id'))

    op.drop_table('sermi_links')
    op.drop_table('sermi_authorisations')
