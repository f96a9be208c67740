"""Each service's main use cases, run as its service runs them but against in-memory fakes of its ports
(tests/unit/fakes.py: the repository in memory, the mailer, the object store, the clock given): no RabbitMQ, no
database server. What the journeys and the broker show stays in e2e/ and integration/."""
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from deploy import vehicles
from services.shared.errors import AosError
from tests.unit.fakes import Mailbox, MemoryStore, Shelf

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)
OWNER = {"user_id": "u-1", "operator_id": "op-1", "role": "owner", "email_verified": True}
CAR = vehicles.generate(1, seed=32)["vehicles"][0]


def refused(call, *args, **kw):
    with pytest.raises(AosError) as caught:
        call(*args, **kw)
    return caught.value


# ---- identity -----------------------------------------------------------------------------------------------------

@pytest.fixture
def identity(tmp_path):
    from services.identity import domain, models, use_cases
    from services.identity.contracts import FACTS
    from services.shared.tokens import TokenSigner, generate_keypair
    generate_keypair(tmp_path / "key.pem", tmp_path / "key.pub.pem")
    store, mails = MemoryStore(models.Base, models.OutboxMessage, models.ProcessedEvent, FACTS), Mailbox()
    policy = use_cases.Policy(access_ttl=600, refresh_ttl=86400, login_window=900, max_account_failures=5,
                              max_address_failures=20)
    ctx = use_cases.Context(store, domain.Passwords(), TokenSigner((tmp_path / "key.pem").read_bytes(), 600),
                            policy, NOW, mailer=mails, portal_url="http://portal.test")
    return use_cases, ctx, store, mails


def workshop(email, vat_id=None):
    return {"operator": {"legal_name": "Werkstatt Müller", "legal_form": "GmbH", "country": "DE", "vat_id": vat_id,
                         "address": {"street": "Hauptstraße 1", "postal_code": "80331", "city": "München"}},
            "owner": {"email": email, "name": "Anna Müller", "password": "Bremsscheibe-Drehmoment-42"}}


def test_identity_registers_a_workshop_that_signs_in_once_its_address_is_confirmed(identity):
    use_cases, ctx, store, mails = identity
    answer = use_cases.register_operator(ctx, workshop("anna@werkstatt.de", "DE136695976"))
    assert answer["sent_to"] == "anna@werkstatt.de"
    assert [f["legal_name"] for f in store.facts("OperatorRegistered")] == ["Werkstatt Müller"]
    login = {"email": "anna@werkstatt.de", "password": "Bremsscheibe-Drehmoment-42"}
    assert refused(use_cases.login, ctx, login, "192.0.2.1").code == "LOGIN_FAILED"  # not confirmed yet
    token = mails.to("anna@werkstatt.de")[0].text.split("verify-email?token=")[1].split()[0]
    assert use_cases.verify_email(ctx, {"token": token})["verified"]
    assert use_cases.login(ctx, login, "192.0.2.1")["next"] == "enrol"


def test_identity_answers_a_second_registration_alike_and_mails_the_address_s_owner(identity):
    use_cases, ctx, store, mails = identity
    use_cases.register_operator(ctx, workshop("anna@werkstatt.de"))
    again = use_cases.register_operator(ctx, workshop("Anna@Werkstatt.de"))
    assert again["sent_to"] == "anna@werkstatt.de" and len(store.facts("OperatorRegistered")) == 1
    assert "registrieren" in mails.to("anna@werkstatt.de")[-1].subject
    use_cases.register_operator(ctx, workshop("tom@werkstatt.de", "DE136695976"))
    taken = refused(use_cases.register_operator, ctx, workshop("eva@werkstatt.de", "DE136695976"))
    assert taken.code == "VAT_ID_TAKEN"


# ---- billing ------------------------------------------------------------------------------------------------------

@pytest.fixture
def billing():
    from services.billing import models, use_cases
    from services.billing.contracts import FACTS
    from services.billing.payments import SandboxCardProvider
    store = MemoryStore(models.Base, models.OutboxMessage, models.ProcessedEvent, FACTS)
    ctx = use_cases.Context(store, SandboxCardProvider(), use_cases.Seller("AOS Demo GmbH", "DE", "DE136695976",
                                                                           "München"), NOW, mailer=Mailbox())
    use_cases.save_tariff(ctx, {"code": "air-1h", "name": "Technical information, 1 hour", "kind": "access",
                                "scopes": ["air"], "period": "hour", "net_cents": 1000})
    with store.transaction() as uow:
        use_cases.record_buyer(uow, {"operator_id": "op-1", "legal_name": "Werkstatt", "country": "DE",
                                     "vat_id": None, "contact_email": "anna@werkstatt.de"})
    return use_cases, ctx, store


