"""Events survive a relay killed at the worst moments, and reach the consumer's handler logic exactly once."""
import json
import uuid

import eventlet
import eventlet.event
import pytest
from kombu import Connection, Exchange
from nameko.testing.services import entrypoint_hook
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from services.identity.models import OutboxMessage, User
from services.identity.service import IdentityService
from services.shared import consumer
from services.shared.outbox import OutboxRelay
from tests.e2e.conftest import registration
from tests.helpers import eventually
from tests.integration import listener

pytestmark = pytest.mark.both_databases  # the relay's claim on a row


class RelayKilled(BaseException):
    """Stands for SIGKILL at a chosen line: nothing after it runs, nothing catches it."""


@pytest.fixture
def listener_db(config, tmp_path):
    url = f"sqlite:///{tmp_path / 'listener.sqlite'}"
    listener.create_schema(url)
    config["DATABASE_URLS"]["listener"] = url
    listener.DELIVERIES.clear()
    engine = create_engine(url)
    yield engine
    engine.dispose()


def welcomed(engine):
    with Session(engine) as s:
        return s.scalars(select(listener.WelcomedOperator.operator_id)).all()


def outbox_rows(config):
    engine = create_engine(config["DATABASE_URLS"]["identity"])
    try:
        with Session(engine) as s:
            return s.execute(select(OutboxMessage.event_type, OutboxMessage.published_at)).all()
    finally:
        engine.dispose()


def register(container):
    """A workshop registered through identity's RPC: its operator's id (the answer tells nothing of it, so that
    registering tells nobody whether an address had an account; the database does)."""
    email = f"{uuid.uuid4().hex[:8]}@werkstatt.de"
    with entrypoint_hook(container, "register_operator") as call:
        assert call(registration(email=email, vat_id=None))["sent_to"] == email
    engine = create_engine(container.config["DATABASE_URLS"]["identity"])
    try:
        with Session(engine) as s:
            return s.scalar(select(User.operator_id).where(User.email == email))
    finally:
        engine.dispose()


def crash_relay_at(monkeypatch, method):
    """Make the relay die at `method`: `publish` (committed, not yet sent) or `mark_published` (sent and
    confirmed by the broker, not yet marked). Returns an event that fires when it has died."""
    died = eventlet.event.Event()

    def dying(self, *args):
        self._running = False
        if not died.ready():
            died.send(True)
        raise RelayKilled()
    monkeypatch.setattr(OutboxRelay, method, dying)
    return died


@pytest.mark.parametrize("crash_point", ["publish", "mark_published"])
def test_relay_killed_mid_flight_delivers_to_the_handler_exactly_once(
        container_factory, config, listener_db, monkeypatch, crash_point):
    consumer_container = container_factory(listener.ListenerService, config)
    consumer_container.start()

    # 1. The change commits; the relay dies before publishing, or after publishing but before marking.
    died = crash_relay_at(monkeypatch, crash_point)
    identity = container_factory(IdentityService, config)
    identity.start()
    operator_id = register(identity)
    with eventlet.Timeout(10):
        died.wait()
    identity.kill()
    rows = outbox_rows(config)
    assert sorted(r.event_type for r in rows) == ["OperatorRegistered", "UserJoined"]
    assert all(r.published_at is None for r in rows), "the killed relay marked nothing"

    if crash_point == "publish":
        assert listener.DELIVERIES == [], "nothing was published before the kill"
    else:
        eventually(lambda: len(listener.DELIVERIES) == 1, what="the publish before the kill to arrive")

    # 2. The service comes back: its relay publishes what is still unpublished.
    monkeypatch.undo()
    restarted = container_factory(IdentityService, config)
    restarted.start()
    eventually(lambda: all(r.published_at is not None for r in outbox_rows(config)), what="the outbox to drain")
    eventually(lambda: welcomed(listener_db) == [operator_id], what="the handler to welcome the operator")

    # Delivered once or twice on the wire, handled exactly once.
    eventually(lambda: len(listener.DELIVERIES) == (1 if crash_point == "publish" else 2),
               what="every delivery to arrive")
    assert len(set(listener.DELIVERIES)) == 1
    assert welcomed(listener_db) == [operator_id]
    with Session(listener_db) as s:
        assert s.scalar(select(func.count()).select_from(listener.Processed)) == 1


def test_a_consumer_drops_an_event_that_breaks_its_contract(container_factory, config, listener_db):
    consumer_container = container_factory(listener.ListenerService, config)
    consumer_container.start()
    rejected = consumer.REJECTED.labels("listener", "OperatorRegistered")
    before = rejected._value.get()
    bad = {"id": str(uuid.uuid4()), "source": "/aos/identity", "type": "OperatorRegistered", "specversion": "1.0",
           "time": "2026-11-23T10:00:00+00:00", "data": {"operator_id": "x"}}  # legal_name, country ... missing
    forged = dict(bad, id=str(uuid.uuid4()), source="/aos/shop",
                  data={"operator_id": "x", "legal_name": "X", "country": "DE", "registered_at": bad["time"]})
    with Connection(config["AMQP_URI"]) as conn:
        producer = conn.Producer()
        for body in (bad, forged, "not an object"):
            producer.publish(json.dumps(body), exchange=Exchange("identity.events", type="topic", durable=True),
                             routing_key="OperatorRegistered", content_type="application/json",
                             content_encoding="utf-8")
    eventually(lambda: rejected._value.get() - before == 3, what="three rejections")
    assert listener.DELIVERIES == []
    assert welcomed(listener_db) == []


def test_registration_publishes_operator_registered_and_user_joined(container_factory, config, listener_db):
    container_factory(listener.ListenerService, config).start()
    identity = container_factory(IdentityService, config)
    identity.start()
    operator_id = register(identity)
    eventually(lambda: welcomed(listener_db) == [operator_id], what="OperatorRegistered to arrive")
    rows = outbox_rows(config)
    assert {r.event_type for r in rows} == {"OperatorRegistered", "UserJoined"}
    eventually(lambda: all(r.published_at for r in outbox_rows(config)), what="both to be marked published")
