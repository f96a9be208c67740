"""The shop's RPC contract; the gateway validates and documents with the same schemas."""
from marshmallow import fields, validate

from services.shared.countries import SUPPORTED
from services.shared.schemas import Input, Output, Text

SKU = validate.Regexp(r"^[A-Z0-9][A-Z0-9-]{1,39}$", error="2 to 40 capital letters, digits or -.")
MAX_QUANTITY = 50


class CatalogueQuery(Input):
    country = fields.String(load_default="DE",
                            validate=validate.OneOf(SUPPORTED, error="Not a supported country code."))


class OrderLineInput(Input):
    sku = fields.String(required=True, validate=SKU)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(
        min=1, max=MAX_QUANTITY, error=f"Order between 1 and {MAX_QUANTITY} of a product."))


class OrderInput(Input):
    lines = fields.List(fields.Nested(OrderLineInput), required=True, validate=validate.Length(
        min=1, max=20, error="An order has 1 to 20 lines."))
    payment_method = fields.String(load_default="credit", validate=validate.OneOf(("credit", "invoice")), metadata={
        "description": "credit: from the credit account (default); invoice: payable in 14 days, within a limit"})


class ProductInput(Input):
    """Platform staff: a new product (all fields) or a change to one (sku and what changes)."""
    sku = fields.String(required=True, validate=SKU)
    name = Text(120, required=False)
    description = Text(2000, required=False, lines=True)
    technical_data = fields.Dict(keys=fields.String(), values=fields.String())
    needed_for = fields.List(fields.String(validate=validate.Length(1, 20)))
    net_cents = fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000_000))
    image_svg = fields.String(validate=validate.Length(max=200_000), metadata={"description": "an SVG picture"})
    theft_relevant = fields.Boolean(metadata={"description": "sold only to a SERMI-authorised technician"})


class StockInput(Input):
    sku = fields.String(required=True, validate=SKU)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))


class ShipmentInput(Input):
    order_id = Text(36)
    tracking_reference = Text(100)


# ---- answers ----

class ProductOut(Output):
    sku = fields.String()
    name = fields.String()
    description = fields.String()
    technical_data = fields.Dict()
    needed_for = fields.List(fields.String())
    net_cents = fields.Integer()
    vat_cents = fields.Integer()
    vat_rate = fields.String()
    gross_cents = fields.Integer()
    currency = fields.String()
    stock = fields.Integer()
    theft_relevant = fields.Boolean(metadata={"description": "ordered only by a SERMI-authorised technician"})
    image_url = fields.String(allow_none=True, metadata={"description": "a signed link to the picture, for an hour"})


class Catalogue(Output):
    country = fields.String()
    products = fields.List(fields.Nested(ProductOut))


class OrderOut(Output):
    id = fields.String()
    status = fields.String(metadata={"description": "placed | paid | shipped | delivered | cancelled"})
    cancel_reason = fields.String(allow_none=True)
    lines = fields.List(fields.Dict())
    net_cents = fields.Integer()
    payment_method = fields.String()
    paid_cents = fields.Integer(allow_none=True, metadata={"description": "what billing charged, VAT included"})
    currency = fields.String()
    tracking_reference = fields.String(allow_none=True)
    placed_at = fields.DateTime()
    updated_at = fields.DateTime()


class OrderList(Output):
    orders = fields.List(fields.Nested(OrderOut))
