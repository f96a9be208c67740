"""Billing's facts: access bought and expired, credit given back, shop orders paid or not; and the scopes a tariff
opens. Each fact's one contract, which its publisher and every consumer import (the whole catalogue:
services/catalogue.py)."""
from marshmallow import fields, validate

from services.shared.events import Contract, Cents, Id, Vin, When, facts

SCOPES = ("air", "vehicle_data", "programming", "diagnosis", "parts", "vin")  # what a tariff opens


class ExtendedWindow(Contract):
    entitlement_id = Id()
    valid_until = When()


class AccessPurchased(Contract):
    operator_id = Id()
    purchase_id = Id()
    entitlement_id = Id()
    tariff_code = fields.String(required=True)
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True, validate=validate.Length(min=1))
    vin = Vin(allow_none=True, load_default=None)
    valid_from = When()
    valid_until = fields.AwareDateTime(allow_none=True, load_default=None)
    seconds = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1))
    seats = fields.Integer(load_default=1, validate=validate.Range(min=1))
    sessions = fields.Integer(load_default=0, validate=validate.Range(min=0), metadata={
        "description": "programming sessions included for `vin` (a VIN pass: one), claimed through billing"})


class AccessExpired(Contract):
    operator_id = Id()
    entitlement_id = Id()
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True)
    vin = Vin(allow_none=True, load_default=None)
    expired_at = When()


class CreditIssued(Contract):
    operator_id = Id()
    credit_id = Id()
    reason = fields.String(required=True)
    amount_cents = fields.Integer(load_default=0, validate=validate.Range(min=0))
    seconds = fields.Integer(load_default=0, validate=validate.Range(min=0))
    session_id = fields.String(allow_none=True, load_default=None)
    extended = fields.List(fields.Nested(ExtendedWindow), load_default=list,
                           metadata={"description": "access windows lengthened by this credit, with their new end"})
    issued_at = When()


class PaymentCaptured(Contract):
    order_id = Id()
    operator_id = Id()
    payment_id = Id()
    amount_cents = Cents()
    captured_at = When()


class PaymentRefused(Contract):
    order_id = Id()
    operator_id = Id()
    reason = fields.String(required=True)
    refused_at = When()


FACTS = facts(
    "billing",
    AccessPurchased=(AccessPurchased, "An operator bought access time or a time pack."),
    AccessExpired=(AccessExpired, "An access window closed."),
    CreditIssued=(CreditIssued, "Time or money was given back, with the reason."),
    PaymentCaptured=(PaymentCaptured, "A shop order was paid."),
    PaymentRefused=(PaymentRefused, "A shop order could not be paid."),
)
