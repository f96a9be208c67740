"""Each process on the broker as its own user with only what its code needs (deploy/broker.py): the whole system
works so, and whatever a process was not granted the broker itself refuses, whoever holds that process's password:
another service's staff RPC, an RPC only another service makes, an event of a type another service owns, another
service's queue."""
import secrets
from urllib.parse import quote, urlsplit

import pytest
import requests
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Producer, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from deploy import broker
from deploy.processes import PROCESSES
from tests.e2e.conftest import Api, Workshop, buy, credit, staff_token, top_up
from tests.helpers import Mailbox, eventually


@pytest.fixture
def broker_users(request, rabbit_config):
    """A broker user per process on this test's vhost, granted as deploy/broker.py grants: user -> AMQP URI."""
    management = request.config.getoption("RABBIT_API_URI")
    vhost, prefix = rabbit_config["vhost"], rabbit_config["vhost"] + "-"
    given = {user: secrets.token_urlsafe(16) for user in broker.USERS}
    broker.apply(management, vhost, given, prefix=prefix)
    amqp = urlsplit(rabbit_config["AMQP_URI"])
    yield {user: f"amqp://{prefix}{user}:{password}@{amqp.hostname}:{amqp.port}/{quote(vhost, safe='')}"
           for user, password in given.items()}
    parts = urlsplit(management)
    for user in given:
        requests.delete(f"{parts.scheme}://{parts.hostname}:{parts.port}/api/users/{quote(prefix + user, safe='')}",
                        auth=(parts.username, parts.password), timeout=30)


@pytest.mark.parametrize("database_urls", ["sqlite"], indirect=True)
def test_every_process_as_its_own_broker_user_runs_the_system_and_is_refused_the_rest(
        container_factory, config, broker_users):
    for process in PROCESSES:
        container_factory(process.service_class(), dict(config, AMQP_URI=broker_users[process.name])).start()
    api = Api(f"http://{config['WEB_SERVER_ADDRESS']}", Mailbox(config["MAIL_FOLDER"]))

    eventually(lambda: api("GET", "/ready").status_code == 200, what="the gateway to ping every service")
    # the workshop's day works: identity's event reaches billing, the gateway's calls are answered, billing's
    # AccessPurchased reaches the services that follow access
    workshop = Workshop(api, vat_id=None)
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "air-1h").status_code == 201 and credit(api, workshop) == 5000 - 1071
    assert api("GET", "/api/v1/air/search", workshop.token, params={"q": "brake"}).status_code == 200
    with ClusterRpcProxy({"AMQP_URI": broker_users["operations"]}, timeout=30) as console:
        assert console.billing.check_books(staff_token(config))["balanced"] is True

    # what a process was not granted, the broker refuses
    for user, exchange, routing_key in (
            ("gateway", "nameko-rpc", "billing.check_books"),  # a staff RPC
            ("gateway", "nameko-rpc", "billing.claim_vin_session"),  # only programming claims a VIN pass
            ("shop", "nameko-rpc", "billing.claim_vin_session"),
            ("operations", "nameko-rpc", "billing.purchase"),  # staff act on staff RPCs, not as a workshop
            ("gateway", "billing.events", "AccessPurchased"),  # only billing publishes billing's events
            ("shop", "billing.events", "PaymentCaptured"),
            ("billing", "billing.events", "OperatorRegistered"),  # on its own exchange only its own types
            ("partner", "billing.events", "AccessPurchased")):
        with pytest.raises(AccessRefused):
            publish(broker_users[user], exchange, routing_key)
    publish(broker_users["billing"], "billing.events", "CreditIssued")  # its own type on its own exchange: taken
    for user, queue in (("shop", "rpc-billing"), ("gateway", "evt-billing-AccessPurchased--air.on_access_purchased"),
                        ("partner", "rpc-identity")):
        with pytest.raises(AccessRefused):  # nobody takes another's calls or events off its queue
            consume(broker_users[user], queue)

    # a partner system subscribes to the events through a queue of its own
    with Connection(broker_users["partner"]) as conn:
        bound = Queue("partner-erp", Exchange("billing.events", type="topic", passive=True),
                      routing_key="AccessPurchased", channel=conn.channel())
        bound.declare()
        assert buy(api, workshop, "air-1h").status_code == 201
        eventually(lambda: bound.get() is not None, what="the partner to hear AccessPurchased")


def publish(uri, exchange, routing_key):
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.channel()).publish({"forged": True}, exchange=exchange, routing_key=routing_key)


def consume(uri, queue):
    with Connection(uri) as conn:
        conn.channel().basic_consume(queue, callback=lambda message: None)
        conn.drain_events(timeout=1)


def test_the_definitions_file_grants_the_same_and_its_users_sign_in_with_their_passwords(request, rabbit_config):
    """What `python -m deploy.broker definitions` prints, loaded by RabbitMQ (load_definitions, or the management
    API as here): the users sign in with their passwords, hold the same grants, and a wrong password is refused."""
    management = urlsplit(request.config.getoption("RABBIT_API_URI"))
    base, auth = f"{management.scheme}://{management.hostname}:{management.port}/api", (management.username,
                                                                                         management.password)
    vhost, prefix = rabbit_config["vhost"], rabbit_config["vhost"] + "-def-"
    given = {user: secrets.token_urlsafe(16) for user in broker.USERS}
    document = broker.definitions(vhost, given)
    for entry in document["users"]:
        entry["name"] = prefix + entry["name"]
    for entry in document["permissions"] + document["topic_permissions"]:
        entry["user"] = prefix + entry["user"]
    assert requests.post(f"{base}/definitions", json=document, auth=auth, timeout=30).status_code in (201, 204)
    try:
        with Connection(rabbit_config["AMQP_URI"]) as admin:  # billing's exchange, as billing's outbox declares it
            Exchange("billing.events", type="topic", durable=True)(admin.channel()).declare()
        amqp = urlsplit(rabbit_config["AMQP_URI"])
        uri = f"amqp://{prefix}billing:{{}}@{amqp.hostname}:{amqp.port}/{quote(vhost, safe='')}"
        publish(uri.format(given["billing"]), "billing.events", "CreditIssued")
        with pytest.raises(AccessRefused):
            publish(uri.format(given["billing"]), "billing.events", "OperatorRegistered")
        with pytest.raises(AccessRefused):
            Connection(uri.format("wrong-password")).connect()
    finally:
        for user in given:
            requests.delete(f"{base}/users/{quote(prefix + user, safe='')}", auth=auth, timeout=30)