def test_billing_sells_an_hour_from_credit_once_per_key_and_refuses_what_credit_cannot_pay(billing):
    use_cases, ctx, store = billing
    refused_purchase = refused(use_cases.purchase, ctx, OWNER, {"tariff_code": "air-1h"}, "k-0")
    assert refused_purchase.code == "INSUFFICIENT_CREDIT" and store.facts("AccessPurchased") == []
    use_cases.top_up(ctx, OWNER, {"amount_cents": 5000, "card_token": "tok_visa"}, "t-1")
    bought = use_cases.purchase(ctx, OWNER, {"tariff_code": "air-1h"}, "k-1")
    again = use_cases.purchase(ctx, OWNER, {"tariff_code": "air-1h"}, "k-1")  # a retry: charged once
    assert bought["id"] == again["id"] and len(store.facts("AccessPurchased")) == 1
    assert use_cases.credit(ctx, OWNER)["balance_cents"] == 5000 - 1190  # 10.00 net, German VAT
    assert refused(use_cases.purchase, ctx, OWNER, {"tariff_code": "air-9y"}, "k-2").code == "UNKNOWN_TARIFF"


# ---- the shop -----------------------------------------------------------------------------------------------------

@pytest.fixture
def shop():
    from services.shop import models, use_cases
    from services.shop.contracts import FACTS
    store = MemoryStore(models.Base, models.OutboxMessage, models.ProcessedEvent, FACTS)
    ctx = use_cases.Context(store, NOW, "DE", Shelf())
    use_cases.save_product(ctx, {"sku": "BSU-100A", "name": "Battery support unit", "description": "13.5 V",
                                 "net_cents": 89000})
    use_cases.receive_stock(ctx, {"sku": "BSU-100A", "quantity": 2})
    return use_cases, ctx, store


def test_the_shop_reserves_stock_with_the_order_and_never_sells_what_is_not_there(shop):
    use_cases, ctx, store = shop
    placed = use_cases.place_order(ctx, OWNER, {"lines": [{"sku": "BSU-100A", "quantity": 2}],
                                                "payment_method": "credit"}, "o-1")
    assert placed["status"] == "placed" and use_cases.product(ctx, "BSU-100A", "DE")["stock"] == 0
    assert [f["total_cents"] for f in store.facts("OrderPlaced")] == [2 * 89000]  # net: billing adds the VAT
    short = refused(use_cases.place_order, ctx, OWNER, {"lines": [{"sku": "BSU-100A", "quantity": 1}],
                                                        "payment_method": "credit"}, "o-2")
    assert short.code == "OUT_OF_STOCK" and len(store.facts("OrderPlaced")) == 1


# ---- vehicle data -------------------------------------------------------------------------------------------------

@pytest.fixture
def vehicle_data():
    from services.vehicle_data import feed, models, use_cases
    from services.vehicle_data.contracts import FACTS
    from services.vehicle_data.settings import VehicleDataSettings
    store = MemoryStore(models.Base, models.OutboxMessage, models.ProcessedEvent, FACTS)
    with store.transaction() as uow:
        feed.import_rows(uow.session, feed.check({"format": feed.FORMAT, "vehicles": [CAR], "campaigns": []}), NOW)
        uow.session.add(models.Access(entitlement_id="e-1", operator_id="op-1", scopes=["vehicle_data"], vin=None,
                                      valid_from=NOW - timedelta(hours=1), valid_until=NOW + timedelta(days=30)))
    return use_cases, store, lambda now, days=14: use_cases.Context(store, now, lambda: ["vd-1d"],
                                                                     VehicleDataSettings(correction_days=days))


