"""Billing's entitlements as a service that checks them on every request keeps them (DESIGN: a read model fed
by AccessPurchased, CreditIssued's extensions and AccessExpired), so a check never waits on billing. A leaf billing
offers the services that consume its facts (air, vehicle data, programming), beside its contracts: it imports
nothing of billing but them."""
import time
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import JSON, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from services.billing.contracts import FACTS as BILLING
from services.shared.consumer import consumes, consumes_batch
from services.shared.database import UtcDateTime, insert_if_absent


def access_table(base):
    """The `access` table, declared on a service's own DeclarativeBase."""

    class Access(base):
        __tablename__ = "access"
        entitlement_id: Mapped[str] = mapped_column(String(64), primary_key=True)
        operator_id: Mapped[str] = mapped_column(String(64), index=True)
        scopes: Mapped[list] = mapped_column(JSON)
        vin: Mapped[str | None] = mapped_column(String(17), nullable=True)
        valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
        valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
        expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    return Access


def opens(scopes, scope):
    """Whether a tariff or entitlement with these scopes opens `scope`: the scope itself, or a VIN pass (for its
    vehicle)."""
    return scope in scopes or "vin" in scopes


def covers(access, scope, vin, now):
    """Whether one entitlement lets its operator use `scope` now: the scope itself, or a VIN pass for this VIN."""
    if access.expired_at is not None or access.valid_from > now:
        return False
    if access.valid_until is not None and access.valid_until <= now:
        return False
    return scope in access.scopes or (vin is not None and "vin" in access.scopes and access.vin == vin)


FIELDS = ("entitlement_id", "operator_id", "scopes", "vin", "valid_from", "valid_until", "expired_at")


class AccessBook:
    """The read model's handlers and its one question, over a service's Access table.

    A workshop's entitlements are asked for on every search and every vehicle read, and change a few times a day:
    each process keeps them in memory for FRESH_SECONDS. The time windows are judged against the clock at each
    question (`covers`), so an entitlement ends on the second whatever was kept. A fact this process applies
    forgets the workshop's entry once it commits; one another replica applied (or one committed while a read of
    the old rows was under way) is seen within FRESH_SECONDS, about what the broker takes to hand a fact to every
    service anyway."""

    FRESH_SECONDS = 2.0

    def __init__(self, model):
        self.model = model
        self.kept = {}  # (database, operator_id) -> (monotonic time read, entitlements as plain values)

    def _forget(self, uow, operator_id=None):
        database = uow.session.get_bind()
        uow.after_commit(lambda: self.kept.clear() if operator_id is None
                         else self.kept.pop((database, operator_id), None))

    def purchased(self, uow, data):
        # a statement, not a mapped object: every purchase comes to every service that checks access
        insert_if_absent(uow.session, self.model, entitlement_id=data["entitlement_id"],
                         operator_id=data["operator_id"], scopes=data["scopes"], vin=data.get("vin"),
                         valid_from=data["valid_from"], valid_until=data.get("valid_until"), expired_at=None)
        self._forget(uow, data["operator_id"])

    def extended(self, uow, data):
        """An outage credit lengthens windows: they stay open to their new end."""
        for window in data["extended"]:
            uow.session.execute(update(self.model).where(self.model.entitlement_id == window["entitlement_id"])
                                .values(valid_until=window["valid_until"], expired_at=None))
        self._forget(uow)  # the fact names entitlements, not their workshop: rare enough to forget all

    def expired(self, uow, data):
        uow.session.execute(update(self.model).where(self.model.entitlement_id == data["entitlement_id"])
                            .values(expired_at=data["expired_at"]))
        self._forget(uow)

    def of(self, session, operator_id):
        key, now = (session.get_bind(), operator_id), time.monotonic()
        kept = self.kept.get(key)
        if kept is not None and now - kept[0] < self.FRESH_SECONDS:
            return kept[1]
        rows = session.scalars(select(self.model).where(self.model.operator_id == operator_id)).all()
        entitlements = tuple(SimpleNamespace(**{name: getattr(row, name) for name in FIELDS}) for row in rows)
        if len(self.kept) > 50_000:
            self.kept.clear()  # a bound, not a policy: a busy hour's workshops fit many times over
        self.kept[key] = (now, entitlements)
        return entitlements

    def allows(self, session, operator_id, scope, vin, now):
        return any(covers(a, scope, vin, now) for a in self.of(session, operator_id))


class FollowsAccess:
    """The consumers of billing's access facts, for a service class with `db` (a Database) and `access`
    (its AccessBook)."""

    @consumes_batch(BILLING["AccessPurchased"])
    def on_access_purchased(self, batch):
        """Every purchase is told to every service that checks access: those that arrive together, applied in one
        transaction."""
        self.db.apply_each_once(batch, self.access.purchased)

    @consumes(BILLING["CreditIssued"])
    def on_credit_issued(self, event):
        """An outage credit lengthens windows: they stay open to their new end."""
        self.db.apply_once(event, self.access.extended)

    @consumes(BILLING["AccessExpired"])
    def on_access_expired(self, event):
        self.db.apply_once(event, self.access.expired)
