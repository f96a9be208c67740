"""Partners' facts: an API key issued, an API key revoked (the audit trail records both; the next request with a
revoked key is refused, as partners checks every one). Each fact's one contract (the whole catalogue:
services/catalogue.py)."""
from marshmallow import fields, validate

from services.shared.events import Contract, Id, When, facts

# what a key may read, in the workshop's words: each a kind of data the gateway's routes name
SCOPES = {
    "air": "technical information",
    "vehicles": "vehicle data",
    "parts": "parts",
    "diagnostics": "diagnostic descriptions",
    "events": "events",
}


class ApiKeyIssued(Contract):
    key_id = Id()
    operator_id = Id()
    user_id = Id()
    name = fields.String(required=True)
    scopes = fields.List(fields.String(validate=validate.OneOf(tuple(SCOPES))), required=True)
    expires_at = When()
    issued_at = When()


class ApiKeyRevoked(Contract):
    key_id = Id()
    operator_id = Id()
    user_id = Id()
    revoked_at = When()


class WebhookDisabled(Contract):
    endpoint_id = Id()
    operator_id = Id()
    url = fields.String(required=True)
    reason = fields.String(required=True)
    disabled_at = When()


FACTS = facts(
    "partners",
    ApiKeyIssued=(ApiKeyIssued, "A workshop created an API key for a tool or partner system (never its secret)."),
    ApiKeyRevoked=(ApiKeyRevoked, "A workshop revoked an API key: it reads nothing more."),
    WebhookDisabled=(WebhookDisabled, "A webhook endpoint answered nothing for three days and was disabled."),
)
