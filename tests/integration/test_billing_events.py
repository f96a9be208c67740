"""Billing on a real broker and database: AccessPurchased then AccessExpired by its timer, metering of
programming sessions exactly once, and outage credits."""
from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import entrypoint_hook
from sqlalchemy.orm import sessionmaker

from services.billing import use_cases
from services.billing.contracts import FACTS as BILLING
from services.billing.models import OutboxMessage, ProcessedEvent
from services.billing.payments import SandboxCardProvider
from services.billing.service import BillingService
from services.shared.database import Database, Store, make_engine
from services.shared.errors import Conflict, Forbidden, InvalidInput, NotFound, PaymentRequired, Unauthenticated
from tests.helpers import eventually, publish_fact
from tests.integration import listener

pytestmark = pytest.mark.both_databases  # money

OPERATOR = {"operator_id": "op-1", "legal_name": "Werkstatt Müller", "legal_form": "GmbH", "country": "DE",
            "vat_id": "DE136695976", "address": None, "registered_at": datetime.now(timezone.utc)}
ACTOR = {"user_id": "u-1", "operator_id": "op-1", "role": "owner", "email_verified": True}
SELLER = use_cases.Seller("AOS Demo Manufacturer GmbH", "DE", "DE136695976", "Petuelring 1, München")


@pytest.fixture
def billing(container_factory, config):
    listener.RECEIVED.clear()
    container_factory(listener.BillingWatcher, config).start()
    service = container_factory(BillingService, config)
    service.start()
    return service


@pytest.fixture
def desk(config, billing):
    """Billing's own use cases on billing's database, at a time of the test's choosing, handing what they commit
    to the running service's outbox relay as its own workers do."""
    engine = make_engine(config["DATABASE_URLS"]["billing"])
    relay = next(d for d in billing.dependencies if isinstance(d, Database)).relay
    store = Store(sessionmaker(engine, expire_on_commit=False), OutboxMessage, ProcessedEvent, relay.committed,
                  facts=BILLING)
    cards = SandboxCardProvider()

    def at(now):
        return use_cases.Context(store, cards, SELLER, now)
    with store.transaction() as uow:
        use_cases.record_buyer(uow, OPERATOR)
    use_cases.top_up(at(datetime.now(timezone.utc)), ACTOR, {"amount_cents": 100000, "card_token": "tok_visa"}, "k0")
    yield at
    engine.dispose()


def received(kind):
    return [data for event_type, data in listener.RECEIVED if event_type == kind]


def test_access_purchased_then_access_expired_when_the_window_closes(billing, desk, proven):
    an_hour_ago = datetime.now(timezone.utc) - timedelta(seconds=3601)
    bought = use_cases.purchase(desk(an_hour_ago), ACTOR, {"tariff_code": "air-1h"}, "k1")
    eventually(lambda: [t for t, _ in listener.RECEIVED] == ["AccessPurchased", "AccessExpired"],
               what="AccessPurchased, then AccessExpired from billing's timer")
    purchased, expired = received("AccessPurchased")[0], received("AccessExpired")[0]
    assert purchased["entitlement_id"] == expired["entitlement_id"] == bought["entitlement"]["id"]
    assert purchased["scopes"] == ["air", "vehicle_data"] and purchased["tariff_code"] == "air-1h"
    assert purchased["valid_until"] - purchased["valid_from"] == timedelta(hours=1)
    assert expired["expired_at"] == purchased["valid_until"]
    with entrypoint_hook(billing, "entitlements") as call:
        assert call(proven(ACTOR))["windows"] == []


