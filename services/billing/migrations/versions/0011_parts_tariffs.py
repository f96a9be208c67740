"""the parts catalogue: part numbers and prices for a day, a month, a year (a VIN pass opens them for its car)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TARIFFS = [
    # code, name, kind, scopes, period, seconds, net cents
    ("parts-1d", "Parts catalogue, 1 day", "access", ["parts"], "day", None, 1500),
    ("parts-1m", "Parts catalogue, 1 month", "access", ["parts"], "month", None, 9000),
    ("parts-1y", "Parts catalogue, 1 year", "access", ["parts"], "year", None, 80000),
]


def upgrade():
    tariffs = sa.table("tariffs", sa.column("code"), sa.column("name"), sa.column("kind"), sa.column("scopes", sa.JSON),
                       sa.column("period"), sa.column("seconds"), sa.column("net_cents"), sa.column("active"))
    op.bulk_insert(tariffs, [dict(code=c, name=n, kind=k, scopes=s, period=p, seconds=sec, net_cents=cents, active=True)
                             for c, n, k, s, p, sec, cents in TARIFFS])
    op.execute(sa.text("UPDATE tariffs SET name = :name WHERE code = 'vin-1d'").bindparams(
        name="One vehicle, 1 day: information, parts, diagnosis and one programming session"))


def downgrade():
    op.execute(sa.text("DELETE FROM tariffs WHERE code IN ('parts-1d', 'parts-1m', 'parts-1y')"))
    op.execute(sa.text("UPDATE tariffs SET name = :name WHERE code = 'vin-1d'").bindparams(
        name="One vehicle, 1 day: information, diagnosis and one programming session"))
