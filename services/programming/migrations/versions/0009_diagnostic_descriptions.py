"""diagnostic descriptions: each ECU type's PDX file and what tool makers read of it

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

import services.shared.database

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "diagnostic_descriptions",
        sa.Column("ecu_type", sa.String(length=64), primary_key=True),
        sa.Column("long_name", sa.String(length=200), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, unique=True),
        sa.Column("imported_at", services.shared.database.UtcDateTime(), nullable=False),
        sa.Column("withdrawn_at", services.shared.database.UtcDateTime(), nullable=True),
    )


def downgrade():
    op.drop_table("diagnostic_descriptions")
