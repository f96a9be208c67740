"""The shop's rules in plain Python: what an order may contain, its statuses and who may move it between them,
the payment deadline, and the facts each step announces.

An order is placed (its stock taken at once), paid when billing captures the payment, shipped, delivered; it is
cancelled instead when billing refuses, when payment does not come in time, or when the customer cancels before
it ships. The stores apply each move as a conditional update from the states named here, so a repeated or late
message moves nothing twice.
"""
from datetime import timedelta

from services.shared.errors import Conflict, InvalidInput, invalid_field
from services.shared.facts import Fact

STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled")
CANCELLABLE = ("placed", "paid")  # before shipping
# staff's moves: action -> (from, to, the rule as the refusal says it)
MOVES = {"ship": ("paid", "shipped", "only a paid order ships"),
         "deliver": ("shipped", "delivered", "only a shipped order is delivered")}
CANCEL_REASONS = ("by_customer", "payment_refused", "payment_timeout")


def check_lines(lines):
    """One line per product, with its whole quantity."""
    if len({line["sku"] for line in lines}) != len(lines):
        raise InvalidInput("SKU_TWICE", "Put each product on one line, with its whole quantity.",
                           {"field": "lines", "rule": "one_line_per_sku"})


def out_of_stock(index, sku, asked, available):
    return Conflict("OUT_OF_STOCK", f"Only {available} of {sku} in stock; you asked for {asked}. Nothing was "
                    "ordered.", {"field": f"lines.{index}.quantity", "sku": sku, "available": available})


def unpaid_since(now, timeout_seconds):
    """Orders placed before this have waited too long for billing's answer: their stock goes back."""
    return now - timedelta(seconds=timeout_seconds)


def move(action, status):
    """(from, to) of a staff move, or a Conflict naming the rule when the order is elsewhere."""
    before, after, rule = MOVES[action]
    if status not in (before, after):
        raise Conflict("ORDER_STATE", f"The order is {status}: {rule}.", {"status": status})
    return before, after


class Order:
    """An order of tools: lines at the prices of the moment, a status, the payment billing captured."""

    def __init__(self, **values):
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def place(cls, id, operator_id, user_id, idempotency_key, fingerprint, lines, payment_method, now, rights=None):
        """`lines`: [{sku, name, quantity, unit_net_cents}], whose stock was taken; `rights`: what the buyer may
        spend, for billing to hold the order to the buyer's monthly budget."""
        check_lines(lines)
        order = cls(id=id, operator_id=operator_id, user_id=user_id, idempotency_key=idempotency_key,
                    fingerprint=fingerprint, lines=lines, payment_method=payment_method, status="placed",
                    net_cents=sum(line["quantity"] * line["unit_net_cents"] for line in lines), placed_at=now,
                    updated_at=now, cancel_reason=None, paid_cents=None, payment_id=None, tracking_reference=None)
        return order, [Fact("OrderPlaced", {
            "order_id": order.id, "operator_id": operator_id, "user_id": user_id, "spending": rights,
            "total_cents": order.net_cents,
            "payment_method": payment_method,
            "lines": [{"sku": line["sku"], "name": line["name"], "quantity": line["quantity"],
                       "unit_price_cents": line["unit_net_cents"]} for line in lines], "placed_at": now})]

    def customer_cancels(self):
        """The states a customer's cancellation may move this order from; none once it is cancelled."""
        if self.status in ("shipped", "delivered"):
            raise Conflict("ORDER_SHIPPED", "This order has shipped: it can no longer be cancelled. Send it back "
                           "under the return terms instead.", {"status": self.status})
        return CANCELLABLE if self.status != "cancelled" else ()

    def cancelled(self, reason, now):
        """What a cancellation announces (billing refunds what it took), once it has moved the order."""
        if reason not in CANCEL_REASONS:
            raise invalid_field("UNKNOWN_REASON", "reason", "known_reason", f"{reason!r} is no cancellation reason.")
        return [Fact("OrderCancelled", {"order_id": self.id, "operator_id": self.operator_id, "reason": reason,
                                        "cancelled_at": now})]
