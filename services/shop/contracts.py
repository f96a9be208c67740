"""The shop's facts: orders placed and cancelled. Each fact's one contract, which its publisher and every consumer
import (the whole catalogue: services/catalogue.py)."""
from marshmallow import fields, validate

from services.shared.events import Contract, Cents, Id, When, facts


class OrderLine(Contract):
    sku = fields.String(required=True)
    name = fields.String(load_default=None, allow_none=True, metadata={"description": "the product's name"})
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    unit_price_cents = Cents()


class Spending(Contract):
    may_buy = fields.Boolean(required=True)
    on_invoice = fields.Boolean(required=True)
    monthly_budget_cents = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0))


class OrderPlaced(Contract):
    order_id = Id()
    operator_id = Id()
    user_id = fields.String(allow_none=True, load_default=None, metadata={"description": "who ordered"})
    spending = fields.Nested(Spending, allow_none=True, load_default=None, metadata={
        "description": "what the owner allows the buyer: billing holds the order to the monthly budget"})
    lines = fields.List(fields.Nested(OrderLine), required=True, validate=validate.Length(min=1))
    total_cents = Cents()
    currency = fields.String(load_default="EUR", validate=validate.OneOf(("EUR",)))
    payment_method = fields.String(load_default="credit", validate=validate.OneOf(("credit", "invoice")),
                                   metadata={"description": "from the credit account, or on an invoice due in 14 days"})
    placed_at = When()


class OrderCancelled(Contract):
    order_id = Id()
    operator_id = Id()
    reason = fields.String(required=True, validate=validate.OneOf(("by_customer", "payment_refused",
                                                                   "payment_timeout")))
    cancelled_at = When()


FACTS = facts(
    "shop",
    OrderPlaced=(OrderPlaced, "A shop order reserved its stock and awaits payment."),
    OrderCancelled=(OrderCancelled, "A shop order was cancelled before shipping; its stock is released and what was "
                                    "paid for it is refunded."),
)
