"""seed the tariffs EU 2018/858 Art. 63 asks for, a VIN pass, programming packs and a multi-user licence

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INFO = ["air", "vehicle_data"]
TARIFFS = [
    # code, name, kind, scopes, period, seconds, net cents
    ("air-1h", "Technical information, 1 hour", "access", INFO, "hour", None, 900),
    ("air-1d", "Technical information, 1 day", "access", INFO, "day", None, 3000),
    ("air-1w", "Technical information, 1 week", "access", INFO, "week", None, 12000),
    ("air-1m", "Technical information, 1 month", "access", INFO, "month", None, 35000),
    ("air-1y", "Technical information, 1 year", "access", INFO, "year", None, 320000),
    ("vin-1d", "One vehicle, 1 day: information and one programming session", "vin_pass", ["vin"], "day", None, 4500),
    ("prog-30", "Programming time, 30 minutes", "programming_pack", ["programming"], None, 1800, 3000),
    ("prog-60", "Programming time, 60 minutes", "programming_pack", ["programming"], None, 3600, 5500),
    ("prog-180", "Programming time, 180 minutes", "programming_pack", ["programming"], None, 10800, 15000),
    ("licence-1y", "Technical information for a team, 1 year, per seat", "licence", INFO, "year", None, 290000),
]


def upgrade():
    tariffs = sa.table("tariffs", sa.column("code"), sa.column("name"), sa.column("kind"), sa.column("scopes", sa.JSON),
                       sa.column("period"), sa.column("seconds"), sa.column("net_cents"), sa.column("active"))
    op.bulk_insert(tariffs, [dict(code=c, name=n, kind=k, scopes=s, period=p, seconds=sec, net_cents=cents, active=True)
                             for c, n, k, s, p, sec, cents in TARIFFS])


def downgrade():
    op.execute(sa.text("DELETE FROM tariffs WHERE code IN :codes").bindparams(
        sa.bindparam("codes", [t[0] for t in TARIFFS], expanding=True)))
