"""The event catalogue for partner systems: an AsyncAPI 3 document built from the event contracts
(each service's contracts.py, together in services/catalogue.py), with the CloudEvents envelope, each event's exchange and routing key, and an
example that passes the same checks a consumer makes."""
from datetime import date, datetime, timezone

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields, validate

from services.catalogue import CATALOGUE
from services.shared import events

EXAMPLE_TIME = datetime(2026, 11, 24, 8, 30, tzinfo=timezone.utc)
NAMED = {"vin": "WBA7K7109MW240891", "country": "DE", "vat_id": "DE136695976", "email": "anna@werkstatt.de",
         "postal_code": "80331", "ecu_address": "0x12", "number": "12138643360"}


def _json_schemas():
    """JSON Schema of each contract and of the envelope, by apispec's marshmallow converter, with OpenAPI's
    `nullable` said the JSON Schema way (AsyncAPI's schemas are JSON Schema draft 7)."""
    spec = APISpec(title="x", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("CloudEventsEnvelope", schema=events.Envelope)
    for name, registration in CATALOGUE.items():
        spec.components.schema(f"{name}Data", schema=registration.schema)
    schemas = _draft7(spec.to_dict()["components"]["schemas"])
    schemas["CloudEventsEnvelope"]["properties"]["type"] = {"type": "string", "enum": list(CATALOGUE)}  # every fact
    return schemas


def _draft7(node):
    if isinstance(node, list):
        return [_draft7(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _draft7(value) for key, value in node.items()}
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [node["type"], "null"]
    return node


def example_value(name, field):
    """A value a consumer's contract accepts, for the example of each event."""
    if isinstance(field, fields.Nested):
        return [example(type(field.schema))] if field.many else example(type(field.schema))
    if isinstance(field, fields.List):
        return [example_value(name, field.inner)]
    choices = [v for v in field.validators if isinstance(v, validate.OneOf)]
    if choices:
        return list(choices[0].choices)[0]
    if isinstance(field, fields.Date):  # before DateTime: a Date is one
        return date(2026, 11, 24).isoformat()
    if isinstance(field, fields.DateTime):
        return EXAMPLE_TIME.isoformat()
    if isinstance(field, fields.Integer):
        lows = [v.min for v in field.validators if isinstance(v, validate.Range) and v.min is not None]
        return max(lows + [1])
    if isinstance(field, fields.Dict):
        return {}
    if isinstance(field, fields.Boolean):
        return True
    if isinstance(field, fields.Email):
        return NAMED["email"]
    return NAMED.get(name, f"{name.replace('_', '-')}-1")


def example(schema):
    return {name: example_value(name, field) for name, field in schema().fields.items()}


def build():
    schemas = _json_schemas()
    channels, operations, messages = {}, {}, {}
    for name, registration in CATALOGUE.items():
        exchange = f"{registration.owner}.events"
        envelope = events.envelope(registration, registration.schema().load(example(registration.schema)),
                                   subject="op-1", event_id="3f0c2a8e-0000-4000-8000-000000000001", now=EXAMPLE_TIME)
        messages[name] = {
            "name": name, "title": name, "summary": registration.summary, "contentType": "application/json",
            "payload": {"allOf": [{"$ref": "#/components/schemas/CloudEventsEnvelope"},
                                  {"type": "object", "properties": {
                                      "type": {"const": name}, "source": {"const": f"/aos/{registration.owner}"},
                                      "data": {"$ref": f"#/components/schemas/{name}Data"}}}]},
            "examples": [{"name": f"{name}Example", "payload": envelope}]}
        channels[name] = {
            "address": name, "title": f"{name} on {exchange}",
            "description": f"Published by {registration.owner} on the topic exchange `{exchange}` with routing key "
                           f"`{name}`. Bind a durable queue of your own to it.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {
                "name": exchange, "type": "topic", "durable": True, "autoDelete": False}, "bindingVersion": "0.3.0"}}}
        operations[f"receive{name}"] = {"action": "receive", "channel": {"$ref": f"#/channels/{name}"},
                                        "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}]}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "AOS events", "version": "1.0.0", "description": (
            "Facts AOS publishes, each in a CloudEvents 1.0 envelope (JSON). Delivery is at least once: drop an "
            "event whose `id` you have handled. Validate `data` against its schema; AOS does the same on both ends. "
            "The same envelopes reach a workshop's webhook endpoints (POST /api/v1/webhooks): each an HTTP POST of "
            "`application/cloudevents+json`, signed as the Standard Webhooks specification says (headers "
            "`webhook-id`, `webhook-timestamp`, `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of "
            "`id.timestamp.body` with the endpoint's secret, two during a rotation); a workshop's own facts (those "
            "whose data name its `operator_id`) and CatalogueImported; answered 2xx or tried again for three days.")},
        "defaultContentType": "application/json",
        "servers": {"rabbitmq": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
                                 "description": "The AOS broker (its address depends on the installation)."},
                    "webhooks": {"host": "your-endpoint.example", "protocol": "https",
                                 "description": "A partner's webhook endpoint, to which AOS POSTs each fact it takes "
                                                "(see the description above)."}},
        "channels": channels, "operations": operations,
        "components": {"schemas": schemas, "messages": messages}}
