"""The AsyncAPI document lists every event of the catalogue, where it is published, and a schema that what AOS
publishes (services/shared/events.py's envelopes, as the outbox relay sends them) satisfies."""
from datetime import datetime, timezone

import jsonschema
import pytest

from gateway import asyncapi
from services.catalogue import CATALOGUE
from services.shared import events

DOCUMENT = asyncapi.build()
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def validator(name):
    """The event's message payload schema, with the document's components to resolve its references."""
    schema = {"$ref": f"#/components/messages/{name}/payload", "components": DOCUMENT["components"]}
    return jsonschema.Draft7Validator(schema)


def test_every_event_has_a_channel_on_its_owners_exchange_and_an_operation():
    assert DOCUMENT["asyncapi"] == "3.0.0"
    assert set(DOCUMENT["channels"]) == set(CATALOGUE)
    for name, registration in CATALOGUE.items():
        channel = DOCUMENT["channels"][name]
        assert channel["address"] == name
        assert channel["bindings"]["amqp"]["exchange"]["name"] == f"{registration.owner}.events"
        assert DOCUMENT["operations"][f"receive{name}"]["channel"] == {"$ref": f"#/channels/{name}"}


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_each_example_passes_the_schema_and_a_consumers_checks(name):
    [example] = DOCUMENT["components"]["messages"][name]["examples"]
    validator(name).validate(example["payload"])
    assert events.parse(example["payload"], CATALOGUE[name]).type == name


def test_the_schema_says_what_each_contract_says():
    for name, registration in CATALOGUE.items():
        properties = DOCUMENT["components"]["schemas"][f"{name}Data"]["properties"]
        assert set(properties) == set(registration.schema().fields), name


@pytest.mark.parametrize("name, data", [
    ("AccessPurchased", {"operator_id": "op-1", "purchase_id": "p-1", "entitlement_id": "e-1", "tariff_code": "prog-30",
                         "scopes": ["programming"], "vin": None, "valid_from": NOW, "valid_until": None,
                         "seconds": 1800, "seats": 1, "sessions": 0}),
    ("CreditIssued", {"operator_id": "op-1", "credit_id": "c-1", "reason": "outage", "seconds": 600, "session_id": None,
                      "extended": [{"entitlement_id": "e-1", "valid_until": NOW}], "issued_at": NOW}),
    ("OperatorRegistered", {"operator_id": "op-1", "legal_name": "Werkstatt Müller", "legal_form": None,
                            "country": "AT", "vat_id": None, "address": None, "registered_at": NOW}),
    ("TokensRevoked", {"operator_id": "op-1", "user_id": "u-1", "session_id": None, "reason": "deactivated",
                       "revoked_at": NOW}),
])
def test_events_as_published_with_their_empty_fields_pass_the_schema(name, data):
    validator(name).validate(events.envelope(CATALOGUE[name], data, subject="op-1", now=NOW))


def test_a_body_that_breaks_the_contract_breaks_the_schema_too():
    body = events.envelope(CATALOGUE["OrderCancelled"], {"order_id": "o-1", "operator_id": "op-1", "reason": "by_customer",
                                              "cancelled_at": NOW})
    body["data"]["reason"] = "changed my mind"
    with pytest.raises(jsonschema.ValidationError):
        validator("OrderCancelled").validate(body)
