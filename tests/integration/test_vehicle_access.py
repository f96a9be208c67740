"""Vehicle data keeps billing's entitlements as its own read model: it opens with AccessPurchased, follows an
outage's extension (CreditIssued) and closes with AccessExpired; other services ask it about vehicles by RPC."""
from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import entrypoint_hook
from sqlalchemy.orm import Session

from services.shared.database import make_engine
from services.shared.errors import NotFound, PaymentRequired
from deploy import vehicles
from services.vehicle_data import feed
from services.vehicle_data.models import Access
from services.vehicle_data.service import VehicleDataService
from tests.helpers import eventually, publish_fact
from tests.integration import listener

DEMO = vehicles.generate(10, seed=9)
VIN = DEMO["vehicles"][0]["vin"]
ACTOR = {"user_id": "u-1", "operator_id": "op-1", "role": "technician"}


@pytest.fixture
def vehicle_data(container_factory, config):
    engine = make_engine(config["DATABASE_URLS"]["vehicle_data"])
    with Session(engine) as session, session.begin():
        feed.import_rows(session, feed.check(vehicles.generate(10, seed=9)), datetime.now(timezone.utc))
    engine.dispose()
    service = container_factory(VehicleDataService, config)
    service.start()
    return service


def known(config, entitlement_id):
    engine = make_engine(config["DATABASE_URLS"]["vehicle_data"])
    with Session(engine) as session:
        found = session.get(Access, entitlement_id) is not None
    engine.dispose()
    return found


def may_read(service, proven):
    with entrypoint_hook(service, "vehicle") as call:
        return call(proven(ACTOR), VIN)["access"]


def test_access_follows_billing_facts(vehicle_data, config, proven):
    now = datetime.now(timezone.utc)
    window = dict(operator_id="op-1", entitlement_id="e-1", scopes=["air", "vehicle_data"], vin=None)
    assert not may_read(vehicle_data, proven)
    publish_fact(config, "AccessPurchased", purchase_id="p-1", tariff_code="air-1h", valid_from=now,
                 valid_until=now + timedelta(hours=1), **window)
    eventually(lambda: may_read(vehicle_data, proven), what="AccessPurchased to open the vehicle")
    publish_fact(config, "AccessExpired", expired_at=now, **window)
    eventually(lambda: not may_read(vehicle_data, proven), what="AccessExpired to close it")
    with entrypoint_hook(vehicle_data, "maintenance") as call:
        with pytest.raises(PaymentRequired):
            call(proven(ACTOR), VIN, {})

    # a window that ended, then lengthened by an outage credit: readable again until its new end
    publish_fact(config, "AccessPurchased", purchase_id="p-2", tariff_code="air-1h", valid_from=now - timedelta(hours=2),
                 valid_until=now - timedelta(minutes=5), **dict(window, entitlement_id="e-2"))
    eventually(lambda: known(config, "e-2"), what="the ended window to be recorded")
    publish_fact(config, "CreditIssued", operator_id="op-1", credit_id="c-1", reason="outage", seconds=3600,
                 extended=[{"entitlement_id": "e-2", "valid_until": now + timedelta(minutes=55)}], issued_at=now)
    eventually(lambda: may_read(vehicle_data, proven), what="the extension to open it again")


def test_other_services_ask_about_a_vehicle(vehicle_data):
    with entrypoint_hook(vehicle_data, "describe") as call:
        described = call(VIN)
        assert described["vin"] == VIN and described["series"] == DEMO["vehicles"][0]["series"]
        assert described["model_year"] == int(DEMO["vehicles"][0]["production_date"][:4])
        assert {e["address"] for e in described["ecus"]} == {e["address"] for e in DEMO["vehicles"][0]["ecus"]}
        with pytest.raises(NotFound):
            call("WBA8E9C50GK643215")


def test_a_service_record_is_announced_with_service_record_added(vehicle_data, container_factory, config,
                                                                  proven):
    listener.RECEIVED.clear()
    container_factory(listener.VehicleWatcher, config).start()
    now = datetime.now(timezone.utc)
    publish_fact(config, "AccessPurchased", operator_id="op-1", entitlement_id="e-3", purchase_id="p-3",
                 tariff_code="vin-1d", scopes=["vin"], vin=VIN, valid_from=now, valid_until=now + timedelta(days=1))
    eventually(lambda: may_read(vehicle_data, proven), what="the VIN pass to arrive")
    with entrypoint_hook(vehicle_data, "add_service_record") as call:
        added = call(proven(ACTOR), VIN, {"performed_on": now.date().isoformat(), "odometer_km": 1234,
                                  "items": [{"code": "BRAKE_FLUID"}, {"code": "DIAGNOSIS", "text": "no faults"}]})
    eventually(lambda: listener.RECEIVED, what="ServiceRecordAdded")
    [(kind, data)] = listener.RECEIVED
    assert kind == "ServiceRecordAdded" and data["record_id"] == added["record_id"] and data["vin"] == VIN
    assert data["operator_id"] == "op-1" and data["odometer_km"] == 1234
    assert data["work_codes"] == ["BRAKE_FLUID", "DIAGNOSIS"] and data["performed_on"] == now.date()
