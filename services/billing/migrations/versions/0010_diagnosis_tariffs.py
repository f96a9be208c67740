"""remote-diagnosis time: packs of seconds metered on the diagnosis clock

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TARIFFS = [
    # code, name, kind, scopes, period, seconds, net cents
    ("diag-30", "Remote diagnosis time, 30 minutes", "diagnosis_pack", ["diagnosis"], None, 1800, 2500),
    ("diag-60", "Remote diagnosis time, 60 minutes", "diagnosis_pack", ["diagnosis"], None, 3600, 4500),
]


def upgrade():
    tariffs = sa.table("tariffs", sa.column("code"), sa.column("name"), sa.column("kind"), sa.column("scopes", sa.JSON),
                       sa.column("period"), sa.column("seconds"), sa.column("net_cents"), sa.column("active"))
    op.bulk_insert(tariffs, [dict(code=c, name=n, kind=k, scopes=s, period=p, seconds=sec, net_cents=cents, active=True)
                             for c, n, k, s, p, sec, cents in TARIFFS])
    op.execute(sa.text("UPDATE tariffs SET name = :name WHERE code = 'vin-1d'").bindparams(
        name="One vehicle, 1 day: information, diagnosis and one programming session"))


def downgrade():
    op.execute(sa.text("DELETE FROM tariffs WHERE code IN ('diag-30', 'diag-60')"))
