"""Partners' RPC contract: a workshop's API keys (issue, list, revoke) and the gateway's check of a key; a leaf,
with the words it needs (the scopes a key may be given)."""
import re

from marshmallow import fields, validate

from services.partners.contracts import SCOPES
from services.shared.schemas import Input, Output, Text

PREFIX = "aos_"
KEY_PATTERN = re.compile(r"^aos_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$")
MAX_DAYS = 366  # a key lives a year at most: a forgotten key ends by itself


class ApiKeyInput(Input):
    name = Text(80, metadata={"description": "what the key is for, e.g. the tool or partner system that holds it"})
    scopes = fields.List(fields.String(validate=validate.OneOf(tuple(SCOPES), error="one of: " + ", ".join(SCOPES))),
                         required=True, validate=validate.Length(1, len(SCOPES)),
                         metadata={"description": "what the key may read: " + "; ".join(
                             f"`{k}` {v}" for k, v in SCOPES.items())})
    expires_in_days = fields.Integer(load_default=90, strict=True, validate=validate.Range(1, MAX_DAYS),
                                     metadata={"description": f"how long the key lives, 1 to {MAX_DAYS} days"})


class KeyCheck(Input):
    """The gateway's question: may the holder of `key` read `scope` now? (Counted and throttled.)"""
    key = fields.String(required=True, validate=validate.Length(1, 200))
    scope = fields.String(required=True, validate=validate.OneOf(tuple(SCOPES)))


class KeyDayUse(Output):
    day = fields.Date()
    requests = fields.Integer()


class ApiKeyOut(Output):
    id = fields.String()
    name = fields.String()
    scopes = fields.List(fields.String())
    prefix = fields.String(metadata={"description": "the key's start, to recognise it: the secret is never shown "
                                                    "again"})
    state = fields.String(metadata={"description": "active, expired or revoked"})
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    usage = fields.List(fields.Nested(KeyDayUse), metadata={"description": "requests per day (UTC), the last 7 days"})


class NewApiKey(ApiKeyOut):
    key = fields.String(metadata={"description": "the key itself: shown this once, stored only as a hash"})


class ApiKeysOut(Output):
    keys = fields.List(fields.Nested(ApiKeyOut))
    scopes = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "every scope a key may be given, in words"})


class KeyRate(Output):
    limit = fields.Integer()
    remaining = fields.Integer()
    reset_seconds = fields.Integer()


class KeyAdmitted(Output):
    token = fields.String(metadata={"description": "the key's proof for the services, signed by partners, short-lived"})
    rate = fields.Nested(KeyRate)


# ---- webhooks ---------------------------------------------------------------------------------------------------

class EndpointInput(Input):
    url = fields.String(required=True, validate=validate.Length(1, 2000), metadata={
        "description": "where the facts go: https:// on the internet (plain http to this machine in development)"})
    description = Text(200, required=False, load_default="", empty=True)
    event_types = fields.List(fields.String(validate=validate.Length(1, 64)), required=True,
                              validate=validate.Length(1, 100), metadata={
                                  "description": "the facts it takes (GET /api/v1/webhooks lists them; the AsyncAPI "
                                                 "document describes each)"})


class EndpointChange(Input):
    event_types = fields.List(fields.String(validate=validate.Length(1, 64)), validate=validate.Length(1, 100))
    enabled = fields.Boolean()


class EndpointOut(Output):
    id = fields.String()
    url = fields.String()
    description = fields.String()
    event_types = fields.List(fields.String())
    state = fields.String(metadata={"description": "active or disabled"})
    created_at = fields.DateTime()
    disabled_at = fields.DateTime(allow_none=True)
    disabled_reason = fields.String(allow_none=True)
    last_success_at = fields.DateTime(allow_none=True)
    previous_secret_until = fields.DateTime(allow_none=True, metadata={
        "description": "after a rotation: until when the secret before still signs (beside the new one)"})


class EndpointWithSecret(EndpointOut):
    secret = fields.String(metadata={"description": "the Standard Webhooks signing secret (whsec_...)"})


class EndpointsOut(Output):
    endpoints = fields.List(fields.Nested(EndpointOut))
    event_types = fields.List(fields.String(), metadata={"description": "every type an endpoint may take"})


class EndpointDeleted(Output):
    id = fields.String()
    deleted = fields.Boolean()


class DeliveriesQuery(Input):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class AttemptOut(Output):
    attempted_at = fields.DateTime()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliveryOut(Output):
    id = fields.String(metadata={"description": "the webhook-id: a receiver drops one it has seen"})
    event_id = fields.String()
    event_type = fields.String()
    created_at = fields.DateTime()
    status = fields.String(metadata={"description": "pending, delivered or failed (after three days of tries)"})
    attempts = fields.List(fields.Nested(AttemptOut))
    next_attempt_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


class DeliveriesOut(Output):
    deliveries = fields.List(fields.Nested(DeliveryOut))


class Redelivery(Output):
    id = fields.String()
    status = fields.String()
    next_attempt_at = fields.DateTime()