def test_vehicle_data_keeps_a_workshop_s_record_correctable_for_the_set_window_only(vehicle_data):
    use_cases, store, at = vehicle_data
    record = {"performed_on": date(2026, 12, 4), "odometer_km": 42000, "items": [{"code": "ENGINE_OIL", "text": ""}]}
    added = use_cases.add_record(at(NOW, days=3), OWNER, CAR["vin"], record)
    assert added["correctable_until"] == NOW + timedelta(days=3)
    assert [f["work_codes"] for f in store.facts("ServiceRecordAdded")] == [["ENGINE_OIL"]]
    late = refused(use_cases.add_record, at(NOW + timedelta(days=4), days=3), OWNER, CAR["vin"],
                   record | {"corrects": added["record_id"], "odometer_km": 42001})
    assert late.code == "RECORD_PERMANENT" and "3 days" in late.message
    stranger = dict(OWNER, operator_id="op-2")
    assert refused(use_cases.history, at(NOW), stranger, CAR["vin"]).status == 402  # no access: what to buy


# ---- AIR ----------------------------------------------------------------------------------------------------------

def test_air_opens_a_document_with_access_and_records_it_and_names_what_to_buy_without(tmp_path):
    from services.air import models, use_cases
    from services.air.contracts import FACTS
    store = MemoryStore(models.Base, models.OutboxMessage, models.ProcessedEvent, FACTS)
    with store.transaction() as uow:
        uow.session.add(models.Document(
            id="DTC-P0301", type="fault_code", title="P0301 Cylinder 1 misfire", system="11", language="en",
            version=1, valid_from=date(2024, 1, 1), codes=["P0301"], applicability={}, body={"summary": "x"},
            binaries=[], package="demo@1", revision=1, imported_at=NOW))
    ctx = use_cases.Context(store, index=None, now=NOW, vehicle=lambda vin: None, tariffs=lambda: ["air-1h"],
                            blobs=Shelf())
    closed = refused(use_cases.open_document, ctx, OWNER, "DTC-P0301", {"vin": None})
    assert closed.code == "ACCESS_REQUIRED" and closed.details["tariffs"] == ["air-1h"]
    with store.transaction() as uow:
        uow.session.add(models.Access(entitlement_id="e-1", operator_id="op-1", scopes=["air"], vin=None,
                                      valid_from=NOW - timedelta(hours=1), valid_until=NOW + timedelta(hours=1)))
    use_cases.ACCESS.kept.clear()  # the read model keeps entitlements a moment: a new one is seen here at once
    opened = use_cases.open_document(ctx, OWNER, "DTC-P0301", {"vin": None})
    assert opened["title"] == "P0301 Cylinder 1 misfire"
    assert [f["document_id"] for f in store.facts("DocumentViewed")] == ["DTC-P0301"]


# ---- programming --------------------------------------------------------------------------------------------------

@pytest.fixture
def programming(tmp_path):
    """A programming session the workshop started on the plan pre-flight made (no SERMI job: the theft-relevant
    ECUs left out), with its agent's credentials."""
    from services.programming import models, use_cases
    from services.programming.contracts import FACTS
    from services.programming.settings import ProgrammingSettings
    from services.shared.config import build
    from services.shared.errors import PaymentRequired
    store = MemoryStore(models.Base, models.OutboxMessage, models.ProcessedEvent, FACTS)
    settings = build(ProgrammingSettings, {"AOS_PROFILE": "development", "AOS_DATA_DIR": str(tmp_path)})
    with store.transaction() as uow:
        for i, ecu in enumerate(CAR["ecus"]):
            uow.session.add(models.Package(
                id=f"p{ecu['address']}", series=CAR["series"], ecu_address=ecu["address"],
                hardware_part_numbers=[ecu["hardware_part_number"]], software_version="NEW", integration_level="L2",
                flash_order=i, size=10, sha256="ab" * 32, manifest={}, signature="", imported_at=NOW))
        use_cases.AccountTime.credit(uow.session, "op-1", 1800)

    def no_pass(claim):
        raise PaymentRequired("NO_VIN_PASS_SESSION", "none", {})
    ctx = use_cases.Context(store, NOW, settings, Shelf(), describe=lambda vin: CAR, claim_vin_session=no_pass,
                            offer=lambda scope: ["prog-30"])
    agent = use_cases.register_agent(ctx, OWNER, {"name": "bay 1"})
    credentials = (agent["id"], agent["credential"])
    opened = use_cases.open_session(ctx, OWNER, {"vin": CAR["vin"], "agent_id": agent["id"]})
    reading = {"vin": CAR["vin"], "voltage_mv": 12700, "ecus": [
        {"address": e["address"], "software_version": "OLD", "state": "APPLICATION",
         "hardware_part_number": e["hardware_part_number"]} for e in CAR["ecus"]]}
    ready = use_cases.report(ctx, credentials, opened["id"], {"sequence": 1, "kind": "preflight", "vehicle": reading})
    use_cases.report(ctx, credentials, opened["id"], {"sequence": 2, "kind": "files_verified",
                                                      "package_ids": [s["package_id"] for s in ready["plan"]]})
    programmer = OWNER | {"amr": ["pwd", "otp"], "auth_time": NOW.timestamp()}
    started = use_cases.start(ctx, programmer, opened["id"])
    return SimpleNamespace(use_cases=use_cases, ctx=ctx, store=store, credentials=credentials, id=opened["id"],
                           ready=ready, started=started)