def test_metering_debits_exactly_the_seconds_used_once_and_nothing_for_our_failures(billing, desk, config,
                                                                                    proven, staff_pass):
    use_cases.purchase(desk(datetime.now(timezone.utc)), ACTOR, {"tariff_code": "prog-30"}, "k2")

    def seconds():
        with entrypoint_hook(billing, "entitlements") as call:
            return call(proven(ACTOR))["programming_seconds"]
    assert seconds() == 1800
    now = datetime.now(timezone.utc)
    session = dict(operator_id="op-1", vin="WBA8E9C50GK643215", outcome="failed", failure_side="vehicle", ended_at=now)
    vehicle_failure = publish_fact(config, "SessionEnded", session_id="s-1", seconds_used=600, **session)
    eventually(lambda: seconds() == 1200, what="600 s debited")

    # the same event again (at-least-once delivery): nothing more is debited
    publish_fact(config, "SessionEnded", body=vehicle_failure)
    publish_fact(config, "SessionEnded", session_id="s-2", seconds_used=420,
                     **dict(session, failure_side="platform"))
    eventually(lambda: received("CreditIssued"), what="CreditIssued for our failure")
    assert received("CreditIssued")[0]["seconds"] == 420 and received("CreditIssued")[0]["session_id"] == "s-2"
    publish_fact(config, "SessionExpired", session_id="s-3", operator_id="op-1", vin="WBA8E9C50GK643215",
                     seconds_used=300, expired_at=now)
    eventually(lambda: seconds() == 900, what="300 s of the expired session debited")
    with entrypoint_hook(billing, "check_books") as call:
        assert call(staff_pass) == {"balanced": True, "problems": []}


def test_an_outage_lengthens_every_window_it_overlapped_once(billing, desk, proven, staff_pass):
    now = datetime.now(timezone.utc)
    bought = use_cases.purchase(desk(now - timedelta(minutes=30)), ACTOR, {"tariff_code": "air-1h"}, "k3")
    before = bought["entitlement"]["valid_until"]
    outage = {"started_at": (now - timedelta(minutes=40)).isoformat(), "ended_at": (now - timedelta(minutes=10)).isoformat()}
    with entrypoint_hook(billing, "credit_outage") as call:
        assert call(staff_pass, outage) == {"operators": 1, "windows": 1}
    with entrypoint_hook(billing, "entitlements") as call:
        [window] = call(proven(ACTOR))["windows"]
    assert datetime.fromisoformat(window["valid_until"]) == before + timedelta(minutes=20)  # the overlap, not 30 min
    eventually(lambda: received("CreditIssued"), what="CreditIssued for the outage")
    credit = received("CreditIssued")[0]
    assert credit["seconds"] == 1200 and credit["extended"][0]["entitlement_id"] == window["id"]
    with entrypoint_hook(billing, "credit_outage") as call:
        with pytest.raises(Conflict):
            call(staff_pass, outage)
        with pytest.raises(InvalidInput):
            call(staff_pass, {"started_at": outage["ended_at"], "ended_at": outage["started_at"]})


VIN = "WBA8E9C50GK643215"


