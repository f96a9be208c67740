"""The parts catalogue's facts: a catalogue imported (partners mirror it), a parts list sent to a dealer. Each
fact's one contract, which its publisher and every consumer import (the whole catalogue: services/catalogue.py)."""
from marshmallow import fields, validate

from services.shared.events import Contract, Id, Vin, When, facts


class CatalogueImported(Contract):
    catalogue_id = Id()
    name = fields.String(required=True)
    version = fields.String(required=True)
    parts = fields.Integer(required=True, validate=validate.Range(min=0))
    rows = fields.Integer(required=True, validate=validate.Range(min=0))
    imported_at = When()


class RequestedLine(Contract):
    number = fields.String(required=True, validate=validate.Regexp(r"^\d{11}$"))
    name = fields.String(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    unit_net_cents = fields.Integer(required=True, validate=validate.Range(min=0))


class PartsRequested(Contract):
    """A workshop's parts list for a car, for a dealer to supply: what partner dealer systems subscribe to."""
    request_id = Id()
    operator_id = Id()
    user_id = Id()
    vin = Vin(required=True)
    job_id = fields.String(allow_none=True, load_default=None)
    lines = fields.List(fields.Nested(RequestedLine), required=True, validate=validate.Length(min=1))
    net_cents = fields.Integer(required=True, validate=validate.Range(min=0))
    currency = fields.String(load_default="EUR", validate=validate.OneOf(("EUR",)))
    requested_at = When()


FACTS = facts(
    "parts",
    CatalogueImported=(CatalogueImported, "A parts catalogue was imported and is what workshops read now."),
    PartsRequested=(PartsRequested, "A workshop sent a parts list for a car to a dealer."),
)
