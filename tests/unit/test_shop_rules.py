"""The shop's rules as plain objects: what an order may hold, who may move it where, the deadline, its facts."""
from datetime import datetime, timedelta, timezone

import pytest

from services.shared.errors import Conflict, InvalidInput
from services.shop import domain

NOW = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)
LINES = [{"sku": "AOS-VCI-1", "name": "Interface", "quantity": 2, "unit_net_cents": 19900},
         {"sku": "AOS-CHG-1", "name": "Charger", "quantity": 1, "unit_net_cents": 5000}]


def placed():
    return domain.Order.place("o-1", "op-1", "u-1", "key", "fp", LINES, "credit", NOW)


def test_an_order_sums_its_lines_and_announces_itself():
    order, facts = placed()
    assert (order.status, order.net_cents) == ("placed", 2 * 19900 + 5000)
    [fact] = facts
    assert fact.type == "OrderPlaced" and fact.data["total_cents"] == 44800
    assert fact.data["lines"][0] == {"sku": "AOS-VCI-1", "name": "Interface", "quantity": 2, "unit_price_cents": 19900}


def test_each_product_goes_on_one_line():
    with pytest.raises(InvalidInput) as refused:
        domain.Order.place("o-1", "op-1", "u-1", "key", "fp", LINES + LINES[:1], "credit", NOW)
    assert refused.value.details == {"field": "lines", "rule": "one_line_per_sku"}


@pytest.mark.parametrize("status, allowed", [("placed", domain.CANCELLABLE), ("paid", domain.CANCELLABLE),
                                             ("cancelled", ())])
def test_a_customer_cancels_before_shipping(status, allowed):
    order, _ = placed()
    order.status = status
    assert order.customer_cancels() == allowed


@pytest.mark.parametrize("status", ["shipped", "delivered"])
def test_a_shipped_order_cannot_be_cancelled(status):
    order, _ = placed()
    order.status = status
    with pytest.raises(Conflict) as refused:
        order.customer_cancels()
    assert refused.value.code == "ORDER_SHIPPED"


def test_staff_move_orders_forward_only_from_the_state_before():
    assert domain.move("ship", "paid") == ("paid", "shipped")
    assert domain.move("ship", "shipped") == ("paid", "shipped")  # again: nothing to do, no error
    with pytest.raises(Conflict, match="only a paid order ships"):
        domain.move("ship", "placed")
    with pytest.raises(Conflict, match="only a shipped order is delivered"):
        domain.move("deliver", "paid")


def test_a_cancellation_names_its_reason_and_unpaid_orders_expire_after_the_deadline():
    order, _ = placed()
    [fact] = order.cancelled("payment_timeout", NOW)
    assert fact.type == "OrderCancelled" and fact.data["reason"] == "payment_timeout"
    assert domain.unpaid_since(NOW, 120) == NOW - timedelta(seconds=120)