def test_a_vin_pass_pays_one_programming_session_for_its_vehicle_and_gets_it_back_when_we_fail(billing, desk, config,
                                                                                                proven, staff_pass):
    now = datetime.now(timezone.utc)
    bought = use_cases.purchase(desk(now), ACTOR, {"tariff_code": "vin-1d", "vin": VIN}, "k4")
    assert bought["entitlement"]["sessions_left"] == 1
    eventually(lambda: received("AccessPurchased"), what="AccessPurchased for the VIN pass")
    assert received("AccessPurchased")[0]["sessions"] == 1 and received("AccessPurchased")[0]["vin"] == VIN

    def claim(session_id, vin=VIN, operator_id="op-1"):
        with entrypoint_hook(billing, "claim_vin_session") as call:
            return call({"operator_id": operator_id, "vin": vin, "session_id": session_id})
    first = claim("s-10")
    assert first["entitlement_id"] == bought["entitlement"]["id"] and first["vin"] == VIN
    assert claim("s-10") == first, "the same session claims once, and asking again answers the same"
    for other in (dict(session_id="s-11"), dict(session_id="s-12", vin="WBA8E9C50GK643216"),
                  dict(session_id="s-13", operator_id="op-2")):
        with pytest.raises(PaymentRequired):
            claim(**other)
    with pytest.raises(Conflict):
        claim("s-10", operator_id="op-2")
    with pytest.raises(InvalidInput):
        claim("s-14", vin="WBA8E9C50GK64321O")

    # a pack of programming time beside the pass: sessions the pass pays for take none of it
    use_cases.purchase(desk(now), ACTOR, {"tariff_code": "prog-30"}, "k5")
    ended = dict(operator_id="op-1", vin=VIN, outcome="failed", ended_at=now)
    publish_fact(config, "SessionEnded", session_id="s-10", seconds_used=900, failure_side="vehicle", **ended)

    # a second pass, whose session fails on our side: that pass has its session back, with a CreditIssued
    second = use_cases.purchase(desk(now), ACTOR, {"tariff_code": "vin-1d", "vin": VIN}, "k6")
    assert claim("s-20")["entitlement_id"] == second["entitlement"]["id"]
    publish_fact(config, "SessionEnded", session_id="s-20", seconds_used=300, failure_side="platform", **ended)
    eventually(lambda: received("CreditIssued"), what="CreditIssued for our failure")
    [credit] = received("CreditIssued")
    assert credit["session_id"] == "s-20" and "session back" in credit["reason"]
    assert claim("s-21")["entitlement_id"] == second["entitlement"]["id"]
    with pytest.raises(PaymentRequired):  # the vehicle's failure spent the first pass's session for good
        claim("s-22")
    with entrypoint_hook(billing, "entitlements") as call:
        assert call(proven(ACTOR))["programming_seconds"] == 1800
    with entrypoint_hook(billing, "check_books") as call:
        assert call(staff_pass) == {"balanced": True, "problems": []}


def test_platform_staff_add_reprice_and_withdraw_a_tariff(billing, desk, staff_pass, proven):
    def save(payload, token=staff_pass):
        with entrypoint_hook(billing, "save_tariff") as call:
            return call(token, payload)

    def on_sale():
        with entrypoint_hook(billing, "tariffs") as call:
            return {t["code"]: t for t in call({"country": "AT"})["tariffs"]}
    added = save({"code": "prog-600", "name": "Programming time, 10 hours", "kind": "programming_pack",
                  "scopes": ["programming"], "seconds": 36000, "net_cents": 45000})
    assert added["gross_cents"] == 53550  # priced for the seller's country (DE, 19 %)
    assert on_sale()["prog-600"]["gross_cents"] == 54000  # a buyer in Austria pays 20 %
    save({"code": "prog-600", "net_cents": 40000})
    assert on_sale()["prog-600"]["net_cents"] == 40000 and on_sale()["prog-600"]["seconds"] == 36000
    bought = use_cases.purchase(desk(datetime.now(timezone.utc)), ACTOR, {"tariff_code": "prog-600"}, "k7")
    assert bought["net_cents"] == 40000

    save({"code": "prog-600", "active": False})
    assert "prog-600" not in on_sale()
    with pytest.raises(NotFound):
        use_cases.purchase(desk(datetime.now(timezone.utc)), ACTOR, {"tariff_code": "prog-600"}, "k8")

    for bad, field in (({"code": "new-one", "name": "Incomplete"}, "kind"),
                       ({"code": "air-1h", "net_cents": -1}, "net_cents"),
                       ({"code": "Air 1h!", "net_cents": 100}, "code"),
                       ({"code": "air-1h", "scopes": ["everything"]}, "scopes")):
        with pytest.raises(InvalidInput) as refused:
            save(bad)
        assert field in refused.value.details["fields"], f"{bad} is refused naming {field}"
    assert on_sale()["air-1h"]["net_cents"] == 900, "a refused change changes nothing"
    # only platform staff price tariffs: a workshop's owner, a token of identity's key in a staff token's place, none
    for token in (proven(ACTOR)["token"], {"token": proven(ACTOR)["token"]}, staff_pass[:-4] + "AAAA", None):
        with pytest.raises(Forbidden if token else Unauthenticated):
            save({"code": "air-1h", "net_cents": 1}, token)
    assert on_sale()["air-1h"]["net_cents"] == 900
