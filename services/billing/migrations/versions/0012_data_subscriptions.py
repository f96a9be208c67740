"""data subscriptions: what a tool maker's or partner's systems read (technical information, vehicle data, parts)
for a month or a year; a buyer's kind (a workshop, or a data subscriber, who buys data only)

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DATA = ["air", "vehicle_data", "parts"]
TARIFFS = [
    # code, name, kind, scopes, period, seconds, net cents
    ("data-1m", "Data subscription for your systems, 1 month: technical information, vehicle data and parts",
     "data_subscription", DATA, "month", None, 45000),
    ("data-1y", "Data subscription for your systems, 1 year: technical information, vehicle data and parts",
     "data_subscription", DATA, "year", None, 420000),
]


def upgrade():
    with op.batch_alter_table("buyers") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="workshop"))
    tariffs = sa.table("tariffs", sa.column("code"), sa.column("name"), sa.column("kind"), sa.column("scopes", sa.JSON),
                       sa.column("period"), sa.column("seconds"), sa.column("net_cents"), sa.column("active"))
    op.bulk_insert(tariffs, [dict(code=c, name=n, kind=k, scopes=s, period=p, seconds=sec, net_cents=cents, active=True)
                             for c, n, k, s, p, sec, cents in TARIFFS])


def downgrade():
    op.execute(sa.text("DELETE FROM tariffs WHERE code IN ('data-1m', 'data-1y')"))
    with op.batch_alter_table("buyers") as batch:
        batch.drop_column("kind")
