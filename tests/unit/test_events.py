"""The event contracts and the CloudEvents envelope: checked on the way out and on the way in."""
from datetime import datetime, timezone

import pytest

from services.catalogue import CATALOGUE
from services.shared import events

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
JOINED = {"operator_id": "op-1", "user_id": "u-1", "email": "anna@werkstatt.de", "role": "owner", "joined_at": NOW}


def test_every_fact_of_the_design_has_one_contract_and_owner():
    owners = {
        "identity": {"OperatorRegistered", "UserJoined", "TokensRevoked", "SignedIn", "SignInFailed",
                     "SermiLinked", "SermiRefused"},  # TokensRevoked: the gateways refuse them
        "billing": {"AccessPurchased", "AccessExpired", "CreditIssued", "PaymentCaptured", "PaymentRefused"},
        "air": {"DocumentViewed"},
        "vehicle_data": {"ServiceRecordAdded", "VehicleViewed", "VehiclesExported", "OptionRetrofitted",
                         "EcuReplaced"},  # VehicleViewed: who read which car (audit)
        "programming": {"SessionStarted", "SessionExpired", "SessionEnded", "FlashCompleted", "FlashFailed",
                        "PackageWithdrawn", "SecurityKeyIssued", "SecurityJobOpened", "GatewayUnlockIssued",
                        "KeyProgrammed", "SecurityRefused", "AgentChanged", "AgentRefused",
                        "GatewayUnlocked", "JobOpened", "DiagnosisRunEnded", "JobClosed", "CodingWritten",
                        "UnitPaired"},
        "shop": {"OrderPlaced", "OrderCancelled"},  # OrderCancelled: refunds need to hear of cancellations
        "parts": {"CatalogueImported", "PartsRequested"},  # PartsRequested: what dealer systems subscribe to
        "partners": {"ApiKeyIssued", "ApiKeyRevoked", "WebhookDisabled"},
    }
    assert {name: r.owner for name, r in CATALOGUE.items()} == {
        name: owner for owner, names in owners.items() for name in names}


def test_an_envelope_round_trips_through_its_contract():
    body = events.envelope(CATALOGUE["UserJoined"], JOINED, subject="u-1", now=NOW)
    assert body["specversion"] == "1.0" and body["source"] == "/aos/identity" and body["type"] == "UserJoined"
    assert body["time"] == "2026-11-23T12:00:00+00:00" and body["subject"] == "u-1"
    event = events.parse(body, CATALOGUE["UserJoined"])
    assert event.data == JOINED and event.id == body["id"]


def test_a_publisher_cannot_send_what_breaks_the_contract():
    with pytest.raises(events.InvalidEvent, match="role"):
        events.envelope(CATALOGUE["UserJoined"], dict(JOINED, role="janitor"))



def test_a_service_emits_its_own_facts_only():
    from services.shared.database import UnitOfWork
    from services.identity.contracts import FACTS
    work = UnitOfWork(session=None, outbox_model=None, facts=FACTS)
    with pytest.raises(events.InvalidEvent, match="AccessPurchased is not a fact of this service"):
        work.emit("AccessPurchased", {})


@pytest.mark.parametrize("mutate, problem", [
    (lambda b: b.update(specversion="0.3"), "envelope"),
    (lambda b: b.pop("id"), "envelope"),
    (lambda b: b.update(extra="x"), "envelope"),
    (lambda b: b["data"].update(email="not-an-email"), "data is invalid"),
    (lambda b: b["data"].pop("user_id"), "data is invalid"),
    (lambda b: b.update(source="/aos/shop"), "must come from /aos/identity"),
    (lambda b: b.update(time="yesterday"), "envelope"),
])
def test_a_consumer_refuses_what_breaks_the_contract(mutate, problem):
    body = events.envelope(CATALOGUE["UserJoined"], JOINED)
    mutate(body)
    with pytest.raises(events.InvalidEvent, match=problem):
        events.parse(body, CATALOGUE["UserJoined"])


def test_a_consumer_refuses_an_event_of_another_type():
    with pytest.raises(events.InvalidEvent, match="expected OperatorRegistered"):
        events.parse(events.envelope(CATALOGUE["UserJoined"], JOINED), CATALOGUE["OperatorRegistered"])
