"""With AOS_QUORUM_QUEUES on, every durable queue the services share with their replicas is a quorum queue (the
broker says so), queues of one consumer stay classic, and the system works as before: a purchase is paid,
recorded and heard by the services that follow it."""
import pytest
import requests

from gateway.service import GatewayService
from services.air.service import AirService
from services.audit.service import AuditService
from services.billing.service import BillingService
from services.identity.service import IdentityService
from services.programming.service import ProgrammingService
from services.shop.service import ShopService
from services.vehicle_data.service import VehicleDataService
from tests.e2e.conftest import Workshop, buy, top_up

SERVICES = (IdentityService, BillingService, VehicleDataService, ShopService, AirService, ProgrammingService,
            GatewayService, AuditService)
from tests.helpers import eventually


@pytest.fixture
def system(runner_factory, config):
    """The whole system as tests/e2e/conftest.py starts it, with quorum queues on."""
    config["QUORUM_QUEUES"] = True
    runner_factory(config, *SERVICES).start()
    return config


def queues(config):
    vhost = config["AMQP_URI"].rsplit("/", 1)[1]
    answer = requests.get(f"http://127.0.0.1:15672/api/queues/{vhost}", auth=("guest", "guest"), timeout=10)
    answer.raise_for_status()
    return {q["name"]: q for q in answer.json()}


def test_every_shared_queue_is_a_quorum_queue_and_a_purchase_goes_through(api, system):
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 20000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "prog-30").status_code == 201
    eventually(lambda: api("GET", "/api/v1/entitlements", workshop.token).json()["programming_seconds"] == 1800,
               what="the purchase's seconds to be booked")
    found = queues(system)
    shared = {name: q for name, q in found.items() if name.startswith(("rpc-", "evt-")) and q["durable"]
              and not q["auto_delete"] and not q["exclusive"]}
    assert {"rpc-billing", "rpc-identity", "rpc-programming", "rpc-programming-agents", "rpc-audit"} <= set(shared)
    assert "evt-billing-AccessPurchased--programming.on_access_purchased" in shared
    assert {name: q["type"] for name, q in shared.items()} == {name: "quorum" for name in shared}
    single = {name: q["type"] for name, q in found.items() if name not in shared}
    assert single and set(single.values()) == {"classic"}  # replies and broadcasts: one consumer each
