"""part revisions: where each part number stands for partners' mirrors

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "part_revisions",
        sa.Column("number", sa.String(length=11), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False, unique=True),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("series", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    )


def downgrade():
    op.drop_table("part_revisions")
