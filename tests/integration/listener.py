"""A consumer as every AOS service writes one: validated events, effects guarded by first_delivery."""
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.catalogue import CATALOGUE
from services.shared.consumer import consumes
from services.shared.database import Database, messaging_tables

DELIVERIES = []  # every OperatorRegistered delivery the handler saw, duplicates included
RECEIVED = []  # billing's facts as they arrived: (type, data)


class Base(DeclarativeBase):
    pass


Outbox, Processed = messaging_tables(Base)


class WelcomedOperator(Base):
    """The handler's effect: one row per operator it welcomed."""
    __tablename__ = "welcomed_operators"
    operator_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))


class ListenerService:
    name = "listener"
    db = Database(Outbox, Processed)

    @consumes(CATALOGUE["OperatorRegistered"])
    def on_operator_registered(self, event):
        DELIVERIES.append(event.id)
        with self.db.first_delivery(event) as uow:
            if uow is None:
                return
            uow.session.add(WelcomedOperator(operator_id=event.data["operator_id"], event_id=event.id))


def create_schema(url):
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


class BillingWatcher:
    """A partner system watching billing's facts."""
    name = "billing_watcher"

    @consumes(CATALOGUE["AccessPurchased"])
    def on_access_purchased(self, event):
        RECEIVED.append((event.type, event.data))

    @consumes(CATALOGUE["AccessExpired"])
    def on_access_expired(self, event):
        RECEIVED.append((event.type, event.data))

    @consumes(CATALOGUE["CreditIssued"])
    def on_credit_issued(self, event):
        RECEIVED.append((event.type, event.data))


class VehicleWatcher:
    """A partner system watching vehicle data's facts."""
    name = "vehicle_watcher"

    @consumes(CATALOGUE["ServiceRecordAdded"])
    def on_service_record_added(self, event):
        RECEIVED.append((event.type, event.data))


class ShopWatcher:
    """A partner system watching the shop's and billing's answers about orders."""
    name = "shop_watcher"

    @consumes(CATALOGUE["OrderCancelled"])
    def on_order_cancelled(self, event):
        RECEIVED.append((event.type, event.data))

    @consumes(CATALOGUE["PaymentCaptured"])
    def on_payment_captured(self, event):
        RECEIVED.append((event.type, event.data))

    @consumes(CATALOGUE["PaymentRefused"])
    def on_payment_refused(self, event):
        RECEIVED.append((event.type, event.data))
