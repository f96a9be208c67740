"""seams: an account's slowdown as an instant, a SERMI link bound to its browser

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa
import services.shared.database


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('throttle_counters') as batch:
        batch.add_column(sa.Column('not_before', services.shared.database.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('sermi_links') as batch:
        batch.add_column(sa.Column('browser_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('sermi_links') as batch:
        batch.drop_column('browser_hash')
    with op.batch_alter_table('throttle_counters') as batch:
        batch.drop_column('not_before')
