"""The order saga's steps on a real broker and databases, each side alone: the shop releases an order billing
does not answer in time and ignores a late payment; billing charges an order once, refunds a cancelled one, and
takes nothing for an order cancelled before it heard of it."""
from datetime import datetime, timezone

import pytest
from nameko.testing.services import entrypoint_hook
from sqlalchemy.orm import sessionmaker

from services.billing import use_cases as billing
from services.billing.contracts import FACTS as BILLING
from services.billing.models import OutboxMessage, ProcessedEvent
from services.billing.payments import SandboxCardProvider
from services.billing.service import BillingService
from services.shared.database import Database, Store, make_engine
from services.shop.service import ShopService
from tests.helpers import eventually, publish_fact
from tests.integration import listener

ACTOR = {"user_id": "u-1", "operator_id": "op-1", "role": "owner", "email_verified": True}
PRODUCT = {"sku": "BSU-100A", "name": "Battery support unit", "description": "13.5-14.8 V", "net_cents": 10000}


@pytest.fixture
def watcher(container_factory, config):
    listener.RECEIVED.clear()
    container_factory(listener.ShopWatcher, config).start()


def received(kind):
    return [data for event_type, data in listener.RECEIVED if event_type == kind]


def test_the_shop_releases_an_order_billing_does_not_answer_and_ignores_a_late_payment(
        container_factory, config, watcher, proven, staff_pass):
    config["ENVIRONMENT"]["AOS_SHOP_PAYMENT_TIMEOUT_SECONDS"] = "1"
    shop = container_factory(ShopService, config)  # no billing running: nobody answers OrderPlaced
    shop.start()
    with entrypoint_hook(shop, "save_product") as call:
        call(staff_pass, PRODUCT)
    with entrypoint_hook(shop, "receive_stock") as call:
        call(staff_pass, {"sku": "BSU-100A", "quantity": 2})
    with entrypoint_hook(shop, "place_order") as call:
        placed = call(proven(ACTOR), {"lines": [{"sku": "BSU-100A", "quantity": 2}]}, "k-1")

    def product():
        with entrypoint_hook(shop, "product") as call:
            return call("BSU-100A", {})
    assert product()["stock"] == 0
    eventually(lambda: received("OrderCancelled"), what="the payment deadline to release the order", timeout=15)
    assert received("OrderCancelled")[0] == {"order_id": placed["id"], "operator_id": "op-1",
                                             "reason": "payment_timeout",
                                             "cancelled_at": received("OrderCancelled")[0]["cancelled_at"]}
    assert product()["stock"] == 2

    # billing answers at last: the order stays cancelled (billing refunds on the OrderCancelled it will read)
    publish_fact(config, "PaymentCaptured", order_id=placed["id"], operator_id="op-1", payment_id="pay-1",
                 amount_cents=11900, captured_at=datetime.now(timezone.utc))
    eventually(lambda: received("PaymentCaptured"), what="the late payment to go round")
    with entrypoint_hook(shop, "order") as call:
        late = call(proven(ACTOR), placed["id"])
    assert late["status"] == "cancelled" and late["paid_cents"] is None and product()["stock"] == 2


@pytest.fixture
def billing_service(container_factory, config):
    service = container_factory(BillingService, config)
    service.start()
    engine = make_engine(config["DATABASE_URLS"]["billing"])
    relay = next(d for d in service.dependencies if isinstance(d, Database)).relay
    store = Store(sessionmaker(engine, expire_on_commit=False), OutboxMessage, ProcessedEvent, relay.committed,
                  facts=BILLING)
    with store.transaction() as uow:
        billing.record_buyer(uow, {"operator_id": "op-1", "legal_name": "Werkstatt", "country": "DE", "vat_id": None})
    ctx = billing.Context(store, SandboxCardProvider(), billing.Seller("S", "DE", "DE1", "A"), datetime.now(timezone.utc))
    billing.top_up(ctx, ACTOR, {"amount_cents": 50000, "card_token": "tok_visa"}, "t-1")
    yield service
    engine.dispose()


def balance(service, proven):
    with entrypoint_hook(service, "credit") as call:
        return call(proven(ACTOR))["balance_cents"]


def placed(config, order_id, total_cents=10000):
    return publish_fact(config, "OrderPlaced", order_id=order_id, operator_id="op-1", total_cents=total_cents,
                        lines=[{"sku": "BSU-100A", "quantity": 1, "unit_price_cents": total_cents}],
                        placed_at=datetime.now(timezone.utc))


def cancelled(config, order_id, reason="by_customer"):
    return publish_fact(config, "OrderCancelled", order_id=order_id, operator_id="op-1", reason=reason,
                        cancelled_at=datetime.now(timezone.utc))


def test_billing_charges_once_refunds_a_cancellation_and_takes_nothing_for_a_voided_order(
        billing_service, config, watcher, proven, staff_pass):
    body = placed(config, "o-1")
    placed(config, "o-1", body["data"]["total_cents"])  # the same order under a new event id: charged once
    eventually(lambda: received("PaymentCaptured"), what="the capture")
    eventually(lambda: balance(billing_service, proven) == 50000 - 11900, what="the charge")
    cancelled(config, "o-1")
    eventually(lambda: balance(billing_service, proven) == 50000, what="the refund")
    cancelled(config, "o-2", reason="payment_timeout")  # billing hears of the cancellation first...
    eventually(lambda: len(received("OrderCancelled")) == 2, what="the cancellation to go round")
    placed(config, "o-2")  # ...and of the order late: nothing is taken
    placed(config, "o-3", total_cents=100000)  # more than the credit: refused
    eventually(lambda: received("PaymentRefused"), what="the refusal")
    assert [r["order_id"] for r in received("PaymentRefused")] == ["o-3"]
    assert "Not enough credit" in received("PaymentRefused")[0]["reason"]
    assert [c["order_id"] for c in received("PaymentCaptured")] == ["o-1"]
    assert balance(billing_service, proven) == 50000
    with entrypoint_hook(billing_service, "check_books") as call:
        assert call(staff_pass) == {"balanced": True, "problems": []}
