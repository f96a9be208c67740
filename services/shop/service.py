"""The shop service: the catalogue and orders for workshops (through the gateway), staff RPCs, billing's
answers, and the timer that releases orders billing has not answered in time."""
from datetime import datetime, timezone

from services.billing.contracts import FACTS as BILLING
from services.shop.contracts import FACTS as SHOP
from services.shared.queues import RpcProxy
from nameko.timer import timer

from services.shared.blobs import Blobs
from services.shared.config import Settings
from services.shared.consumer import consumes
from services.shared.database import Database
from services.shared.caller import Proof, api
from services.shared.logs import Correlation
from services.shared.metrics import Metrics
from services.shared.schemas import IdempotencyKey, dump, load
from services.shared.lease import one_replica
from services.shop import schemas as s
from services.shop import use_cases
from services.shop.models import OutboxMessage, ProcessedEvent
from services.shop.settings import ShopSettings



class ShopService:
    name = "shop"
    proof = Proof()  # the caller's token, checked (services.shared.caller)

    db = Database(OutboxMessage, ProcessedEvent, SHOP)
    blobs = Blobs()
    settings = Settings(ShopSettings)
    identity = RpcProxy("identity")  # SERMI: theft-relevant parts for authorised technicians only
    metrics = Metrics()
    correlation = Correlation()

    def _ctx(self):
        return use_cases.Context(self.db, datetime.now(timezone.utc), self.settings.seller_country,
                                 self.blobs, self.identity.sermi_check)

    @api
    def ping(self):
        return "pong"

    # ---- workshops ----

    @api
    def catalogue(self, query):
        return dump(s.Catalogue, use_cases.catalogue(self._ctx(), load(s.CatalogueQuery, query)["country"]))

    @api
    def product(self, sku, query):
        return dump(s.ProductOut, use_cases.product(self._ctx(), sku, load(s.CatalogueQuery, query)["country"]))

    @api
    def place_order(self, actor, payload, idempotency_key):
        key = load(IdempotencyKey, {"key": idempotency_key})["key"]
        return dump(s.OrderOut, use_cases.place_order(self._ctx(), actor, load(s.OrderInput, payload), key))

    @api
    def orders(self, actor):
        return dump(s.OrderList, use_cases.orders(self._ctx(), actor))

    @api
    def order(self, actor, order_id):
        return dump(s.OrderOut, use_cases.order(self._ctx(), actor, order_id))

    @api
    def cancel_order(self, actor, order_id):
        return dump(s.OrderOut, use_cases.cancel(self._ctx(), actor, order_id))

    # ---- platform staff ----

    @api
    def save_product(self, staff, payload):
        return dump(s.ProductOut, use_cases.save_product(self._ctx(), load(s.ProductInput, payload)))

    @api
    def receive_stock(self, staff, payload):
        return dump(s.ProductOut, use_cases.receive_stock(self._ctx(), load(s.StockInput, payload)))

    @api
    def mark_shipped(self, staff, payload):
        return dump(s.OrderOut, use_cases.mark_shipped(self._ctx(), load(s.ShipmentInput, payload)))

    @api
    def mark_delivered(self, staff, order_id):
        return dump(s.OrderOut, use_cases.mark_delivered(self._ctx(), order_id))

    # ---- billing's answers, and the deadline ----

    @consumes(BILLING["PaymentCaptured"])
    def on_payment_captured(self, event):
        self.db.apply_once(event, lambda uow, data: use_cases.payment_captured(uow, data, datetime.now(timezone.utc)))

    @consumes(BILLING["PaymentRefused"])
    def on_payment_refused(self, event):
        self.db.apply_once(event, lambda uow, data: use_cases.payment_refused(uow, data, datetime.now(timezone.utc)))

    @timer(interval=2.0)
    @one_replica("unpaid-orders")
    def release_unpaid_orders(self):
        use_cases.expire_unpaid(self._ctx(), self.settings.payment_timeout)
