"""coding: the manufacturer's coding rules, and a job's coding (read, target, differences, written) and the units
it replaced

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

import services.shared.database

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "coding_rules",
        sa.Column("version", sa.String(length=40), primary_key=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("imported_at", services.shared.database.UtcDateTime(), nullable=False, index=True),
    )
    with op.batch_alter_table("job_cards") as batch:
        batch.add_column(sa.Column("coding", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("replacements", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("job_cards") as batch:
        batch.drop_column("replacements")
        batch.drop_column("coding")
    op.drop_table("coding_rules")
