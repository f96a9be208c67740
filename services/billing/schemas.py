"""Billing's RPC contract; the gateway validates and documents with the same schemas."""
from marshmallow import fields, validate

from services.shared.countries import SUPPORTED
from services.billing.contracts import SCOPES
from services.shared.schemas import IdempotencyKey, Input, Output, Text  # noqa: F401  (billing's contract)

KINDS = ("access", "vin_pass", "programming_pack", "diagnosis_pack", "licence", "data_subscription")
PERIODS = ("hour", "day", "week", "month", "year")
VIN = validate.Regexp(r"^[A-HJ-NPR-Z0-9]{17}$", error="A VIN has 17 characters: digits and capital letters except I, O, Q.")


class TariffQuery(Input):
    country = fields.String(load_default="DE", validate=validate.OneOf(SUPPORTED, error="Not a supported country code."))


class TopUpInput(Input):
    amount_cents = fields.Integer(required=True, strict=True, validate=validate.Range(
        min=500, max=500000, error="Top up between 5.00 and 5,000.00 EUR (500 to 500000 cents)."))
    card_token = Text(100, metadata={"description": "the card provider's token for the card (sandbox: tok_visa)"})


class PurchaseInput(Input):
    tariff_code = Text(40)
    vin = fields.String(load_default=None, allow_none=True, validate=VIN)
    quantity = fields.Integer(load_default=1, strict=True, validate=validate.Range(
        min=1, max=100, error="Must be between 1 and 100."),
        metadata={"description": "programming packs: how many; licence: seats; otherwise 1"})


class TariffInput(Input):
    """Platform staff: a new tariff (all fields) or a change to one (code and what changes)."""
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9-]{2,40}$"))
    name = Text(120, required=False)
    kind = fields.String(validate=validate.OneOf(KINDS))
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), validate=validate.Length(min=1))
    period = fields.String(allow_none=True, validate=validate.OneOf(PERIODS))
    seconds = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=60, max=100 * 3600))
    net_cents = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000_000))
    active = fields.Boolean(truthy={True}, falsy={False})


class VinSessionClaim(Input):
    """Programming: pay a session with the operator's VIN pass for that vehicle."""
    operator_id = Text(64)
    vin = fields.String(required=True, validate=VIN)
    session_id = Text(64)


class SettlementInput(Input):
    """Platform staff: a bank transfer that pays a shop invoice."""
    number = fields.String(required=True, validate=validate.Regexp(r"^AOS-\d{4}-\d{6}$", error="AOS-YYYY-NNNNNN."))
    bank_reference = Text(140)


class InvoiceLimitInput(Input):
    """Platform staff: how much a workshop they verified may owe on open shop invoices."""
    operator_id = fields.String(required=True, validate=validate.Length(1, 64))
    limit_cents = fields.Integer(required=True, strict=True, validate=validate.Range(
        min=0, max=100_000_000, error="0 to 1,000,000.00 EUR in cents (0 closes pay on invoice)."))


class InvoiceLimitOut(Output):
    operator_id = fields.String()
    limit_cents = fields.Integer()
    owed_cents = fields.Integer(metadata={"description": "what the workshop owes on open shop invoices now"})
    set_by = fields.String(metadata={"description": "the staff member who set it (from their staff token)"})
    set_at = fields.AwareDateTime()


class OutageInput(Input):
    started_at = fields.AwareDateTime(required=True)
    ended_at = fields.AwareDateTime(required=True)


# ---- answers ----

class TariffOut(Output):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    scopes = fields.List(fields.String())
    period = fields.String(allow_none=True)
    seconds = fields.Integer(allow_none=True)
    net_cents = fields.Integer()
    vat_cents = fields.Integer()
    vat_rate = fields.String()
    gross_cents = fields.Integer()
    currency = fields.String()


class VinSessionOut(Output):
    session_id = fields.String()
    entitlement_id = fields.String()
    vin = fields.String()
    valid_until = fields.DateTime()


class TariffList(Output):
    country = fields.String()
    tariffs = fields.List(fields.Nested(TariffOut))


class EntitlementOut(Output):
    id = fields.String()
    kind = fields.String()
    scopes = fields.List(fields.String())
    vin = fields.String(allow_none=True)
    seats = fields.Integer()
    valid_from = fields.DateTime()
    valid_until = fields.DateTime(allow_none=True)
    seconds = fields.Integer(allow_none=True)
    sessions_left = fields.Integer(metadata={"description": "a VIN pass's programming sessions not yet used"})
    remaining_seconds = fields.Integer(metadata={"description": "seconds left in the window, as of `as_of`"})


class PurchaseOut(Output):
    id = fields.String()
    tariff_code = fields.String()
    tariff_name = fields.String()
    vin = fields.String(allow_none=True)
    quantity = fields.Integer()
    net_cents = fields.Integer()
    vat_cents = fields.Integer()
    vat_rate = fields.String()
    vat_treatment = fields.String(metadata={"description": "domestic, destination, reverse_charge or outside_eu"})
    gross_cents = fields.Integer()
    currency = fields.String()
    paid_with = fields.String()
    created_at = fields.DateTime()
    entitlement = fields.Nested(EntitlementOut)


class PurchaseList(Output):
    purchases = fields.List(fields.Nested(PurchaseOut))


class Entitlements(Output):
    as_of = fields.DateTime()
    windows = fields.List(fields.Nested(EntitlementOut))
    programming_seconds = fields.Integer()
    diagnosis_seconds = fields.Integer(metadata={"description": "remote-diagnosis seconds left"})
    credit_cents = fields.Integer()


class StatementLine(Output):
    at = fields.DateTime()
    kind = fields.String()
    reference = fields.String()
    description = fields.String()
    amount = fields.Integer(metadata={"description": "cents: positive in, negative out"})


class CreditReceived(Output):
    issued_at = fields.DateTime()
    reason = fields.String(metadata={"description": "why: a failed programming session of ours, an outage"})
    seconds = fields.Integer(metadata={"description": "time given back"})
    amount_cents = fields.Integer()
    session_id = fields.String(allow_none=True)


class Credit(Output):
    balance_cents = fields.Integer()
    currency = fields.String()
    statement = fields.List(fields.Nested(StatementLine))
    credits = fields.List(fields.Nested(CreditReceived), metadata={"description": "time or money given back, newest first"})
    top_up_id = fields.String()
    amount_cents = fields.Integer()


class Party(Output):
    name = fields.String()
    address = fields.Raw(allow_none=True)
    vat_id = fields.String(allow_none=True)
    country = fields.String()


class InvoiceLine(Output):
    description = fields.String()
    quantity = fields.Integer()
    net_cents = fields.Integer()


class InvoiceOut(Output):
    id = fields.String()
    number = fields.String(metadata={"description": "AOS-<year>-<6 digits>, gapless within a year"})
    issued_at = fields.DateTime()
    purchase_id = fields.String(metadata={"description": "the purchase, or the shop order, this invoice bills"})
    seller = fields.Nested(Party)
    buyer = fields.Nested(Party)
    lines = fields.List(fields.Nested(InvoiceLine))
    net_cents = fields.Integer()
    vat_cents = fields.Integer()
    vat_rate = fields.String()
    vat_treatment = fields.String()
    gross_cents = fields.Integer()
    currency = fields.String()
    note = fields.String(allow_none=True, metadata={"description": "reverse-charge or outside-EU note"})


class InvoiceList(Output):
    invoices = fields.List(fields.Nested(InvoiceOut))