def test_programming_plans_what_the_workshop_may_do_before_the_clock_and_starts_only_on_it(programming):
    p, use_cases = programming, programming.use_cases
    theft_relevant = {e["address"] for e in CAR["ecus"] if e["name"].split()[0] in ("DME", "BDC")}
    assert {x["ecu_address"] for x in p.ready["preflight"]["left_out"]} == theft_relevant  # no SERMI job on the car
    assert p.started["state"] == "running" and p.store.facts("SessionStarted")[0]["session_id"] == p.id
    outside = refused(use_cases.security_key, p.ctx, p.credentials, p.id,
                      {"ecu_address": sorted(theft_relevant)[0], "seed": "1a2b3c4d"})
    assert outside.code == "ECU_NOT_IN_PLAN" and outside.details["final"]  # final: the session ended with it
    assert [f["reason"] for f in p.store.facts("AgentRefused")] == ["ECU_NOT_IN_PLAN"]
    assert p.store.facts("SessionEnded")[0]["failure_side"] == "vehicle"


def test_a_restarted_agent_s_first_report_resumes_the_interrupted_session_and_the_silence_is_not_billed(
        programming):
    """The timer may interrupt a session between a restarted agent's heartbeat and its report: the report is the
    agent alive, as the heartbeat is, never a refusal that would end a job the workshop paid for."""
    p, use_cases = programming, programming.use_cases
    silence = p.ctx.rules.heartbeat_timeout + 5
    later = replace(p.ctx, now=NOW + timedelta(seconds=silence))
    use_cases.watch_clocks(later)
    assert use_cases.get_session(later, OWNER, p.id)["state"] == "interrupted"
    step = p.ready["plan"][0]["ecu_address"]
    back = replace(p.ctx, now=NOW + timedelta(seconds=silence + 60))
    answered = use_cases.report(back, p.credentials, p.id, {"sequence": 3, "kind": "flash_started",
                                                            "ecu_address": step})
    assert answered["state"] == "running" and answered["plan"][0]["status"] == "flashing"
    assert not p.store.facts("AgentRefused") and not p.store.facts("SessionEnded")
    assert answered["used_seconds"] <= p.ctx.rules.heartbeat_timeout  # the silence and the hour away are not counted


# ---- the audit trail ----------------------------------------------------------------------------------------------

def test_the_audit_trail_appends_each_fact_once_and_its_chains_verify(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from services.audit import models, use_cases
    from services.catalogue import CATALOGUE
    from services.shared import events
    store = MemoryStore(models.Base, models.OutboxMessage, models.ProcessedEvent)
    private = Ed25519PrivateKey.generate()
    keys = SimpleNamespace(private=private, public=private.public_key(), key_id="k-1")
    ctx = use_cases.Context(store, keys, NOW)
    viewed = events.parse(events.envelope(CATALOGUE["VehicleViewed"], {
        "operator_id": "op-1", "user_id": "u-1", "vin": CAR["vin"], "view": "build_data", "viewed_at": NOW}),
        CATALOGUE["VehicleViewed"])
    use_cases.record(ctx, [viewed])
    use_cases.record(ctx, [viewed, viewed])  # delivered twice more, in one batch: appended once
    assert use_cases.checkpoint(ctx) == 1
    trail = use_cases.trail(ctx, {"limit": 10}, chain="op-1")["entries"]
    assert [(e.kind, e.seq) for e in trail] == [("VehicleViewed", 1)]
    assert use_cases.verify(ctx)["verified"]
